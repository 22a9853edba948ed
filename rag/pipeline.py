"""The answer pipeline both RAG routes share, stage by stage, and where each stage lives.

    retrieve        rag.retrieval.Retriever          hybrid search over the collection's chunks
    score evidence  rag.context.EvidenceScorer       every sentence of the hits, best first
    decide          rag.abstain.AbstentionGate       answer or abstain, on the calibrated gate
    answer          generate() / quotable()          the model writes from a budgeted context, or the
                                                     supporting sentence is quoted (calibrated answer mode)
    verify          rag.checks                       not an echo, a "don't know" or a fragment; every
                                                     number and name held by the context
    cite            rag.citations.cite               the context sentences that support the answer

``rag.naive.NaiveRAG`` runs the stages once, in this order; ``rag.agentic`` wires the same stages
into a LangGraph graph that can rewrite the query and retry. This module holds what both use:
the settings (``RagSettings``: the collection's calibration arrives here), the typed result
(``RagAnswer``), the step trace and the answer and quote helpers.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Iterator, Sequence

from ingestion.errors import ConfigError
from rag.abstain import AbstentionGate, Confidence
from rag.chat_model import ChatModel, Completion, GenerationOptions
from rag.checks import candidates, expected_type, states_specific
from rag.citations import Citation
from rag.context import Context, ContextSettings, Sentence, grounded_messages
from rag.retrieval import MODES

ANSWER_MODES = ("generate", "quote")
ABSTAIN_ANSWER = "I don't know: the documents I can search do not contain the answer."


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


def quote(question: str, ctx: Context, ranked: Sequence[Sentence] = ()) -> str:
    """The supporting sentence to answer with (``quotable``); when it states no specific and its
    chunk's next sentence is among ``ranked``, that sentence too. Manuals put the value after the
    sentence that names the setting ("Specify compression level." / "... Default is -6 if not
    given."). On the SQLite, git and httpd dev sets (bench_rag --sets, 2026-12-06) this raised
    naive contains-gold 0.617 -> 0.667, 0.417 -> 0.467, 0.450 -> 0.467, and left the sample
    corpus at 0.48; an added sentence cannot lose what the first held. Only a quote without a
    specific grows: one that holds a number or code already answers, and stays short."""
    best = quotable(question, ctx)
    if states_specific(best.text):
        return best.text
    after = next((s for s in ranked if s.chunk_id == best.chunk_id and s.position == best.position + 1), None)
    return f"{best.text} {after.text}" if after is not None else best.text


def quotable(question: str, ctx: Context) -> Sentence:
    """The context sentence to quote instead of an unsupported answer: the best one that holds a
    candidate of the asked-for type (a number for "how much"), else the best one."""
    kind = expected_type(question)
    return next((s for s in ctx.sentences if candidates(s.labelled, kind, question)), ctx.sentences[0])
