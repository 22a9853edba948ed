"""Evidence grading and query rewriting for the agentic graph: scores and rules a 135M model can live with.

- ``grade_evidence``: keeps sentences whose relevance score (embedding cosine + IDF overlap, see
  ``rag.context``) reaches ``min_relevance`` and says whether the evidence is strong: confident
  retrieval *and* an answer candidate of the expected type among the kept sentences.
- ``bridge_query`` / ``novel_terms`` / ``expand_acronyms``: the next hop's query, from what the
  best evidence names that the question does not.

What a question asks for (``expected_type``, ``candidates``) and whether an answer is grounded
(``grade_answer``, ``LLMJudge``) are checks the naive route uses too: ``rag.checks``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Sequence

from rag.checks import ANY, MONTHS, candidates
from rag.context import Sentence, stems


@dataclass
class EvidenceGrade:
    kept: list[Sentence] = field(default_factory=list)
    strong: bool = False
    typed: Sentence | None = None  # best kept sentence holding an answer candidate
    why: str = ""
    typed_by_hop: bool = False  # the typed sentence was found by a rewritten query (a hop)

    def as_json(self) -> dict:
        return {"kept": len(self.kept), "strong": self.strong, "why": self.why,
                "kept_sources": sorted({s.source for s in self.kept})}


def grade_evidence(
    question: str, ranked: Sequence[Sentence], *, confident: bool, kind: str, min_relevance: float, keep: int = 8,
    hops: frozenset = frozenset(), hop_relevance: float = 0.35,
) -> EvidenceGrade:
    """``hops``: (chunk_id, text) of sentences scored against a rewritten query; they pass a lower
    bar, because a hop's query is short ("CEO") and matches table rows and names only loosely."""
    bar = lambda s: hop_relevance if (s.chunk_id, s.text) in hops else min_relevance  # noqa: E731
    kept = [s for s in ranked if s.score >= bar(s)][:keep]
    if not kept:
        return EvidenceGrade(why="no sentence reaches the relevance bar")
    typed = next((s for s in kept if candidates(s.labelled, kind, question)), None) if kind != ANY else kept[0]
    by_hop = typed is not None and (typed.chunk_id, typed.text) in hops
    if not confident:
        return EvidenceGrade(kept, False, typed, "retrieval confidence below the threshold", by_hop)
    if typed is None:
        return EvidenceGrade(kept, False, None, f"no {kind} in the relevant sentences")
    return EvidenceGrade(kept, True, typed, "relevant sentences hold a candidate answer", by_hop)


_STOP = frozenset(
    """a an and are as at be by can for from has have in is it its of on or that the their this to was were
    will with who what when which must may also only each every all any per than then there these they""".split()
)
# Capitalised words that name no entity worth a hop: weekdays, months, time zones, currencies.
_DULL = frozenset(
    """monday tuesday wednesday thursday friday saturday sunday cet cest utc gmt eur usd gbp it the this
    every each""".split() + MONTHS.split()
)
_ACRONYM = re.compile(r"\b[A-Z]{2,5}\b")


_PHRASE = re.compile(r"\b[A-Z][\w-]*(?:\s+(?:of\s+|and\s+|for\s+)?[A-Z][\w-]*)*")


def novel_terms(sentence: str, question: str, limit: int = 6) -> list[str]:
    """The sentence's content words that the question lacks, in order."""
    asked = stems(question)
    out: list[str] = []
    for word in re.findall(r"[A-Za-z][\w-]+|\d[\w.-]*", sentence):
        low = word.lower()
        if low in _STOP or low in _DULL or next(iter(stems(word)), "") in asked or word in out:
            continue
        out.append(word)
    return out[:limit]


def bridge_query(sentences: Sequence[str], question: str, limit: int = 3) -> str:
    """What the best evidence names that the question does not: the next hop's query.

    Capitalised phrases and acronyms first ("... approved by the Chief Information Security
    Officer" -> "Chief Information Security Officer"; "... hosted by the CEO" -> "CEO"); a capital
    that only opens a sentence names nothing. Without any, the first sentence's new words.
    """
    asked = stems(question)
    phrases: list[str] = []
    for sentence in sentences:
        for m in _PHRASE.finditer(sentence):
            words_ = m.group(0).split()
            while words_ and words_[0].lower() in _STOP:  # "The Puffin" -> "Puffin"
                words_ = words_[1:]
            phrase = " ".join(words_)
            if not words_:
                continue
            if m.start() == 0 and len(words_) == 1 and not phrase.isupper():
                continue
            if all(w.lower() in _DULL for w in words_) or all(next(iter(stems(w)), "") in asked for w in words_):
                continue
            if phrase not in phrases:
                phrases.append(phrase)
    if phrases:
        return " ".join(phrases[:limit])
    return " ".join(novel_terms(sentences[0], question, limit=4)) if sentences else ""


def expand_acronyms(query: str, texts: Sequence[str]) -> str:
    """Append the spelled-out form of each acronym in ``query`` found in ``texts``:
    "CEO" + "... | Chief Executive Officer and co-founder | ..." -> "CEO Chief Executive Officer"."""
    extra: list[str] = []
    for acro in dict.fromkeys(_ACRONYM.findall(query)):
        pattern = r"\b" + r"\s+(?:of\s+|and\s+|&\s+)?".join(f"{c}[a-z]+" for c in acro) + r"\b"
        for text in texts:
            m = re.search(pattern, text)
            if m:
                extra.append(m.group(0))
                break
    return f"{query} {' '.join(extra)}" if extra else query
