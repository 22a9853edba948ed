"""The ``agentic`` route: ``rag.agentic.graph.AgenticRAG`` (a LangGraph state graph) over the index.

``--judge MODEL`` (any ``--model`` reference, typically ``openai:MODEL@URL``) adds a stronger
model's yes/no votes on chunk relevance and answer grounding; without it the graders are scores
and rules that work with the 135M default model.
"""

from __future__ import annotations

from typing import Callable

from assistant.llm import get_model
from assistant.profiles import chat_model_of
from assistant.routes import RouteContext, RouteResult
from assistant.routes.naive import judge_of, open_retriever, settings_of, to_result
from rag.agentic.graph import AgenticRAG
from rag.agentic.nodes import AgentSettings


class AgenticRoute:
    name = "agentic"
    reason = "plan, retrieve, grade, rewrite when weak, answer, check grounding"

    def __init__(self, context: RouteContext) -> None:
        self.retriever = open_retriever(context)
        model = get_model(chat_model_of(context), home=context.home)
        self.agent = AgenticRAG(model=model, retriever=self.retriever, settings=AgentSettings(rag=settings_of(context, model.name)),
                                options=context.options, judge=judge_of(context))

    def answer(self, question: str, *, on_token: Callable[[str], None] | None = None) -> RouteResult:
        return to_result(self.name, self.reason, self.agent.answer(question, on_token=on_token))

    def close(self) -> None:
        self.retriever.index.close()
