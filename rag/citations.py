"""Citations: which of the context's sentences support an answer, and the span that does.

    cites = cite(answer, question, context)    # [Citation(source, chunk_id, span, support)]

A route cites what it used: every chunk whose sentences went into the prompt, the best-supporting
first. Support is lexical containment — the share of the answer's *new* content words (those
not already in the question, since small models restate the question) found in a sentence, with
numbers and names counted double because they carry the fact. The span is the cited chunk's
best-supporting sentence when its support reaches ``min_support``; otherwise it is left empty
rather than pointing at a sentence that does not say what the answer says. A source the answer
names by its marker ("... is 612 [1].") is also scored on the words of the clause that names
it, so that an answer joining two sources ("The handbook is dated 2025 [2] and the number of
employees is 612 [1].") still points at each one's sentence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

from rag.context import Context, Sentence, stem, stems, words
from rag.lexical import STOPWORDS

_MARKER = re.compile(r"\[(\d{1,2})\]")
_KEY = re.compile(r"\d|^[A-Z]")  # numbers and capitalised words carry the fact


@dataclass(frozen=True)
class Citation:
    source: str
    chunk_id: str
    span: str = ""
    support: float = 0.0

    def as_json(self) -> dict[str, str]:
        return {"source": self.source, "chunk_id": self.chunk_id, "span": self.span}


def answer_terms(answer: str, question: str = "") -> list[tuple[str, float]]:
    """(stem, weight) of the answer's content words not already in the question."""
    asked = stems(question)
    raw = re.findall(r"[\w][\w.,:/+-]*[\w]|\w", _MARKER.sub(" ", answer))
    out: dict[str, float] = {}
    for token in raw:
        w = token.strip(".,:").lower()
        if not w or w in STOPWORDS or stem(w) in asked:
            continue
        out[stem(w)] = max(out.get(stem(w), 0.0), 2.0 if _KEY.search(token) else 1.0)
    if not out:  # the answer only restates the question: fall back to all its words
        out = {stem(w): 1.0 for w in words(answer) if w not in STOPWORDS}
    return list(out.items())


def support(answer_weights: Sequence[tuple[str, float]], sentence: str) -> float:
    """Weighted share of the answer's terms that the sentence contains (0..1)."""
    total = sum(w for _, w in answer_weights)
    if total <= 0:
        return 0.0
    have = stems(sentence)
    return sum(w for s, w in answer_weights if s in have) / total


def cite(answer: str, question: str, context: Context, *, min_support: float = 0.5) -> list[Citation]:
    """One citation per chunk used in the context, best-supporting first (ties: prompt order)."""
    if not context.sentences:
        return []
    weights = answer_terms(answer, question)
    marked = {int(n) for n in _MARKER.findall(answer)}  # sources the model named, e.g. "[2]"
    clause_weights = {n: answer_terms(text, question) for n, text in marked_clauses(answer).items()}
    best: dict[str, tuple[float, Sentence]] = {}
    order: list[str] = []
    for s in context.sentences:
        sup = support(weights, s.labelled)
        own = clause_weights.get(context.number_of(s.source))
        if own:
            sup = max(sup, support(own, s.labelled))
        if s.chunk_id not in best:
            order.append(s.chunk_id)
        if s.chunk_id not in best or sup > best[s.chunk_id][0]:
            best[s.chunk_id] = (sup, s)

    def rank(cid: str) -> tuple[float, int, int]:
        sup, s = best[cid]
        named = 1 if context.number_of(s.source) in marked else 0
        return (-round(sup, 3), -named, order.index(cid))

    out = []
    for cid in sorted(order, key=rank):
        sup, s = best[cid]
        out.append(Citation(s.source, cid, s.text if sup >= min_support else "", round(sup, 3)))
    return out


def marked_clauses(answer: str) -> dict[int, str]:
    """{n: the answer text that ends with marker [n]}: what the model says source n supports."""
    out: dict[int, str] = {}
    start = 0
    for m in _MARKER.finditer(answer):
        piece = answer[start : m.start()].strip(" ,;.")
        if piece:
            n = int(m.group(1))
            out[n] = f"{out[n]} {piece}" if n in out else piece
        start = m.end()
    return out


def grounded_share(answer: str, question: str, context_text: str) -> float:
    """How much of the answer's new content the context contains (1.0 = all of it)."""
    return support(answer_terms(answer, question), context_text)
