"""The agentic graph's state and nodes: plan, retrieve, grade, rewrite, generate, check, fallback.

Each node takes the state and returns the keys it changes plus one ``steps`` record (what it did,
with its duration); ``rag.agentic.graph`` wires them into a LangGraph ``StateGraph``.
"""

from __future__ import annotations

import operator
import re
import time
from dataclasses import dataclass, field, replace
from functools import wraps
from typing import Annotated, Any, Callable, TypedDict

from ingestion.errors import ConfigError
from rag.abstain import AbstentionGate, Confidence
from rag.agentic.graders import EvidenceGrade, bridge_query, expand_acronyms, grade_evidence, novel_terms
from rag.chat_model import ChatModel, GenerationOptions
from rag.checks import ANY, DONT_KNOW, ECHO, FRAGMENT, AnswerGrade, LLMJudge, expected_type, grade_answer, shape_problem
from rag.context import Context, ContextBuilder, EvidenceScorer, Sentence, terms
from rag.pipeline import ABSTAIN_ANSWER, RagSettings, context_budget, generate, quote
from rag.retrieval import Hit, Retriever

HOP_DISCOUNT = 0.9  # a sentence found by a rewritten query counts a little less than a direct match


@dataclass(frozen=True, kw_only=True)
class AgentSettings:
    rag: RagSettings = field(default_factory=RagSettings)
    max_loops: int = 2
    """Rewrite-and-retrieve rounds when evidence is weak."""
    max_attempts: int = 2
    """Generations before falling back (quote the evidence, or abstain)."""
    min_relevance: float = 0.45
    """Sentence score a chunk needs to count as relevant evidence."""
    quote_fallback: bool = True
    """When no generated answer is grounded, answer with the best typed sentence, quoted."""
    quote_overlap: float = 0.4
    """A sentence found directly is quoted only when it holds this share of the question's
    terms (IDF-weighted); one found by a hop was already tied to the question by its bridge."""

    def __post_init__(self) -> None:
        if not 0 <= self.max_loops <= 5:
            raise ConfigError(f"max_loops={self.max_loops} must be between 0 and 5")
        if not 1 <= self.max_attempts <= 5:
            raise ConfigError(f"max_attempts={self.max_attempts} must be between 1 and 5")


class AgentState(TypedDict, total=False):
    question: str
    kind: str  # expected answer type: person, number, date or any
    queries: list[tuple[str, str]]  # (query, mode) to run next
    searched: list[tuple[str, str]]
    hits: dict[str, tuple[Hit, int, tuple[str, ...]]]  # chunk_id -> (hit, best rank, queries that found it)
    ranked: list[Sentence]
    confidence: Confidence
    grade: EvidenceGrade
    loops: int
    attempts: int
    context: Context
    answer: str
    answer_grade: AnswerGrade
    retry: bool  # another generation would see a different context
    quoted: bool  # the answer is a context sentence (calibrated quote mode): grounded by construction
    outcome: str  # answered | quoted | abstained
    reason: str
    tokens: dict[str, int]
    steps: Annotated[list[dict[str, Any]], operator.add]


_NOT_AN_ANSWER = {ECHO: "the answer repeats the instructions", DONT_KNOW: "the model said it does not know",
                  FRAGMENT: "the answer is a sentence fragment"}


def decompose(question: str) -> list[str]:
    """Split "Who is X and when did Y?" into its parts (rules; the 135M model cannot do it)."""
    q = question.strip().rstrip("?")
    m = re.match(r"^(who|what|when|where|which|how \w+)\b(.+?)\s+and\s+(who|what|when|where|which|how \w+)\b(.+)$", q, re.I)
    if m:
        return [f"{m.group(1)}{m.group(2)}?", f"{m.group(3)}{m.group(4)}?"]
    return []


def recorded(name: str) -> Callable:
    """Time a node and append its record (the dict under "_step" in its return) to ``steps``."""
    def wrap(fn: Callable[..., dict]) -> Callable[..., dict]:
        @wraps(fn)
        def node(self, state: AgentState) -> dict:
            start = time.perf_counter()
            update = fn(self, state)
            record = {"step": name, **update.pop("_step", {}), "seconds": round(time.perf_counter() - start, 4)}
            return {**update, "steps": [record]}
        return node
    return wrap


class AgentNodes:
    def __init__(self, *, model: ChatModel, retriever: Retriever, scorer: EvidenceScorer, settings: AgentSettings,
                 options: GenerationOptions, judge: LLMJudge | None = None) -> None:
        self.model, self.retriever, self.scorer, self.settings = model, retriever, scorer, settings
        self.options, self.judge = options, judge
        self.builder = ContextBuilder(settings=settings.rag.context)
        self.gate: AbstentionGate = settings.rag.gate()

    @recorded("plan")
    def plan(self, state: AgentState) -> dict:
        q = state["question"]
        subs = decompose(q)
        queries = [(q, self.settings.rag.mode)] + [(s, self.settings.rag.mode) for s in subs]
        return {"kind": expected_type(q), "queries": queries, "searched": [], "hits": {}, "loops": 0, "attempts": 0,
                "tokens": {"prompt": 0, "completion": 0},
                "_step": {"expects": expected_type(q), "sub_questions": subs}}

    @recorded("retrieve")
    def retrieve(self, state: AgentState) -> dict:
        hits = dict(state.get("hits", {}))
        found = []
        for query, mode in state["queries"]:
            result = self.retriever.search(query, k=self.settings.rag.k, mode=mode)
            new = 0
            for rank, hit in enumerate(result.hits):
                old = hits.get(hit.chunk_id)
                new += old is None
                hits[hit.chunk_id] = (hit, rank, (query,)) if old is None else (
                    hit, min(rank, old[1]), old[2] if query in old[2] else (*old[2], query))
            found.append({"query": query, "mode": mode, "hits": len(result.hits), "new": new})
        return {"hits": hits, "searched": state["searched"] + state["queries"], "queries": [],
                "_step": {"queries": found, "chunks": len(hits)}}

    @recorded("grade")
    def grade(self, state: AgentState) -> dict:
        q = state["question"]
        entries = sorted(state["hits"].values(), key=lambda e: e[1])
        best_rank = {hit.chunk_id: rank for hit, rank, _ in entries}
        found_by = {hit.chunk_id: queries for hit, _, queries in entries}
        cands = [replace(s, chunk_rank=best_rank[s.chunk_id]) for s in self.scorer.sentences([h for h, _, _ in entries])]
        on_question = self.scorer.score(q, [], sentences=cands)
        conf = self.gate.confidence(q, on_question, self.scorer)
        bar = self.settings.min_relevance
        if conf.abstain and self.judge is not None and on_question and self.judge.answers(q, on_question[0].labelled):
            # A capable judge overrules the gate (see rag.naive); the sentence it approved is kept.
            conf, bar = replace(conf, overruled=True), min(bar, on_question[0].score)
        # A sentence found by a rewritten query also counts by its match to that query (a hop).
        final = {(s.chunk_id, s.text): s for s in on_question}
        hops: set[tuple[str, str]] = set()
        for query in dict.fromkeys(x for qs in found_by.values() for x in qs if x != q):
            mine = [s for s in cands if query in found_by[s.chunk_id]]
            expanded = expand_acronyms(query, [s.text for s in mine])
            for s in self.scorer.score(expanded, [], sentences=mine):
                key = (s.chunk_id, s.text)
                if HOP_DISCOUNT * s.score > final[key].score:
                    final[key] = replace(final[key], score=round(HOP_DISCOUNT * s.score, 4))
                    hops.add(key)
        ranked = sorted(final.values(), key=lambda s: s.score, reverse=True)
        grade = grade_evidence(q, ranked, confident=not conf.abstain, kind=state["kind"], min_relevance=bar,
                               hops=frozenset(hops))
        judged = 0
        if self.judge is not None and grade.kept:  # a capable judge prunes what the scores let through
            keep = [s for s in grade.kept if self.judge.relevant(q, s.labelled) is not False]
            judged = len(grade.kept) - len(keep)
            grade = grade_evidence(q, keep, confident=not conf.abstain, kind=state["kind"], min_relevance=-1.0,
                                   hops=frozenset(hops))
        return {"ranked": ranked, "confidence": conf, "grade": grade,
                "_step": {**grade.as_json(), **conf.as_json(), "judge_dropped": judged}}

    @recorded("rewrite")
    def rewrite(self, state: AgentState) -> dict:
        q, grade, mode = state["question"], state["grade"], self.settings.rag.mode
        tried = set(state["searched"])
        options: list[tuple[str, str, str]] = []
        if grade.kept:  # hop: search for what the best evidence mentions that the question does not
            bridge = bridge_query([s.text for s in grade.kept[:2]], q)
            if bridge:
                options.append((bridge, "dense" if bridge.isupper() else mode, "bridge from the best evidence"))
        keywords = " ".join(terms(q))
        options += [(q, "dense", "meaning only (reworded question)"), (keywords, "lexical", "keywords only")]
        if grade.kept:  # pseudo-relevance feedback: the question plus the evidence's new words
            options.append((f"{keywords} {' '.join(novel_terms(grade.kept[0].labelled, q, limit=3))}", mode, "expanded"))
        chosen = [(text, m, why) for text, m, why in options if text.strip() and (text, m) not in tried][:2]
        return {"queries": [(t, m) for t, m, _ in chosen], "loops": state["loops"] + 1,
                "_step": {"why": grade.why, "queries": [{"query": t, "mode": m, "strategy": w} for t, m, w in chosen]}}

    def _context(self, state: AgentState, attempt: int) -> Context:
        grade, q = state["grade"], state["question"]
        pool = grade.kept or state["ranked"]
        if attempt >= 1 and grade.typed is not None:
            pool = [grade.typed]  # retry with only the sentence that holds a candidate answer
        elif grade.typed is not None:
            pool = [grade.typed] + [s for s in pool if s is not grade.typed]
        budget = context_budget(self.model, q, self.options.max_tokens)
        return self.builder.build(pool, count_tokens=self.model.count_tokens, budget=budget)

    @recorded("generate")
    def generate(self, state: AgentState) -> dict:
        if self.settings.rag.answer_mode == "quote":  # calibrated: the quote beats this model
            # The naive route's quote rule over every sentence found, hops included: with no
            # rewrite this is the naive answer (agentic lost 4-5 questions a set to naive when it
            # quoted only the kept sentences, bench_rag --sets 2026-12-07).
            budget = context_budget(self.model, state["question"], self.options.max_tokens)
            ctx = self.builder.build(state["ranked"], count_tokens=self.model.count_tokens, budget=budget)
            if ctx.sentences:
                return {"context": ctx, "answer": quote(state["question"], ctx, state["ranked"]),
                        "attempts": state["attempts"] + 1, "quoted": True,
                        "_step": {"attempt": state["attempts"] + 1, "quoted": True, "why": self.settings.rag.answer_mode_why}}
        ctx = self._context(state, state["attempts"])
        done = generate(self.model, state["question"], ctx, self.options, None)
        tokens = {k: state["tokens"].get(k, 0) + v for k, v in done.tokens().items()}
        return {"context": ctx, "answer": done.text.strip(), "attempts": state["attempts"] + 1, "tokens": tokens,
                "_step": {"attempt": state["attempts"] + 1, "context_sentences": len(ctx.sentences),
                          "context_tokens": ctx.tokens, "tokens": done.tokens(), "answer": done.text.strip()}}

    @recorded("check")
    def check(self, state: AgentState) -> dict:
        answer, q, ctx = state["answer"], state["question"], state["context"]
        problem = shape_problem(answer)
        if problem is not None:
            verdict = AnswerGrade(False, 0.0, [], _NOT_AN_ANSWER[problem])
        else:
            verdict = grade_answer(answer, q, ctx.text, kind=state["kind"])
            if self.judge is not None and verdict.grounded and self.judge.grounded(q, answer, ctx.text) is False:
                verdict = AnswerGrade(False, verdict.share, verdict.missing, "the judge found the answer unsupported")
        # Greedy decoding repeats itself: a retry is worth it only with a different context.
        retry = state["attempts"] < self.settings.max_attempts and (
            self._context(state, state["attempts"]).text != ctx.text or not self.options.greedy)
        return {"answer_grade": verdict, "retry": retry, "_step": {**verdict.as_json(), "retry": retry and not verdict.grounded}}

    @recorded("fallback")
    def fallback(self, state: AgentState) -> dict:
        grade, typed = state["grade"], state["grade"].typed
        quotable = typed is not None and (grade.typed_by_hop or typed.overlap >= self.settings.quote_overlap)
        if self.settings.quote_fallback and quotable and not state["confidence"].abstain:
            ctx = self.builder.build([grade.typed], count_tokens=self.model.count_tokens, budget=10**6)
            if ctx.sentences:
                return {"answer": grade.typed.text, "context": ctx, "outcome": "quoted",
                        "reason": "quoted the best evidence: no generated answer was grounded",
                        "_step": {"outcome": "quoted", "source": grade.typed.source}}
        return self._abstain(state, "no grounded answer and no evidence close enough to quote")

    @recorded("abstain")
    def abstain(self, state: AgentState) -> dict:
        return self._abstain(state, state["grade"].why or "the evidence stayed weak")

    @staticmethod
    def _abstain(state: AgentState, why: str) -> dict:
        return {"answer": ABSTAIN_ANSWER, "outcome": "abstained", "reason": why, "context": Context(),
                "_step": {"outcome": "abstained", "why": why}}

    @recorded("finish")
    def finish(self, state: AgentState) -> dict:
        if state.get("quoted"):
            why = self.settings.rag.answer_mode_why
            return {"outcome": "answered", "reason": "quoted the supporting sentence" + (f" ({why})" if why else ""),
                    "_step": {"outcome": "answered", "quoted": True}}
        return {"outcome": "answered", "reason": "answered; the answer is grounded in the kept evidence",
                "_step": {"outcome": "answered"}}

    # -- edges ------------------------------------------------------------------------------
    def after_grade(self, state: AgentState) -> str:
        if state["grade"].strong:
            return "generate"
        if state["loops"] < self.settings.max_loops:
            return "rewrite"
        # The calibrated gate, not the relevance bar, decides whether to answer (as in naive):
        # declining confident questions whose sentences missed the bar cost agentic 10-13% of
        # answerable questions on the real sets against naive's 2-7%.
        return "abstain" if state["confidence"].abstain else "generate"

    def after_rewrite(self, state: AgentState) -> str:
        return "retrieve" if state["queries"] else ("abstain" if state["confidence"].abstain else "generate")

    def after_generate(self, state: AgentState) -> str:
        # A quote is a context sentence: checking it against its own context only declined the
        # quotes that lack the expected type, which naive answers (agentic declined 15-20% of
        # answerable questions on the real sets with the check, bench_rag --sets 2026-12-07).
        return "finish" if state.get("quoted") else "check"

    def after_check(self, state: AgentState) -> str:
        if state["answer_grade"].grounded:
            return "finish"
        return "generate" if state["retry"] else "fallback"


__all__ = ["ANY", "AgentNodes", "AgentSettings", "AgentState", "decompose"]
