"""The ``hybrid`` route: naive RAG (``rag.naive.NaiveRAG``) with the fine-tuned model as generator.

Retrieval, context selection and citations are the naive route's; only the model that writes the
answer differs (the adapter ``--adapter`` names, or the newest; see ``assistant.routes.finetuned``
for how it is served). Soudani et al. 2024 found fine-tuning + RAG the best of the three for
small models, and a dataset built with ``--raft`` trains the adapter on exactly this prompt shape.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Callable

from assistant.routes import RouteContext, RouteResult
from assistant.routes.finetuned import is_stale, load_finetuned, profile_base, resolve_adapter
from assistant.routes.naive import judge_of, open_retriever, settings_of, to_result
from ingestion.errors import ConfigError
from rag.naive import NaiveRAG


class HybridRoute:
    name = "hybrid"

    def __init__(self, context: RouteContext) -> None:
        if context.model:
            raise ConfigError("--model does not apply to the hybrid route", fix="pick the fine-tuned model with --adapter NAME")
        self.home = context.home
        entry = resolve_adapter(context.home, context.adapter, base=profile_base(context))  # before opening the index: the cheaper failure first
        self.adapter = entry["name"]
        model, serving = load_finetuned(context.home, entry, context.weights)
        self.reason = f"retrieve, then the fine-tuned adapter {self.adapter} answers from the best sentences ({serving})"
        self.retriever = open_retriever(context)
        self.rag = NaiveRAG(model=model, retriever=self.retriever, settings=settings_of(context), options=context.options,
                            judge=judge_of(context))

    def answer(self, question: str, *, on_token: Callable[[str], None] | None = None) -> RouteResult:
        result = to_result(self.name, self.reason, self.rag.answer(question, on_token=on_token))
        return replace(result, adapter=self.adapter, stale=is_stale(self.home, self.adapter))

    def close(self) -> None:
        self.retriever.index.close()
