"""Agentic RAG as a LangGraph state graph (adaptive / corrective RAG for a small model).

    agent = AgenticRAG(model=model, retriever=Retriever(index))
    result = agent.answer("Who hosts the Tidemark meeting?")   # RagAnswer, with .steps

    plan -> retrieve -> grade
               ^          |-- strong ----------------------------> generate
               |          |-- weak, loops left --> rewrite --+
               +---------------------------------------------+
                          |-- weak, no loops left: the calibrated gate --> generate or abstain

    generate --quoted (calibrated quote mode)--> finish
             --generated--> check --grounded--> finish
                                  --not grounded, tries left--> generate
                                  --no tries left--> fallback (quote the evidence, or abstain)

``plan`` decides what kind of answer is wanted (person, number, date) and splits compound
questions; ``grade`` keeps the sentences whose relevance score reaches the bar and calls the
evidence strong when retrieval is confident *and* a kept sentence holds a candidate answer;
``rewrite`` hops (searches for what the best evidence mentions that the question does not, for
questions that need two documents), then reformulates (meaning-only, keywords-only, expanded)
for reworded questions; once the loops are spent the calibrated gate (as in the naive route)
decides between answering and declining. In calibrated quote mode ``generate`` answers with the
naive route's quote over every sentence found, hops included; ``check`` accepts an answer only
when its numbers and names appear in the context. All graders are scores and rules
(``graders.py``, and ``rag.checks``, shared with the naive route); pass ``judge=`` (a stronger
model, e.g. over the OpenAI-compatible backend) to add yes/no relevance and grounding votes.
"""

from __future__ import annotations

import time
from typing import Callable

from langgraph.graph import END, START, StateGraph

from ingestion.errors import ConfigError
from rag.agentic.nodes import AgentNodes, AgentSettings, AgentState
from rag.chat_model import ChatModel, GenerationOptions
from rag.checks import LLMJudge
from rag.citations import Citation, cite, grounded_share
from rag.context import EvidenceScorer
from rag.pipeline import RagAnswer, answer_options
from rag.retrieval import Retriever


def build_graph(nodes: AgentNodes):
    """The compiled graph; nodes are bound methods of ``nodes``."""
    g = StateGraph(AgentState)
    for name in ("plan", "retrieve", "grade", "rewrite", "generate", "check", "fallback", "abstain", "finish"):
        g.add_node(name, getattr(nodes, name))
    g.add_edge(START, "plan")
    g.add_edge("plan", "retrieve")
    g.add_edge("retrieve", "grade")
    g.add_conditional_edges("grade", nodes.after_grade, ["generate", "rewrite", "abstain"])
    g.add_conditional_edges("rewrite", nodes.after_rewrite, ["retrieve", "generate", "abstain"])
    g.add_conditional_edges("generate", nodes.after_generate, ["check", "finish"])
    g.add_conditional_edges("check", nodes.after_check, ["finish", "generate", "fallback"])
    for name in ("finish", "fallback", "abstain"):
        g.add_edge(name, END)
    return g.compile(name="agentic-rag")


class AgenticRAG:
    def __init__(
        self,
        *,
        model: ChatModel,
        retriever: Retriever,
        settings: AgentSettings | None = None,
        options: GenerationOptions | None = None,
        scorer: EvidenceScorer | None = None,
        judge: ChatModel | None = None,
    ) -> None:
        self.model = model
        self.settings = settings or AgentSettings()
        self.nodes = AgentNodes(
            model=model, retriever=retriever, scorer=scorer or EvidenceScorer(retriever.index), settings=self.settings,
            options=answer_options(options, self.settings.rag.answer_tokens), judge=LLMJudge(judge) if judge else None,
        )
        self.graph = build_graph(self.nodes)

    def answer(self, question: str, *, on_token: Callable[[str], None] | None = None) -> RagAnswer:
        question = question.strip()
        if not question:
            raise ConfigError("the question is empty", fix="pass a question")
        start = time.perf_counter()
        state: AgentState = self.graph.invoke({"question": question, "steps": []}, {"recursion_limit": 40})
        answer, ctx = state["answer"], state["context"]
        abstained = state["outcome"] == "abstained"
        if on_token is not None:  # answers are checked before they are shown: emit the final one
            on_token(answer)
        citations = [] if abstained else cite(answer, question, ctx)
        grade = state.get("grade")
        if citations and grade is not None and grade.typed_by_hop:
            # The answer came from a hop: also cite the evidence that led there ("hosted by the CEO").
            cited = {c.chunk_id for c in citations}
            bridge = next((s for s in grade.kept if s.chunk_id not in cited), None)
            if bridge is not None:
                citations.append(Citation(bridge.source, bridge.chunk_id, bridge.text, 0.0))
        scores = {"confidence": state["confidence"].score} if "confidence" in state else {}
        if not abstained:
            scores["grounded"] = round(grounded_share(answer, question, ctx.text), 4)
        scores["loops"], scores["generations"] = state.get("loops", 0), state.get("attempts", 0)
        return RagAnswer(
            question=question, answer=answer, abstained=abstained, reason=state["reason"], citations=citations,
            context=ctx, confidence=state.get("confidence"), scores=scores, steps=state["steps"],
            tokens=state.get("tokens", {}), latency_s=round(time.perf_counter() - start, 3), model=self.model.name,
        )
