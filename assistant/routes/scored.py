"""Every route's answers carry the answer scores: a wrapper that ``build_route`` puts around each.

The scores (``assistant.scoring``) need the text of the chunks an answer cites; routes return only
their ids, so the wrapper reads them from the record database (one indexed SELECT, ~1 ms) rather
than widening every route's result. The route's own scores (``confidence``, ``grounded``, ...)
stay; ``tokens_per_s`` joins them, and a ``score`` step records what the scoring cost and who
scored (``offline``, or the ``--judge`` model, which then computes the metrics). An answer
the route declined (``abstained``) is not scored: there is no answer to judge.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any, Callable

from assistant.routes import Route, RouteResult
from assistant.scoring import score_answer
from rag.checks import LLMJudge
from ingestion.home import Home
from ingestion.records import RecordManager


def cited_chunks(home: Home, citations: list[dict[str, Any]]) -> dict[str, str]:
    """``{chunk_id: text}`` of the cited chunks still in the records, in citation order (the app
    shows the same passages under an answer: ``ui.components.passages``)."""
    ids = [c["chunk_id"] for c in citations if c.get("chunk_id")]
    if not ids or not home.records_db.is_file():
        return {}
    records = RecordManager(home.records_db)
    try:
        found = records.get_chunks(ids)
    finally:
        records.close()
    return {i: found[i].text for i in ids if i in found}


def with_scores(result: RouteResult, question: str, home: Home, judge: LLMJudge | None = None) -> RouteResult:
    if result.abstained:
        return result
    start = time.perf_counter()
    scores = dict(result.scores)
    scores.update(score_answer(question, result.answer, list(cited_chunks(home, result.citations).values()), judge=judge).to_dict())
    completion = (result.tokens or {}).get("completion", 0)
    if completion and result.latency_s > 0:
        scores["tokens_per_s"] = round(completion / result.latency_s, 2)
    step = {"step": "score", "by": judge.model.name if judge is not None else "offline",
            "seconds": round(time.perf_counter() - start, 4)}
    return dataclasses.replace(result, scores=scores, steps=[*result.steps, step])


class ScoredRoute:
    """``route`` with scores added to each answer; everything else is the route's own."""

    def __init__(self, route: Route, home: Home, judge: LLMJudge | None = None) -> None:
        self.route, self.home, self.name, self.judge = route, home, route.name, judge

    def answer(self, question: str, *, on_token: Callable[[str], None] | None = None) -> RouteResult:
        return with_scores(self.route.answer(question, on_token=on_token), question, self.home, self.judge)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.route, name)
