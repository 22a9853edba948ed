"""The one call that ingests paths into a collection, shared by the CLI and the UI.

    report = ingest_paths(home, ["docs/"], collection="default", store=None)
"""

from __future__ import annotations

from typing import Sequence

from ingestion.chunking import Chunker, ChunkSettings
from ingestion.home import Home
from ingestion.loaders import DEFAULT_MAX_BYTES
from ingestion.locks import writer_lock
from ingestion.pipeline import IngestReport, Ingestor, Progress
from rag.embeddings import Embedder
from rag.index import DEFAULT_COLLECTION, Index


def _ingestor(index: Index, settings: ChunkSettings, max_bytes: int) -> Ingestor:
    return Ingestor(
        records=index.records,
        sink=index,
        chunker=Chunker(settings=settings, tokenize=index.embedder.tokenize),
        collection=index.collection,
        max_bytes=max_bytes,
    )


def ingest_paths(
    home: Home,
    paths: Sequence[str],
    *,
    collection: str = DEFAULT_COLLECTION,
    store: str | None = None,
    settings: ChunkSettings | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    embedder: Embedder | None = None,
    delete_missing: bool = True,
    progress: Progress | None = None,
) -> IngestReport:
    """Add, update and (for folders) sync ``paths`` into a collection; one writer at a time per data
    dir (``ingestion.locks``): a second ingest waits for the first, saying so on stderr."""
    settings = settings or ChunkSettings()
    with writer_lock(home):
        index = Index.open(home, collection=collection, store=store, embedder=embedder)
        try:
            ingestor = _ingestor(index, settings, max_bytes)
            return ingestor.run(paths, delete_missing=delete_missing, progress=progress)
        finally:
            index.close()


def remove_documents(home: Home, sources: Sequence[str], *, collection: str = DEFAULT_COLLECTION) -> IngestReport:
    """Delete documents (by source path) from a collection's records, lexical index and vectors."""
    with writer_lock(home):
        index = Index.open(home, collection=collection, create=False)
        try:
            return _ingestor(index, ChunkSettings(), DEFAULT_MAX_BYTES).remove(sources)
        finally:
            index.close()
