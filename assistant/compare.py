"""One question, several routes, answered side by side: the first form of the RAG-vs-FT A/B.

    routes = build_routes(["base", "naive"], context)
    for outcome in compare("What does the Team plan cost?", routes):
        print(outcome.route, outcome.result.answer if outcome.ok else outcome.error)

Routes answer in parallel threads (``threading``, standard library): llama.cpp and torch release
the GIL while they compute, and each loaded model holds its own lock, so routes that share one
model take turns on it while retrieval and the other models run. A route that fails does not
sink the others: its ``Outcome`` carries the one-line error instead of a result.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

from assistant.routes import ROUTES, Route, RouteContext, RouteResult, build_route
from ingestion.errors import ConfigError, RagftError

DEFAULT_ROUTES = ("naive", "agentic")

# (route name, text piece) for every streamed piece, from the route's thread
OnToken = Callable[[str, str], None]


@dataclass(frozen=True)
class Outcome:
    route: str
    result: RouteResult | None = None
    error: str | None = None  # one line with the fix, when the route failed

    @property
    def ok(self) -> bool:
        return self.result is not None

    def to_dict(self) -> dict[str, Any]:
        return self.result.to_dict() if self.result is not None else {"route": self.route, "error": self.error}


def parse_routes(value: str | Sequence[str] | None, *, flag: str = "--routes") -> list[str]:
    """``"naive,agentic"`` or a list -> validated, de-duplicated route names (at least one)."""
    if value is None:
        names = [r for r in DEFAULT_ROUTES if r in ROUTES]
    elif isinstance(value, str):
        names = [n.strip() for n in value.split(",") if n.strip()]
    else:
        names = [str(n).strip() for n in value if str(n).strip()]
    names = list(dict.fromkeys(names))
    if not names:
        raise ConfigError(f"{flag} names no route", fix=f"pass e.g. {flag} naive,base (routes: {', '.join(ROUTES)})")
    unknown = [n for n in names if n not in ROUTES]
    if unknown:
        raise ConfigError(f"{flag}: unknown route {unknown[0]!r}", fix=f"use some of {', '.join(ROUTES)}")
    return names


def build_routes(names: Sequence[str], context: RouteContext) -> dict[str, Route | RagftError]:
    """Load each route once; a route that cannot load maps to its error (the others still run)."""
    routes: dict[str, Route | RagftError] = {}
    for name in names:
        try:
            routes[name] = build_route(name, context)
        except RagftError as err:
            routes[name] = err
    return routes


def compare(question: str, routes: Mapping[str, Route | RagftError], *, on_token: OnToken | None = None,
            parallel: bool = True) -> list[Outcome]:
    """Ask every route ``question``; outcomes come back in the order of ``routes``."""
    if not question or not question.strip():
        raise ConfigError("the question is empty", fix="pass a question")
    outcomes: dict[str, Outcome] = {}

    def ask(name: str, route: Route | RagftError) -> None:
        if isinstance(route, RagftError):
            outcomes[name] = Outcome(name, error=route.one_line())
            return
        stream = (lambda piece: on_token(name, piece)) if on_token else None
        try:
            outcomes[name] = Outcome(name, result=route.answer(question, on_token=stream))
        except RagftError as err:
            outcomes[name] = Outcome(name, error=err.one_line())
        except Exception as exc:  # a thread must report, not vanish: the error is shown next to the others
            outcomes[name] = Outcome(name, error=f"route {name} failed: {type(exc).__name__}: {exc}")

    if parallel and len(routes) > 1:
        threads = [threading.Thread(target=ask, args=item, name=f"compare-{item[0]}", daemon=True) for item in routes.items()]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    else:
        for item in routes.items():
            ask(*item)
    return [outcomes[name] for name in routes]
