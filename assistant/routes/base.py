"""The ``base`` route: the bare model, no retrieval — the baseline every comparison needs."""

from __future__ import annotations

import time
from typing import Callable

from assistant.llm import get_model
from assistant.profiles import chat_model_of
from assistant.routes import RouteContext, RouteResult
from ingestion.errors import ConfigError


# A short system prompt: without one SmolLM2's template inserts its own, and greedy answers
# of the 135M model drift (e.g. into French) more often.
SYSTEM_PROMPT = "You are a helpful assistant. Answer the question briefly."


class BaseRoute:
    name = "base"

    def __init__(self, context: RouteContext) -> None:
        self.options = context.options
        self.model = get_model(chat_model_of(context), home=context.home)

    def answer(self, question: str, *, on_token: Callable[[str], None] | None = None) -> RouteResult:
        if not question.strip():
            raise ConfigError("the question is empty", fix="pass a question")
        start = time.perf_counter()
        messages = [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": question.strip()}]
        done = self.model.generate(messages, self.options, on_token=on_token)
        return RouteResult(
            route=self.name,
            reason="bare model without retrieval (baseline)",
            answer=done.text.strip(),
            latency_s=round(time.perf_counter() - start, 3),
            tokens=done.tokens(),
            model=self.model.name,
        )
