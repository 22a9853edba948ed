"""One collection's index: the embedder, a vector store and the record database, kept in step.

``Index`` is what the ingestion pipeline writes into (it implements ``ingestion.pipeline``'s
``VectorSink``: embed and upsert chunks, remove ids, flush) and what retrieval reads from.
Shapes: ``Index.open(home, collection="default", store="chroma")``; ``store`` is ``chroma``,
``faiss`` or ``http://HOST:PORT`` (a Chroma server). A collection remembers its store and
embedder; opening it with different ones is an error rather than a silent mix of vectors.
"""

from __future__ import annotations

import re
from typing import Sequence

import numpy as np

from ingestion.chunking import Chunk
from ingestion.errors import ConfigError, StoreError
from ingestion.home import Home
from ingestion.records import RecordManager
from rag.embeddings import DEFAULT_EMBEDDER, Embedder
from rag.lexical import LexicalIndex
from rag.stores.base import VectorStore

_COLLECTION = re.compile(r"^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$")
DEFAULT_COLLECTION = "default"


def validate_collection(name: str) -> str:
    if not _COLLECTION.match(name) or ".." in name:
        raise ConfigError(
            f"--collection '{name}' is not a valid name",
            fix="use 3-63 characters: lowercase letters, digits, '.', '_' or '-', starting and ending with a letter or digit",
        )
    return name


def validate_store(store: str) -> str:
    if store in ("chroma", "faiss") or store.startswith(("http://", "https://")):
        return store
    raise ConfigError(f"--store '{store}' is not a known store", fix="use chroma, faiss or http://HOST:PORT")


def embed_text(chunk: Chunk) -> str:
    """What gets embedded: the chunk, prefixed by its heading path when the text lacks it."""
    last = chunk.heading.rsplit(" > ", 1)[-1] if chunk.heading else ""
    if last and not chunk.text.startswith(last):
        return f"{chunk.heading}\n{chunk.text}"
    return chunk.text


class Index:
    def __init__(self, *, home: Home, records: RecordManager, collection: str, store: VectorStore, embedder: Embedder) -> None:
        self.home = home
        self.records = records
        self.collection = collection
        self.store = store
        self.embedder = embedder
        self.lexical = LexicalIndex(records.connection)
        self.embedded = 0  # chunks embedded by this process (reported by ingest)

    @classmethod
    def open(
        cls,
        home: Home,
        *,
        collection: str = DEFAULT_COLLECTION,
        store: str | None = None,
        embedder: Embedder | None = None,
        create: bool = True,
    ) -> "Index":
        validate_collection(collection)
        if store is not None:
            validate_store(store)
        records = RecordManager(home.records_db)
        info = records.collection(collection)
        if info is None and not create:
            records.close()
            raise StoreError(f"collection '{collection}' does not exist", fix="run `ragft ingest PATH` first")
        store_kind = validate_store(store or (info.store if info else "chroma"))
        embedder = embedder or Embedder(model=info.embed_model if info else DEFAULT_EMBEDDER)
        dim = info.dim if info and info.embed_model == embedder.name else embedder.dim
        try:
            # Check before opening the store, record after: a failed open leaves no trace.
            records.check_collection(collection, store=store_kind, embed_model=embedder.name, dim=dim)
            vector_store = open_store(home, store_kind, collection, dim)
            records.ensure_collection(collection, store=store_kind, embed_model=embedder.name, dim=dim)
        except BaseException:
            records.close()
            raise
        index = cls(home=home, records=records, collection=collection, store=vector_store, embedder=embedder)
        if vector_store.kind == "faiss" and vector_store.ids() != records.chunk_ids(collection):
            index.reconcile()  # FAISS writes are buffered: an interrupted run leaves it behind the records
        return index

    # -- VectorSink ------------------------------------------------------------------------
    def add(self, chunks: Sequence[Chunk]) -> None:
        if not chunks:
            return
        vectors = self.embedder.embed_documents([embed_text(c) for c in chunks])
        self.store.upsert([c.chunk_id for c in chunks], vectors, [c.source for c in chunks])
        self.embedded += len(chunks)

    def remove(self, ids: Sequence[str]) -> None:
        if ids:
            self.store.delete(list(ids))

    def flush(self) -> None:
        self.store.flush()

    # -- consistency -------------------------------------------------------------------------
    def reconcile(self) -> dict[str, int]:
        """Make the vector store hold exactly the recorded chunks: re-embed missing, drop extra."""
        expected = self.records.chunk_ids(self.collection)
        present = self.store.ids()
        extra = sorted(present - expected)
        missing = sorted(expected - present)
        self.remove(extra)
        if missing:
            stored = self.records.get_chunks(missing)
            self.add(
                [
                    Chunk(s.chunk_id, s.source, s.position, s.heading, s.page, s.text, "", s.version)
                    for s in stored.values()
                ]
            )
        self.flush()
        return {"removed": len(extra), "reembedded": len(missing)}

    def dense(self, vector: np.ndarray, k: int) -> list[tuple[str, float]]:
        return self.store.query(vector, k)

    def close(self) -> None:
        self.flush()
        self.records.close()


def open_store(home: Home, kind: str, collection: str, dim: int) -> VectorStore:
    if kind == "faiss":
        from rag.stores.faiss_store import FaissStore

        return FaissStore(directory=home.faiss_dir, collection=collection, dim=dim)
    from rag.stores.chroma_store import ChromaStore

    location = kind if kind.startswith(("http://", "https://")) else home.chroma_dir
    return ChromaStore(location=location, collection=collection)
