"""Scores on every answer, cheap enough to show live: faithfulness, answer relevance, context
relevance, and with a reference answer exact match, token F1 and contains-gold.

    scores = score_answer(question, answer, contexts=[chunk texts the answer cites])
    scores.to_dict()  # {"faithfulness": 0.5, "answer_relevance": 0.67, "context_relevance": 0.75, ...}

The definitions are RAGAS's (Es et al. 2023); the computations are offline stand-ins, built from
the same lexical and numeric evidence the RAG routes check (``rag.checks``, ``rag.citations``),
because the default 135M model cannot judge (AUC 0.43-0.71 as a yes/no judge, benchmarks/RESULTS.md)
and the ``ragas`` library computes these three metrics only with an LLM. What each one does here:

- **faithfulness**: the share of the answer's statements (its sentences and ``;``-clauses) that
  one context sentence supports: every number and name of the statement occurs in the context
  (``rag.checks.unsupported``), and the sentence holds at least half of its new content words,
  numbers and names counted double (``rag.citations.support``). RAGAS asks an LLM whether the
  context entails each statement; containment misses paraphrase and cannot see negation.
  Absent (not 0) for an answer without context: the base and fine-tuned routes.
- **answer relevance**: does the answer answer the asked attribute? Two checks: the answer holds a
  span of the kind the question asks for (a number for "how many", a person for "who", a date
  for "when": ``rag.checks.expected_type``); and, when the answer rests on a context sentence,
  that sentence matches the question as well as the best-matching sentence of the context does
  (share of the question's content words it holds, as a ratio to the best one). "How many days of
  vacation do employees get?" answered from the carry-over sentence ("up to 5 days") scores
  2/3 because another cited sentence ("27 working days of paid vacation") holds more of the
  question. RAGAS generates questions from the answer with an LLM and compares embeddings; this
  needs no model. Without context only the kind check applies (1 or 0).
- **context relevance**: how much of the question the best cited sentence holds (0..1).
- with ``reference``: **exact_match**, token **f1** (SQuAD normalisation: lower case, no
  punctuation or articles) and **contains** (a reference occurs in the answer), each the best over
  the references.

**Judge mode** (``ragft ask --judge MODEL``, e.g. ``openai:MODEL@URL`` or the installed 1.5B
model): the same three metrics computed the RAGAS way by asking the judge (``rag.checks.LLMJudge``):
faithfulness = the mean verdict "is this statement supported by the context" over the statements;
answer relevance = its verdict "does the answer give exactly what the question asks for" (RAGAS
instead generates questions from the answer and compares embeddings; asking directly needs one
call, not three plus an embedder); context relevance = "does the passage help answer the question"
on the cited chunks. A verdict is P(yes) where the backend exposes logits, else 1/0 (0.5: no clear
reply). The ``ragas`` library is not used: its metrics run through its own LLM wrappers and
async executor, and offline it has nothing to compute these three with. Cost: one judge call per
statement plus two.

How well these separate correct from wrong and unsupported answers on the sample corpus and a
real documentation set is measured in benchmarks/bench_scores.py (RESULTS.md, bench_scores).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import Sequence

from rag.checks import ANY, LLMJudge, candidates, expected_type, sentences, unsupported
from rag.citations import answer_terms, support
from rag.context import split_sentences, stems, terms

SUPPORTED = 0.5  # a statement's share of new content found in one sentence (as rag.citations' span rule)
_MARKER = re.compile(r"\s*\[\d{1,2}\]")


@dataclass(frozen=True)
class AnswerScores:
    answer_relevance: float
    faithfulness: float | None = None  # None: no context to be faithful to
    context_relevance: float | None = None
    exact_match: float | None = None  # None: no reference answer
    f1: float | None = None
    contains: float | None = None

    def to_dict(self) -> dict[str, float]:
        return {k: round(v, 4) for k, v in self.__dict__.items() if v is not None}


def statements(answer: str) -> list[str]:
    """The answer's claims: its sentences, split again at semicolons, without citation markers."""
    out = []
    for s in sentences(_MARKER.sub("", answer)):
        out += [p.strip() for p in s.split(";") if any(c.isalnum() for c in p)]
    return out


def question_match(question: str, sentence: str) -> float:
    """Share of the question's content words (stemmed) that ``sentence`` holds."""
    asked = stems(" ".join(terms(question)))
    return len(asked & stems(sentence)) / len(asked) if asked else 0.0


def faithfulness(answer: str, question: str, context: Sequence[str]) -> float:
    claims = statements(answer)
    if not claims:
        return 0.0
    text = "\n".join(context)
    supported = 0
    for claim in claims:
        if unsupported(claim, question, text):
            continue
        weights = answer_terms(claim, question)
        supported += max((support(weights, s) for s in context), default=0.0) >= SUPPORTED
    return supported / len(claims)


def answer_relevance(answer: str, question: str, context: Sequence[str]) -> float:
    kind = expected_type(question)
    if kind != ANY and not candidates(_MARKER.sub("", answer), kind, question):
        return 0.0
    if not context:
        return 1.0
    weights = answer_terms(answer, question)
    sup, rests_on = max(((support(weights, s), s) for s in context), key=lambda p: p[0])
    if sup < SUPPORTED:  # not taken from the context: faithfulness says so; relevance has no sentence to judge
        return 1.0
    best = max(question_match(question, s) for s in context)
    return question_match(question, rests_on) / best if best > 0 else 1.0


def context_relevance(question: str, context: Sequence[str]) -> float:
    return max((question_match(question, s) for s in context), default=0.0)


def normalize(text: str) -> str:
    """SQuAD-style: lower case, no punctuation or articles; "%" as a word, "1,500" as "1500"."""
    text = _MARKER.sub(" ", text).lower().replace("%", " percent ")
    text = re.sub(r"(?<=\d),(?=\d{3})", "", text)  # 1,500 -> 1500
    text = re.sub(r"[^\w\s]", " ", text)
    return " ".join(w for w in text.split() if w not in ("a", "an", "the"))


def exact(answer: str, gold: str) -> float:
    return float(normalize(answer) == normalize(gold))


def token_f1(answer: str, gold: str) -> float:
    a, g = normalize(answer).split(), normalize(gold).split()
    common = sum((Counter(a) & Counter(g)).values())
    if not a or not g or common == 0:
        return 0.0
    p, r = common / len(a), common / len(g)
    return 2 * p * r / (p + r)


def contains(answer: str, gold: str) -> float:
    return float(f" {normalize(gold)} " in f" {normalize(answer)} ")


def reference_scores(answer: str, references: Sequence[str]) -> tuple[float, float, float]:
    """(exact match, token F1, contains) of ``answer`` against the best of ``references``."""
    return (max(exact(answer, r) for r in references), max(token_f1(answer, r) for r in references),
            max(contains(answer, r) for r in references))


def score_answer(question: str, answer: str, contexts: Sequence[str] = (), *,
                 references: Sequence[str] | None = None, judge: LLMJudge | None = None) -> AnswerScores:
    """Every score of one answer; ``contexts``: the texts of the chunks it cites (none: no context);
    ``judge``: compute faithfulness and the relevances by asking it instead (see the module docstring)."""
    context = [s for text in contexts for s in split_sentences(text)]
    em = f1 = contains = None
    if references:
        em, f1, contains = reference_scores(answer, references)
    if judge is not None:
        joined = "\n\n".join(contexts)
        claims = statements(answer)
        return AnswerScores(
            answer_relevance=judge.addresses_score(question, _MARKER.sub("", answer)),
            faithfulness=(sum(judge.supported_score(c, joined) for c in claims) / len(claims) if claims else 0.0)
            if contexts else None,
            context_relevance=judge.relevant_score(question, joined) if contexts else None,
            exact_match=em, f1=f1, contains=contains,
        )
    return AnswerScores(
        answer_relevance=answer_relevance(answer, question, context),
        faithfulness=faithfulness(answer, question, context) if context else None,
        context_relevance=context_relevance(question, context) if context else None,
        exact_match=em, f1=f1, contains=contains,
    )


# What a person reads first, in this order; the route's own scores (confidence, grounded, ...) follow.
SHOWN_FIRST = ("faithfulness", "answer_relevance", "context_relevance", "contains", "f1", "exact_match")


def describe(scores: dict[str, float]) -> str:
    """``faithfulness 1.00 · answer_relevance 0.67 · ...``: one line for a terminal or a caption."""
    order = [k for k in SHOWN_FIRST if k in scores] + [k for k in scores if k not in SHOWN_FIRST]
    return " · ".join(f"{k} {scores[k]:.2f}" for k in order if isinstance(scores[k], (int, float)) and k != "tokens_per_s")
