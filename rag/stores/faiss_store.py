"""FAISS as the vector store: an exact inner-product index persisted in one file.

faiss-cpu gives a fast exhaustive search (``IndexFlatIP`` behind ``IndexIDMap2`` so vectors can
be removed by id). Chunk ids map to 60-bit integers; the index and the id list are saved together
in one ``.npz`` written to a temporary file and renamed, so a crash leaves the previous file
whole. Writes are buffered in memory until ``flush()``; the caller reconciles the store with
the record database after an interrupted run.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

import numpy as np

from ingestion.errors import StoreError


def int_id(chunk_id: str) -> int:
    return int(chunk_id[2:17], 16)  # "c_" + hex digest; 15 hex digits = 60 bits, always positive


class FaissStore:
    kind = "faiss"

    def __init__(self, *, directory: Path, collection: str, dim: int) -> None:
        import faiss

        self._faiss = faiss
        self.path = Path(directory) / f"{collection}.npz"
        self.dim = dim
        self._names: dict[int, str] = {}
        self._dirty = False
        if self.path.exists():
            try:
                with np.load(self.path, allow_pickle=False) as data:
                    self._index = faiss.deserialize_index(data["index"])
                    self._names = {int_id(n): str(n) for n in data["ids"]}
            except Exception as exc:  # noqa: BLE001
                raise StoreError(
                    f"FAISS index {self.path} is corrupt: {type(exc).__name__}",
                    fix="run `ragft doctor --repair` to rebuild it from the records",
                ) from exc
            if self._index.d != dim:
                raise StoreError(f"FAISS index {self.path} has dim {self._index.d}, expected {dim}", fix="re-ingest into a new --collection")
        else:
            self._index = faiss.IndexIDMap2(faiss.IndexFlatIP(dim))

    def upsert(self, ids: Sequence[str], vectors: np.ndarray, sources: Sequence[str]) -> None:
        if not len(ids):
            return
        keys = np.fromiter((int_id(c) for c in ids), dtype=np.int64, count=len(ids))
        self._index.remove_ids(keys)  # upsert = replace
        self._index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), keys)
        self._names.update(zip(keys.tolist(), ids))
        self._dirty = True

    def delete(self, ids: Sequence[str]) -> None:
        if not len(ids):
            return
        keys = np.fromiter((int_id(c) for c in ids), dtype=np.int64, count=len(ids))
        self._index.remove_ids(keys)
        for key in keys.tolist():
            self._names.pop(key, None)
        self._dirty = True

    def query(self, vector: np.ndarray, k: int) -> list[tuple[str, float]]:
        if k <= 0 or self._index.ntotal == 0:
            return []
        # One query vector gains nothing from OpenMP threads: faiss-cpu 1.15 splits the scan and
        # spends ~5x the CPU doing it (8.7 ms single-threaded vs 49 ms with 2 threads at 100k
        # vectors on 2 shared cores; benchmarks/RESULTS.md). omp_set_num_threads sets the calling
        # thread's own setting, and the previous value comes back after the search.
        threads = self._faiss.omp_get_max_threads()
        self._faiss.omp_set_num_threads(1)
        try:
            scores, keys = self._index.search(np.asarray(vector, dtype=np.float32).reshape(1, -1), k)
        finally:
            self._faiss.omp_set_num_threads(threads)
        return [(self._names[key], float(s)) for s, key in zip(scores[0], keys[0]) if key >= 0 and key in self._names]

    def ids(self) -> set[str]:
        return set(self._names.values())

    def count(self) -> int:
        return int(self._index.ntotal)

    def flush(self) -> None:
        if not self._dirty:
            return
        tmp = self.path.with_suffix(".tmp.npz")
        with open(tmp, "wb") as fh:
            np.savez(fh, index=self._faiss.serialize_index(self._index), ids=np.array(list(self._names.values()), dtype=str))
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.path)
        self._dirty = False

    def drop(self) -> None:
        self.path.unlink(missing_ok=True)
        self._index = self._faiss.IndexIDMap2(self._faiss.IndexFlatIP(self.dim))
        self._names.clear()
