"""Naive RAG: the shared answer pipeline (``rag.pipeline``) run once, top to bottom.

    rag = NaiveRAG(model=model, retriever=Retriever(index), settings=calibration.rag_settings())
    result = rag.answer("How many vacation days do employees get?")
    result.answer, result.citations, result.abstained, result.steps

retrieve -> score evidence -> decide -> answer -> verify -> cite. The route abstains without
calling the model when the calibrated gate declines (``rag.abstain``), and when the model says it
does not know or repeats its instructions (``rag.checks``). A generated sentence that states a
number or name the context lacks is dropped; when none is left, or the model wrote a sentence
fragment, the answer is the best context sentence, quoted, and the reason says so. Every stage
is recorded in ``steps`` with its duration, for ``ask --json`` and the UI.

``judge=`` (a capable model, e.g. over the OpenAI-compatible backend; ``ask --judge``) adds two
yes/no votes where the scores are weakest: when the gate declines, the judge may rule that the
best sentence does answer the question (reworded questions retrieve the right sentence with a
low score), and every answer must pass its grounding check (near-miss questions get fluent
answers about the wrong attribute).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Callable

from ingestion.errors import ConfigError
from rag.abstain import Confidence
from rag.chat_model import ChatModel, GenerationOptions
from rag.checks import DONT_KNOW, ECHO, LLMJudge, is_fragment, shape_problem, supported_answer
from rag.citations import cite, grounded_share
from rag.context import Context, ContextBuilder, EvidenceScorer, Sentence
from rag.pipeline import (
    ABSTAIN_ANSWER, RagAnswer, RagSettings, Trace, answer_options, context_budget, generate, quote,
)
from rag.retrieval import Retriever


@dataclass(frozen=True)
class Verified:
    """What the verify step made of a generated reply."""

    text: str
    reason: str
    declined: str = ""  # why the route abstains instead (empty: it answers with ``text``)


class NaiveRAG:
    def __init__(
        self,
        *,
        model: ChatModel,
        retriever: Retriever,
        settings: RagSettings | None = None,
        options: GenerationOptions | None = None,
        scorer: EvidenceScorer | None = None,
        judge: ChatModel | None = None,
    ) -> None:
        self.model = model
        self.judge = LLMJudge(judge) if judge is not None else None
        self.retriever = retriever
        self.settings = settings or RagSettings()
        self.options = answer_options(options, self.settings.answer_tokens)
        self.scorer = scorer or EvidenceScorer(retriever.index)
        self.builder = ContextBuilder(settings=self.settings.context)
        self.gate = self.settings.gate()

    def answer(self, question: str, *, on_token: Callable[[str], None] | None = None) -> RagAnswer:
        question = question.strip()
        if not question:
            raise ConfigError("the question is empty", fix="pass a question")
        start, trace = time.perf_counter(), Trace()
        ranked = self._evidence(question, trace)  # retrieve, score evidence
        conf = self._decide(question, ranked, trace)
        scores = {"confidence": conf.score}
        if conf.abstain:
            return self._done(question, ABSTAIN_ANSWER, True, "retrieval confidence below the threshold", start,
                              trace, confidence=conf, scores=scores)
        ctx = self._context(question, ranked, trace)
        if not ctx.sentences:
            return self._done(question, ABSTAIN_ANSWER, True, "no evidence fits the context window", start, trace,
                              confidence=conf, scores=scores)
        if self.settings.answer_mode == "quote":  # calibrated: this model loses what the sentence says
            why = self.settings.answer_mode_why
            with trace.step("quote", why=why):
                text = quote(question, ctx, ranked)
            return self._cite(question, text, "quoted the supporting sentence" + (f" ({why})" if why else ""),
                              start, trace, ctx, conf, scores, {})
        with trace.step("generate", model=self.model.name) as rec:
            done = generate(self.model, question, ctx, self.options, on_token)
            rec.update(tokens=done.tokens(), finish=done.finish_reason)
        verified = self._verify(question, done.text.strip(), ctx, ranked, trace)
        if verified.declined:
            return self._done(question, verified.text, True, verified.declined, start, trace, context=ctx,
                              confidence=conf, scores=scores, tokens=done.tokens())
        return self._cite(question, verified.text, verified.reason, start, trace, ctx, conf, scores, done.tokens())

    def assess(self, question: str) -> tuple[list[Sentence], Confidence]:
        """Retrieval and the calibrated gate alone, without a model call: what a router reads
        before it picks a route (``assistant.router``). No judge vote: that costs a generation."""
        trace = Trace()
        ranked = self._evidence(question.strip(), trace)
        return ranked, self.gate.confidence(question.strip(), ranked, self.scorer)

    # -- the stages, in the order ``answer`` runs them ---------------------------------------------
    def _evidence(self, question: str, trace: Trace) -> list[Sentence]:
        with trace.step("retrieve", mode=self.settings.mode, k=self.settings.k) as rec:
            hits = self.retriever.search(question, k=self.settings.k, mode=self.settings.mode).hits
            rec["hits"] = [{"source": h.source, "chunk_id": h.chunk_id, "score": h.score} for h in hits]
        with trace.step("score_sentences") as rec:
            ranked = self.scorer.score(question, hits)
            rec["sentences"] = len(ranked)
        return ranked

    def _decide(self, question: str, ranked: list[Sentence], trace: Trace) -> Confidence:
        """The calibrated gate; with a judge, a declined question goes on when the judge says the
        best sentence answers it."""
        with trace.step("confidence") as rec:
            conf = self.gate.confidence(question, ranked, self.scorer)
            rec.update(conf.as_json(), abstain=conf.abstain)
        if conf.abstain and self.judge is not None and ranked:
            with trace.step("judge", asked="answers", sentence=ranked[0].text) as rec:
                rec["verdict"] = self.judge.answers(question, ranked[0].labelled)
            if rec["verdict"] is True:
                conf = replace(conf, overruled=True)
        return conf

    def _context(self, question: str, ranked: list[Sentence], trace: Trace) -> Context:
        with trace.step("build_context") as rec:
            budget = context_budget(self.model, question, self.options.max_tokens)
            ctx = self.builder.build(ranked, count_tokens=self.model.count_tokens, budget=budget)
            rec.update(sentences=len(ctx.sentences), tokens=ctx.tokens, budget=budget, dropped=ctx.dropped)
        return ctx

    def _verify(self, question: str, text: str, ctx: Context, ranked: list[Sentence], trace: Trace) -> Verified:
        """Not an answer -> decline; invented specifics -> drop them, or quote; a fragment -> quote."""
        problem = shape_problem(text)
        if problem == ECHO:
            return Verified(ABSTAIN_ANSWER, "", "the model repeated its instructions instead of answering")
        if problem == DONT_KNOW:
            return Verified(text or ABSTAIN_ANSWER, "", "the model found no answer in the context")
        reason = "answered from the retrieved context"
        with trace.step("support") as rec:
            kept, dropped = supported_answer(text, question, ctx.text)
            rec.update(dropped=dropped)
        if dropped:
            text = kept or quote(question, ctx, ranked)
            reason = ("answered; dropped a sentence whose numbers or names the context lacks" if kept else
                      "quoted the best evidence: the generated answer stated numbers or names the context lacks")
        if is_fragment(text):
            text = quote(question, ctx, ranked)
            reason = "quoted the supporting sentence: the model wrote a sentence fragment"
        if self.judge is not None:
            with trace.step("judge", asked="grounded") as rec:
                rec["verdict"] = self.judge.grounded(question, text, ctx.text)
            if rec["verdict"] is False:
                return Verified(ABSTAIN_ANSWER, "", "the judge found the answer unsupported by the context")
        return Verified(text, reason)

    def _cite(self, question: str, text: str, reason: str, start: float, trace: Trace, ctx: Context, conf: Confidence,
              scores: dict[str, float], tokens: dict[str, int]) -> RagAnswer:
        with trace.step("cite") as rec:
            citations = cite(text, question, ctx)
            scores["grounded"] = round(grounded_share(text, question, ctx.text), 4)
            rec.update(citations=len(citations), grounded=scores["grounded"])
        return self._done(question, text, False, reason, start, trace, citations=citations, context=ctx,
                          confidence=conf, scores=scores, tokens=tokens)

    def _done(self, question: str, answer: str, abstained: bool, reason: str, start: float, trace: Trace, **kw) -> RagAnswer:
        return RagAnswer(
            question=question, answer=answer, abstained=abstained, reason=reason, steps=trace.steps,
            latency_s=round(time.perf_counter() - start, 3), model=self.model.name, **kw,
        )


__all__ = ["NaiveRAG", "Verified"]
