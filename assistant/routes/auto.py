"""The ``auto`` route: read the signals, let ``assistant.router`` pick a route, answer with it.

    route = build_route("auto", RouteContext(home=home))
    result = route.answer("How many days of vacation do employees get?")
    result.route, result.reason   # "auto", "chose naive: confident retrieval (0.71 >= 0.55): naive answers ..."
    result.steps[0]               # {"step": "router", "chosen", "reason", "signals", "seconds"}

The signals cost one retrieval and the calibrated gate (``NaiveRAG.assess``, no model call) plus
a registry read for the adapter's lineage; the chosen route then runs as it would on its own (a
RAG route retrieves again: simpler than threading the hits through, and retrieval is the cheap
part). Routes other than naive load on first use and stay loaded; a route that cannot load (no
adapter, say) is taken out of the choice, and the decision is made again without it.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Callable

from assistant.profiles import asked_for
from assistant.router import Decision, Signals, decide
from assistant.routes import Route, RouteContext, RouteResult, build_route
from assistant.routes.finetuned import profile_base, resolve_adapter
from finetune.recall import knowledge
from ingestion.errors import RagftError
from rag.agentic.nodes import decompose


class AutoRoute:
    name = "auto"

    def __init__(self, context: RouteContext) -> None:
        self.context, self.budget_s = context, context.budget_s
        self.routes: dict[str, Route] = {}
        self.unavailable: dict[str, RagftError] = {}
        self.naive = self._load("naive")  # None when the collection has no index

    def _load(self, name: str) -> Route | None:
        if name in self.routes:
            return self.routes[name]
        if name in self.unavailable:
            return None
        try:
            self.routes[name] = build_route(name, self.context, scored=False)  # the outer wrapper scores
        except RagftError as err:
            self.unavailable[name] = err
            return None
        return self.routes[name]

    def _adapter(self) -> dict | None:
        if "finetuned" in self.unavailable and "hybrid" in self.unavailable:
            return None
        try:
            base = profile_base(self.context) if asked_for(self.context) else None
            return resolve_adapter(self.context.home, self.context.adapter, base=base)
        except RagftError:
            return None

    def signals(self, question: str) -> tuple[Signals, float]:
        """The question's signals, and the seconds their retrieval took."""
        adapter = self._adapter()
        lineage = {}
        if adapter:  # a described registry entry: its staleness is already read
            recall, on = knowledge((adapter.get("metrics") or {}).get("recall"))
            lineage = {"adapter": adapter["name"],
                       "adapter_sources": [s["source"] for s in adapter.get("sources") or []],
                       "changed_sources": [s["source"] for s in adapter.get("stale_sources") or []],
                       "adapter_recall": recall, "adapter_recall_on": on}
        if self.naive is None:
            return Signals(indexed=False, budget_s=self.budget_s, **lineage), 0.0
        start = time.perf_counter()
        ranked, conf = self.naive.rag.assess(question)
        retrieval_s = time.perf_counter() - start
        top = list(dict.fromkeys(s.source for s in ranked[:5]))
        other = next((s.score for s in ranked if s.source != ranked[0].source), 0.0)
        return Signals(confidence=round(conf.score, 4), threshold=conf.threshold,
                       margin=round(ranked[0].score - other, 4) if ranked else None, top_sources=top,
                       multi_part=bool(decompose(question)), budget_s=self.budget_s, **lineage), retrieval_s

    def decide(self, question: str) -> Decision:
        signals, retrieval_s = self.signals(question)
        decision = decide(signals)
        while self._load(decision.route) is None:  # e.g. the adapter's export failed to load
            if decision.route in ("finetuned", "hybrid"):
                signals = dataclasses.replace(signals, adapter=None, adapter_sources=[], changed_sources=[])
            elif decision.route == "agentic":
                signals = dataclasses.replace(signals, budget_s=0.0)
            else:  # naive or base cannot load: nothing to fall back on; the user needs that error as it is
                raise self.unavailable[decision.route]
            decision = decide(signals)
        return dataclasses.replace(decision, retrieval_s=retrieval_s)

    def answer(self, question: str, *, on_token: Callable[[str], None] | None = None) -> RouteResult:
        start = time.perf_counter()
        decision = self.decide(question)
        step = decision.to_step(time.perf_counter() - start)
        result = self.routes[decision.route].answer(question, on_token=on_token)
        # ``route`` stays "auto": the contestant in comparisons and votes; the chosen one is in reason and steps
        return dataclasses.replace(result, route=self.name, reason=f"chose {decision.route}: {decision.reason}",
                                   steps=[step, *result.steps],
                                   latency_s=round(time.perf_counter() - start, 3))

    def close(self) -> None:
        for route in self.routes.values():
            if hasattr(route, "close"):
                route.close()
