"""Naive RAG: retrieve -> (abstain?) -> best sentences into a budgeted prompt -> generate -> cite.

    rag = NaiveRAG(model=model, retriever=Retriever(index))
    result = rag.answer("How many vacation days do employees get?")
    result.answer, result.citations, result.abstained, result.steps

The route abstains without calling the model when retrieval confidence is below the calibrated
threshold (``rag.abstain``), and reports an abstention when the model itself says it does not
know. A generated sentence that states a number or name the context lacks is dropped
(``rag.support``); when none is left, the answer is the best context sentence, quoted. Every
stage is recorded in ``steps`` with its duration, for ``ask --json`` and the UI.

``judge=`` (a capable model, e.g. over the OpenAI-compatible backend; ``ask --judge``) adds two
yes/no votes where the scores are weakest: when the gate declines, the judge may rule that the
best sentence does answer the question (reworded questions retrieve the right sentence with a
low score), and every answer must pass its grounding check (near-miss questions get fluent
answers about the wrong attribute). The 135M default model cannot be that judge (as a yes/no
verifier of question and best sentence it scored AUC 0.54 on the calibration questions).
"""

from __future__ import annotations

import re
import time
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Iterator

from ingestion.errors import ConfigError
from rag.abstain import AbstentionGate, Confidence
from rag.chat_model import ChatModel, Completion, GenerationOptions
from rag.citations import Citation, cite, grounded_share
from rag.agentic.graders import LLMJudge, candidates, expected_type
from rag.context import SYSTEM_PROMPT, Context, ContextBuilder, ContextSettings, EvidenceScorer, Sentence, grounded_messages
from rag.retrieval import MODES, Retriever
from rag.support import supported_answer

ANSWER_MODES = ("generate", "quote")
ABSTAIN_ANSWER = "I don't know: the documents I can search do not contain the answer."
_DONT_KNOW = re.compile(
    r"\b(i (do not|don't|cannot|can't) (know|answer|find)|not (mentioned|stated|specified|provided) in the context"
    r"|(context|documents?) (does|do) not (say|mention|contain|provide|specify)|no information)\b",
    re.IGNORECASE,
)


_MARKERS = re.compile(r"\s*\[\d{1,2}\]")


def is_fragment(answer: str) -> bool:
    """A piece of a sentence, not an answer: "across Python releases provided a compatible pickle
    protocol is chosen and" (what the 135M model writes when it copies from mid-sentence)."""
    text = _MARKERS.sub("", answer).strip().strip("*_")
    if len(text.split()) < 2:
        return not text or not any(c.isalnum() for c in text)  # one token ("70", "--depth") is an answer
    starts = text[0].isupper() or text[0].isdigit() or text[0] in "\"'`(-<$"
    ends = text[-1] in ".!?)\"'`:" or text[-1].isdigit()
    return not (starts and ends)


def says_dont_know(answer: str) -> bool:
    return not answer.strip() or bool(_DONT_KNOW.search(answer))


def _shingles(text: str, n: int = 5) -> set[tuple[str, ...]]:
    w = re.findall(r"\w+", text.lower())
    return {tuple(w[i : i + n]) for i in range(len(w) - n + 1)}


_SYSTEM_SHINGLES = _shingles(SYSTEM_PROMPT)


def leaks_instructions(answer: str) -> bool:
    """True when the answer repeats the system prompt (five words in a row or more): small models
    sometimes echo it, and injected text in a document may ask for it. Such answers are dropped."""
    return bool(_shingles(answer) & _SYSTEM_SHINGLES)


def quotable(question: str, ctx: Context) -> Sentence:
    """The context sentence to quote instead of an unsupported answer: the best one that holds a
    candidate of the asked-for type (a number for "how much"), else the best one."""
    kind = expected_type(question)
    return next((s for s in ctx.sentences if candidates(s.labelled, kind, question)), ctx.sentences[0])


class Trace:
    """What a pipeline did, step by step, with timings: ``[{"step", "seconds", ...detail}]``."""

    def __init__(self) -> None:
        self.steps: list[dict[str, Any]] = []

    @contextmanager
    def step(self, name: str, **detail: Any) -> Iterator[dict[str, Any]]:
        record: dict[str, Any] = {"step": name, **detail}
        start = time.perf_counter()
        try:
            yield record  # the caller adds details while the step runs
        finally:
            record["seconds"] = round(time.perf_counter() - start, 4)
            self.steps.append(record)


@dataclass(frozen=True, kw_only=True)
class RagSettings:
    k: int = 5
    """Chunks retrieved per query."""
    mode: str = "hybrid"
    """Retrieval mode: dense, lexical or hybrid."""
    answer_tokens: int = 64
    """Most tokens an answer may have (answers are one sentence)."""
    context: ContextSettings = field(default_factory=ContextSettings)
    abstain_threshold: float | None = None
    """Retrieval-confidence threshold (None: the default in rag.abstain; the routes pass the
    collection's own calibration, ``assistant/calibration.py``)."""
    unknown_weight: float | None = None
    """Weight of the unknown-term share in the confidence (None: rag.abstain's default)."""
    focus_weight: float | None = None
    """Weight of the missing focus share in the confidence (None: rag.abstain's default)."""
    answer_mode: str = "generate"
    """generate: the model writes the answer from the context (a fragment or an unsupported
    answer falls back to the quote); quote: answer with the supporting sentence itself, for a
    model that loses what retrieval found (chosen per collection and model by calibration)."""
    answer_mode_why: str = ""
    """Why that mode, in a few words (shown in the answer's reason)."""

    def __post_init__(self) -> None:
        if not 1 <= self.k <= 100:
            raise ConfigError(f"-k {self.k} must be between 1 and 100", fix="pass -k 5, for example")
        if self.mode not in MODES:
            raise ConfigError(f"mode {self.mode!r} is not a search mode", fix="use dense, lexical or hybrid")
        if not 1 <= self.answer_tokens <= 4096:
            raise ConfigError(f"answer_tokens={self.answer_tokens} must be between 1 and 4096")
        if self.answer_mode not in ANSWER_MODES:
            raise ConfigError(f"answer_mode {self.answer_mode!r} is unknown", fix=f"use one of {', '.join(ANSWER_MODES)}")

    def gate(self) -> AbstentionGate:
        given = {"threshold": self.abstain_threshold, "unknown_weight": self.unknown_weight, "focus_weight": self.focus_weight}
        return AbstentionGate(**{k: v for k, v in given.items() if v is not None})


@dataclass
class RagAnswer:
    question: str
    answer: str
    abstained: bool
    reason: str
    citations: list[Citation] = field(default_factory=list)
    context: Context = field(default_factory=Context)
    confidence: Confidence | None = None
    scores: dict[str, float] = field(default_factory=dict)
    steps: list[dict[str, Any]] = field(default_factory=list)
    tokens: dict[str, int] = field(default_factory=dict)
    latency_s: float = 0.0
    model: str = ""

    def as_json(self) -> dict[str, Any]:
        return {
            "question": self.question, "answer": self.answer, "abstained": self.abstained, "reason": self.reason,
            "citations": [c.as_json() for c in self.citations], "scores": self.scores, "steps": self.steps,
            "tokens": self.tokens, "latency_s": self.latency_s, "model": self.model,
        }


def answer_options(options: GenerationOptions | None, answer_tokens: int) -> GenerationOptions:
    """The caller's sampling settings, with short answers: capped length, stop at a blank line."""
    base = options or GenerationOptions(deterministic=True)
    stop = base.stop if "\n\n" in base.stop else (*base.stop, "\n\n")[:8]
    return replace(base, max_tokens=min(base.max_tokens, answer_tokens), stop=stop)


def generate(
    model: ChatModel, question: str, context: Context, options: GenerationOptions, on_token: Callable[[str], None] | None
) -> Completion:
    return model.generate(grounded_messages(question, context), options, on_token=on_token)


def context_budget(model: ChatModel, question: str, answer_tokens: int) -> int:
    """Tokens left for the context: the window minus prompt scaffolding, question and answer."""
    scaffold = sum(model.count_tokens(m["content"]) + 8 for m in grounded_messages(question, Context()))
    return model.context_window - scaffold - answer_tokens - 16


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
        with trace.step("retrieve", mode=self.settings.mode, k=self.settings.k) as rec:
            hits = self.retriever.search(question, k=self.settings.k, mode=self.settings.mode).hits
            rec["hits"] = [{"source": h.source, "chunk_id": h.chunk_id, "score": h.score} for h in hits]
        with trace.step("score_sentences") as rec:
            ranked = self.scorer.score(question, hits)
            rec["sentences"] = len(ranked)
        with trace.step("confidence") as rec:
            conf = self.gate.confidence(question, ranked, self.scorer)
            rec.update(conf.as_json(), abstain=conf.abstain)
        scores = {"confidence": conf.score}
        if conf.abstain and self._judge_overrules(question, ranked, trace):
            conf = replace(conf, overruled=True)
        if conf.abstain:
            return self._done(question, ABSTAIN_ANSWER, True, "retrieval confidence below the threshold", start,
                              trace, confidence=conf, scores=scores)
        with trace.step("build_context") as rec:
            budget = context_budget(self.model, question, self.options.max_tokens)
            ctx = self.builder.build(ranked, count_tokens=self.model.count_tokens, budget=budget)
            rec.update(sentences=len(ctx.sentences), tokens=ctx.tokens, budget=budget, dropped=ctx.dropped)
        if not ctx.sentences:
            return self._done(question, ABSTAIN_ANSWER, True, "no evidence fits the context window", start, trace,
                              confidence=conf, scores=scores)
        if self.settings.answer_mode == "quote":
            with trace.step("quote", why=self.settings.answer_mode_why) as rec:
                text = quotable(question, ctx).text
            reason = "quoted the supporting sentence" + (f" ({self.settings.answer_mode_why})" if self.settings.answer_mode_why else "")
            return self._cite(question, text, reason, start, trace, ctx, conf, scores, {})
        with trace.step("generate", model=self.model.name) as rec:
            done = generate(self.model, question, ctx, self.options, on_token)
            text = done.text.strip()
            rec.update(tokens=done.tokens(), finish=done.finish_reason)
        if leaks_instructions(text):
            return self._done(question, ABSTAIN_ANSWER, True, "the model repeated its instructions instead of answering",
                              start, trace, context=ctx, confidence=conf, scores=scores, tokens=done.tokens())
        if says_dont_know(text):
            return self._done(question, text or ABSTAIN_ANSWER, True, "the model found no answer in the context", start,
                              trace, context=ctx, confidence=conf, scores=scores, tokens=done.tokens())
        reason = "answered from the retrieved context"
        with trace.step("support") as rec:
            kept, dropped = supported_answer(text, question, ctx.text)
            rec.update(dropped=dropped)
        if dropped:  # the model invented a number or name: keep what is supported, else quote
            text = kept or quotable(question, ctx).text
            reason = ("answered; dropped a sentence whose numbers or names the context lacks" if kept else
                      "quoted the best evidence: the generated answer stated numbers or names the context lacks")
        if is_fragment(text):
            text = quotable(question, ctx).text
            reason = "quoted the supporting sentence: the model wrote a sentence fragment"
        if self.judge is not None:
            with trace.step("judge", asked="grounded") as rec:
                rec["verdict"] = self.judge.grounded(question, text, ctx.text)
            if rec["verdict"] is False:
                return self._done(question, ABSTAIN_ANSWER, True, "the judge found the answer unsupported by the context",
                                  start, trace, context=ctx, confidence=conf, scores=scores, tokens=done.tokens())
        return self._cite(question, text, reason, start, trace, ctx, conf, scores, done.tokens())

    def _cite(self, question: str, text: str, reason: str, start: float, trace: Trace, ctx: Context, conf: Confidence,
              scores: dict[str, float], tokens: dict[str, int]) -> RagAnswer:
        with trace.step("cite") as rec:
            citations = cite(text, question, ctx)
            scores["grounded"] = round(grounded_share(text, question, ctx.text), 4)
            rec.update(citations=len(citations), grounded=scores["grounded"])
        return self._done(question, text, False, reason, start, trace, citations=citations, context=ctx,
                          confidence=conf, scores=scores, tokens=tokens)

    def _judge_overrules(self, question: str, ranked: list[Sentence], trace: Trace) -> bool:
        """With a judge, a declined question goes on when the judge says the best sentence answers it."""
        if self.judge is None or not ranked:
            return False
        with trace.step("judge", asked="answers", sentence=ranked[0].text) as rec:
            rec["verdict"] = self.judge.answers(question, ranked[0].labelled)
        return rec["verdict"] is True

    def _done(self, question: str, answer: str, abstained: bool, reason: str, start: float, trace: Trace, **kw) -> RagAnswer:
        return RagAnswer(
            question=question, answer=answer, abstained=abstained, reason=reason, steps=trace.steps,
            latency_s=round(time.perf_counter() - start, 3), model=self.model.name, **kw,
        )
