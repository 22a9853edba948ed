"""Answer routes (base, naive, agentic, finetuned, hybrid, ...) behind one small protocol.

A route turns a question into a ``RouteResult`` (the object ``ragft ask --json`` prints). Routes
register here by name as "module:factory" strings, imported only when used, so listing them for
``--route`` costs nothing. A factory takes a ``RouteContext`` and returns a ``Route``; it loads
its models once, and ``answer`` may then be called for many questions.
"""

from __future__ import annotations

import importlib
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Protocol

from ingestion.errors import ConfigError
from ingestion.home import Home
from rag.chat_model import GenerationOptions

# name -> "module:factory". Later routes add a line here.
ROUTES: dict[str, str] = {
    "auto": "assistant.routes.auto:AutoRoute",
    "base": "assistant.routes.base:BaseRoute",
    "naive": "assistant.routes.naive:NaiveRoute",
    "agentic": "assistant.routes.agentic:AgenticRoute",
    "finetuned": "assistant.routes.finetuned:FinetunedRoute",
    "hybrid": "assistant.routes.hybrid:HybridRoute",
}


@dataclass(frozen=True, kw_only=True)
class RouteContext:
    home: Home
    model: str | None = None
    """``--model``: a registry name, path, hub id or openai:MODEL@URL (None: the route's default)."""
    options: GenerationOptions = field(default_factory=GenerationOptions)
    collection: str = "default"
    """``--collection``: the index the retrieval routes read."""
    k: int | None = None
    """``-k``: chunks retrieved per query (None: the route's default)."""
    judge: str | None = None
    """``--judge``: a stronger model for the RAG routes' relevance and grounding votes."""
    adapter: str | None = None
    """``--adapter``: a registered adapter for the finetuned and hybrid routes (None: the newest)."""
    weights: str | None = None
    """finetuned/hybrid: the precision that serves the adapter (``assistant.routes.finetuned.WEIGHTS``; None: the fastest that passed its check)."""
    budget_s: float | None = None
    """``--budget-s``: the auto route's latency budget in seconds (None: no budget)."""
    profile: str | None = None
    """``--profile`` (``assistant.profiles``): the base model of every route (None: $RAGFT_PROFILE, else tiny).
    A profile that was asked for also restricts the finetuned and hybrid routes to adapters trained on it."""


@dataclass(frozen=True, kw_only=True)
class RouteResult:
    route: str
    reason: str  # why this route answered (the router's reason, or the user's --route)
    answer: str
    abstained: bool = False  # the route declined to answer
    citations: list[dict[str, str]] = field(default_factory=list)  # [{"source", "chunk_id", "span"}]
    scores: dict[str, float] = field(default_factory=dict)
    latency_s: float = 0.0
    tokens: dict[str, int] = field(default_factory=dict)  # {"prompt", "completion"}
    model: str = ""
    steps: list[dict[str, Any]] = field(default_factory=list)  # what the route did, with timings
    adapter: str | None = None  # the fine-tuned adapter that answered (finetuned / hybrid routes)
    stale: bool = False  # that adapter's training documents changed in the index since it was trained

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class Route(Protocol):
    name: str

    def answer(self, question: str, *, on_token: Callable[[str], None] | None = None) -> RouteResult: ...


def route_names() -> list[str]:
    return list(ROUTES)


def build_route(name: str, context: RouteContext, *, scored: bool = True) -> Route:
    """The loaded route; ``scored`` (default): its answers carry the answer scores (``assistant.scoring``)."""
    if name not in ROUTES:
        raise ConfigError(f"--route {name!r} is unknown", fix=f"use one of {', '.join(ROUTES)}")
    module, _, factory = ROUTES[name].partition(":")
    route = getattr(importlib.import_module(module), factory)(context)
    if not scored:
        return route
    from assistant.routes.scored import ScoredRoute

    judge = None
    if context.judge:  # --judge: the answer scores are computed by asking it (assistant.scoring)
        from assistant.llm import get_model
        from rag.checks import LLMJudge

        judge = LLMJudge(get_model(context.judge, home=context.home))
    return ScoredRoute(route, context.home, judge)
