"""Graders for the agentic graph that work with a 135M model: scores and rules first, a judge if any.

- ``expected_type(question)``: what kind of answer the question asks for (person, number, date,
  or anything), from its wording.
- ``candidates(text, kind, question)``: spans of that kind in a text that the question does not
  already contain ("Who hosts Tidemark?" + "Tidemark is hosted by the CEO" -> no person yet).
- ``grade_evidence``: keeps sentences whose relevance score (embedding cosine + IDF overlap, see
  ``rag.context``) reaches ``min_relevance`` and says whether the evidence is strong: confident
  retrieval *and* an answer candidate of the expected type among the kept sentences.
- ``grade_answer``: an answer is grounded when most of its new content words are in the
  context and its key spans (numbers, names) appear there verbatim.
- ``LLMJudge``: optional yes/no relevance and groundedness judgements from a model that can
  make them (a stronger model over the OpenAI-compatible backend); the rules stay as features.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Sequence

from rag.chat_model import ChatModel, GenerationOptions
from rag.citations import grounded_share
from rag.context import Sentence, stems

PERSON, NUMBER, DATE, ANY = "person", "number", "date", "any"
_MONTHS = "january february march april may june july august september october november december"
_DATE = re.compile(
    rf"\b(\d{{1,2}} ({_MONTHS.replace(' ', '|')})( \d{{4}})?|({_MONTHS.replace(' ', '|')}) \d{{4}}|(19|20)\d\d|\d{{4}}-\d\d-\d\d"
    r"|(monday|tuesday|wednesday|thursday|friday|saturday|sunday)s?|q[1-4])\b",
    re.IGNORECASE,
)
_NUMBER = re.compile(r"(?<![\w])[+-]?\d[\d.,:/-]*\d*%?")
# Two or more capitalised words in a row (particles allowed inside): "Ingrid Vosselaar", "Maarten de Kock".
_PERSON = re.compile(r"\b[A-Z][a-zà-ÿ'-]+(?:\s+(?:de|van|der|von|la|le|da|dos)?\s*[A-Z][a-zà-ÿ'-]+)+\b")
_NOT_NAMES = frozenset("The This That These Those Our Every Each When What Which Who Chief Head Level Team Plan".split())
# Words that make a capitalised phrase a role, team or thing rather than a person's name.
_NOT_PERSON_WORDS = frozenset(
    """officer officers chief head director manager lead leads team teams council committee board policy
    engineering support operations platform office department programme program plan service services
    security protection data cloud customer people product group crew""".split()
)


def expected_type(question: str) -> str:
    q = question.lower()
    if re.match(r"^\s*(\w+ )?(who|whom|whose)\b", q) or re.search(r"\bname of the person\b|\bwhich (executive|person|employee|manager)\b", q):
        return PERSON
    if re.match(r"^\s*(since |until |by )?when\b", q) or re.search(r"\b(what|which) (year|date|day|month)\b", q):
        return DATE
    if re.search(r"\bhow (many|much|long|large|big|old|often|far|high|deep|heavy)\b|\bwhat (percentage|number|share)\b"
                 r"|\b(which|what)\b[\w\s]{0,30}\b(version|release)\b"
                 r"|\b(maximum|minimum|highest|lowest|number of|percentage)\b", q):
        return NUMBER
    return ANY


def candidates(text: str, kind: str, question: str = "") -> list[str]:
    """Spans of ``kind`` in ``text`` that the question does not already mention."""
    asked = question.lower()
    if kind == NUMBER:
        found = [m.group(0) for m in _NUMBER.finditer(text)]
    elif kind == DATE:
        found = [m.group(0) for m in _DATE.finditer(text)]
    elif kind == PERSON:
        found = [m.group(0) for m in _PERSON.finditer(text)
                 if m.group(0).split()[0] not in _NOT_NAMES and not _NOT_PERSON_WORDS & set(m.group(0).lower().split())]
    else:
        return [text] if text.strip() else []
    return [f for f in found if f.lower() not in asked]


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


def holds(text: str, key: str) -> bool:
    """``key`` occurs in ``text`` as whole words: "Marrow" is not in "Marrowfield", "100" not in "1000"."""
    return re.search(rf"(?<![\w.,]){re.escape(key)}(?![\w]|[.,]\d)", text) is not None


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


@dataclass
class AnswerGrade:
    grounded: bool
    share: float  # share of the answer's new content words found in the context
    missing: list[str]  # key spans (numbers, names) of the answer absent from the context
    why: str

    def as_json(self) -> dict:
        return {"grounded": self.grounded, "share": round(self.share, 3), "missing": self.missing, "why": self.why}


def grade_answer(answer: str, question: str, context_text: str, *, kind: str, min_share: float = 0.6) -> AnswerGrade:
    share = grounded_share(answer, question, context_text)
    ctx_lower = context_text.lower()
    keys = candidates(answer, NUMBER, question) + candidates(answer, PERSON, question)
    missing = [k for k in keys if not holds(ctx_lower, k.strip(".,%").lower())]
    typed = kind == ANY or bool(candidates(answer, kind, question))
    if missing:
        return AnswerGrade(False, share, missing, "the answer has numbers or names the context lacks")
    if not typed:
        return AnswerGrade(False, share, missing, f"the answer holds no {kind}")
    if share < min_share:
        return AnswerGrade(False, share, missing, "most of the answer is not in the context")
    return AnswerGrade(True, share, missing, "the answer is supported by the context")


class LLMJudge:
    """Yes/no judgements from a capable model; ``None`` when its reply is neither."""

    def __init__(self, model: ChatModel, *, options: GenerationOptions | None = None) -> None:
        self.model = model
        self.options = options or GenerationOptions(max_tokens=4, deterministic=True)

    def _ask(self, prompt: str) -> bool | None:
        reply = self.model.generate([
            {"role": "system", "content": "You are a strict grader. Reply with one word: yes or no."},
            {"role": "user", "content": prompt},
        ], self.options).text.strip().lower()
        return True if reply.startswith("yes") else False if reply.startswith("no") else None

    def relevant(self, question: str, passage: str) -> bool | None:
        return self._ask(f"Passage:\n{passage}\n\nDoes the passage help answer this question: {question}")

    def answers(self, question: str, passage: str) -> bool | None:
        """Stricter than ``relevant``: the passage states the answer (used to overrule the gate)."""
        return self._ask(f"Passage:\n{passage}\n\nDoes the passage state the answer to this question: {question}")

    def grounded(self, question: str, answer: str, context: str) -> bool | None:
        return self._ask(
            f"Context:\n{context}\n\nQuestion: {question}\nAnswer: {answer}\n\n"
            "Is every fact in the answer stated in the context, and does it answer the question?"
        )


_STOP = frozenset(
    """a an and are as at be by can for from has have in is it its of on or that the their this to was were
    will with who what when which must may also only each every all any per than then there these they""".split()
)
# Capitalised words that name no entity worth a hop: weekdays, months, time zones, currencies.
_DULL = frozenset(
    """monday tuesday wednesday thursday friday saturday sunday cet cest utc gmt eur usd gbp it the this
    every each""".split() + _MONTHS.split()
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
