"""The small interface every vector store implements.

Stores hold only vectors keyed by chunk id (plus the source, for filtering); chunk text and
metadata live in the record database, which is the source of truth. Similarities are cosine
(vectors are normalised), higher is better.
"""

from __future__ import annotations

from typing import Protocol, Sequence

import numpy as np


class VectorStore(Protocol):
    kind: str

    def upsert(self, ids: Sequence[str], vectors: np.ndarray, sources: Sequence[str]) -> None: ...

    def delete(self, ids: Sequence[str]) -> None: ...

    def query(self, vector: np.ndarray, k: int) -> list[tuple[str, float]]: ...

    def ids(self) -> set[str]: ...

    def count(self) -> int: ...

    def flush(self) -> None:
        """Make writes durable (a no-op where every write already is)."""
        ...

    def drop(self) -> None:
        """Delete the whole collection from the store."""
        ...
