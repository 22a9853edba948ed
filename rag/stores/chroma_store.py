"""Chroma as the vector store: embedded ``PersistentClient`` (default) or a ``chroma run`` server.

We always pass our own vectors and ``embedding_function=None``, so Chroma never tries to fetch
its default embedding model. Collections use cosine space; Chroma returns cosine *distance*,
which we turn into similarity (1 - d).
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence
from urllib.parse import urlparse

import numpy as np

from ingestion.errors import ConfigError, StoreError


def _client(location: str | Path):
    import chromadb
    from chromadb.config import Settings

    settings = Settings(anonymized_telemetry=False, allow_reset=False)
    if isinstance(location, str) and location.startswith(("http://", "https://")):
        url = urlparse(location)
        if not url.hostname or not url.port:
            raise ConfigError(f"--store {location} needs a host and a port", fix="use --store http://HOST:PORT")
        try:
            client = chromadb.HttpClient(
                host=url.hostname, port=url.port, ssl=url.scheme == "https", settings=settings
            )
            client.heartbeat()
        except Exception as exc:  # noqa: BLE001 - connection failures vary by transport
            raise StoreError(
                f"cannot reach the Chroma server at {location}: {type(exc).__name__}",
                fix="start it with `chroma run --path DIR --port PORT` or check --store",
            ) from exc
        return client
    return chromadb.PersistentClient(path=str(location), settings=settings)


class ChromaStore:
    kind = "chroma"

    def __init__(self, *, location: str | Path, collection: str) -> None:
        self.location = str(location)
        self._client = _client(location)
        try:
            self._col = self._client.get_or_create_collection(
                name=collection,
                embedding_function=None,
                configuration={"hnsw": {"space": "cosine"}},
            )
        except Exception as exc:  # noqa: BLE001
            raise StoreError(f"cannot open Chroma collection '{collection}': {exc}", fix="check the store") from exc
        self._max_batch = int(getattr(self._client, "get_max_batch_size", lambda: 5000)())

    def upsert(self, ids: Sequence[str], vectors: np.ndarray, sources: Sequence[str]) -> None:
        for start in range(0, len(ids), self._max_batch):
            end = start + self._max_batch
            self._col.upsert(
                ids=list(ids[start:end]),
                embeddings=vectors[start:end],
                metadatas=[{"source": s} for s in sources[start:end]],
            )

    def delete(self, ids: Sequence[str]) -> None:
        ids = list(ids)
        for start in range(0, len(ids), self._max_batch):
            self._col.delete(ids=ids[start : start + self._max_batch])

    def query(self, vector: np.ndarray, k: int) -> list[tuple[str, float]]:
        if k <= 0:
            return []
        res = self._col.query(query_embeddings=[vector], n_results=k, include=["distances"])
        return [(cid, 1.0 - float(d)) for cid, d in zip(res["ids"][0], res["distances"][0])]

    def ids(self) -> set[str]:
        out: set[str] = set()
        offset, page = 0, 10_000
        while True:
            got = self._col.get(include=[], limit=page, offset=offset)["ids"]
            out.update(got)
            if len(got) < page:
                return out
            offset += page

    def count(self) -> int:
        return int(self._col.count())

    def flush(self) -> None:
        return None

    def drop(self) -> None:
        self._client.delete_collection(self._col.name)
