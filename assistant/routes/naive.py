"""The ``naive`` route: ``rag.naive.NaiveRAG`` over the collection's index with the chosen model."""

from __future__ import annotations

from typing import Callable

from assistant.calibration import settings_for
from assistant.llm import get_model
from assistant.profiles import chat_model_of
from assistant.routes import RouteContext, RouteResult
from rag.chat_model import ChatModel
from rag.index import Index
from rag.naive import NaiveRAG
from rag.pipeline import RagAnswer, RagSettings
from rag.retrieval import Retriever


def open_retriever(context: RouteContext) -> Retriever:
    """The collection's index (it must exist: ``ragft ingest`` first) behind a hybrid retriever."""
    return Retriever(Index.open(context.home, collection=context.collection, create=False))


def judge_of(context: RouteContext) -> ChatModel | None:
    """``--judge``: the model that votes on relevance and grounding in the RAG routes, if any."""
    return get_model(context.judge, home=context.home) if context.judge else None


def settings_of(context: RouteContext, model: str | None = None) -> RagSettings:
    """The collection's own calibration (gate, context size, and the answer mode measured for
    ``model``), with ``-k`` when given."""
    return settings_for(context.home, context.collection, model, **({"k": context.k} if context.k is not None else {}))


def to_result(route: str, reason: str, out: RagAnswer) -> RouteResult:
    return RouteResult(
        route=route,
        reason=f"{reason}; {out.reason}",
        answer=out.answer,
        abstained=out.abstained,
        citations=[c.as_json() for c in out.citations],
        scores=out.scores,
        latency_s=out.latency_s,
        tokens=out.tokens,
        model=out.model,
        steps=out.steps,
    )


class NaiveRoute:
    name = "naive"
    reason = "retrieve, then answer from the best sentences"

    def __init__(self, context: RouteContext) -> None:
        self.retriever = open_retriever(context)
        model = get_model(chat_model_of(context), home=context.home)
        self.rag = NaiveRAG(model=model, retriever=self.retriever, settings=settings_of(context, model.name), options=context.options,
                            judge=judge_of(context))

    def answer(self, question: str, *, on_token: Callable[[str], None] | None = None) -> RouteResult:
        return to_result(self.name, self.reason, self.rag.answer(question, on_token=on_token))

    def close(self) -> None:
        self.retriever.index.close()
