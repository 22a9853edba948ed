"""Search over one collection: dense, lexical (BM25) or hybrid by reciprocal-rank fusion.

    hits = Retriever(index).search("how many vacation days?", k=5, mode="hybrid")

Hybrid fuses the dense and lexical rankings with RRF (score = sum of 1 / (60 + rank)), which
needs no score calibration between the two. An optional cross-encoder (sentence-transformers
``CrossEncoder``, any local model the user configures) re-orders the fused candidates.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Literal

from ingestion.errors import ConfigError, ModelError
from rag.index import Index

Mode = Literal["dense", "lexical", "hybrid"]
MODES: tuple[str, ...] = ("dense", "lexical", "hybrid")
RRF_K = 60


@dataclass(frozen=True)
class Hit:
    source: str
    chunk_id: str
    score: float
    text: str
    heading: str = ""
    page: int | None = None
    position: int = 0
    dense_rank: int | None = None
    lexical_rank: int | None = None

    def as_json(self) -> dict:
        return asdict(self)


@dataclass
class SearchTimings:
    embed_s: float = 0.0
    search_s: float = 0.0
    rerank_s: float = 0.0


@dataclass
class SearchResult:
    query: str
    mode: str
    hits: list[Hit]
    timings: SearchTimings = field(default_factory=SearchTimings)


def rrf(rankings: list[list[str]], k: int = RRF_K) -> dict[str, float]:
    scores: dict[str, float] = {}
    for ranking in rankings:
        for rank, cid in enumerate(ranking, start=1):
            scores[cid] = scores.get(cid, 0.0) + 1.0 / (k + rank)
    return scores


class Retriever:
    def __init__(self, index: Index, *, candidates: int = 50, reranker: str | None = None) -> None:
        if candidates < 1:
            raise ConfigError(f"candidates={candidates} must be >= 1", fix="use a positive candidate depth")
        self.index = index
        self.candidates = candidates
        self.reranker_name = reranker
        self._reranker = None

    def search(self, query: str, *, k: int = 5, mode: str = "hybrid") -> SearchResult:
        if mode not in MODES:
            raise ConfigError(f"--mode '{mode}' is not a search mode", fix="use dense, lexical or hybrid")
        if k < 1:
            raise ConfigError(f"-k {k} must be at least 1", fix="pass -k 1 or more")
        timings = SearchTimings()
        depth = max(k, self.candidates) if (mode == "hybrid" or self.reranker_name) else k
        dense: list[tuple[str, float]] = []
        lexical: list[tuple[str, float]] = []
        if mode in ("dense", "hybrid"):
            t0 = time.perf_counter()
            vector = self.index.embedder.embed_query(query)
            timings.embed_s = time.perf_counter() - t0
            t0 = time.perf_counter()
            dense = self.index.dense(vector, depth)
            timings.search_s += time.perf_counter() - t0
        t0 = time.perf_counter()
        if mode in ("lexical", "hybrid"):
            lexical = self.index.lexical.search(query, collection=self.index.collection, k=depth)
        if mode == "dense":
            scored = dense
        elif mode == "lexical":
            scored = lexical
        else:
            fused = rrf([[c for c, _ in dense], [c for c, _ in lexical]])
            scored = sorted(fused.items(), key=lambda kv: kv[1], reverse=True)
        ranks_d = {c: r for r, (c, _) in enumerate(dense, start=1)}
        ranks_l = {c: r for r, (c, _) in enumerate(lexical, start=1)}
        top = scored[: depth if self.reranker_name else k]
        stored = self.index.records.get_chunks([c for c, _ in top])
        hits = [
            Hit(s.source, cid, round(score, 6), s.text, s.heading, s.page, s.position, ranks_d.get(cid), ranks_l.get(cid))
            for cid, score in top
            if (s := stored.get(cid)) is not None  # a vector without a record is never shown
        ]
        timings.search_s += time.perf_counter() - t0
        if self.reranker_name and hits:
            t0 = time.perf_counter()
            hits = self._rerank(query, hits)[:k]
            timings.rerank_s = time.perf_counter() - t0
        return SearchResult(query, mode, hits[:k], timings)

    def _rerank(self, query: str, hits: list[Hit]) -> list[Hit]:
        if self._reranker is None:
            from sentence_transformers import CrossEncoder

            try:
                self._reranker = CrossEncoder(self.reranker_name, device="cpu", trust_remote_code=False)
            except Exception as exc:  # noqa: BLE001
                raise ModelError(
                    f"cannot load reranker '{self.reranker_name}': {type(exc).__name__}",
                    fix="pass a local cross-encoder path with --rerank, or drop --rerank",
                ) from exc
        scores = self._reranker.predict([(query, h.text) for h in hits], show_progress_bar=False)
        order = sorted(range(len(hits)), key=lambda i: float(scores[i]), reverse=True)
        return [Hit(**{**asdict(hits[i]), "score": round(float(scores[i]), 6)}) for i in order]
