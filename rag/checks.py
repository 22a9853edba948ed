"""The checks both RAG routes share: what a question asks for, and whether an answer is one.

    kind = expected_type("How many days of leave?")            # "number"
    candidates("It lasts 27 days.", kind, question)           # ["27"]: spans of that kind
    problem = shape_problem(answer)                            # echo, "don't know", fragment, or None
    kept, dropped = supported_answer(answer, question, ctx.text)   # sentences whose specifics the context holds
    grade = grade_answer(answer, question, ctx.text, kind=kind)    # supported, typed, mostly from the context
    judge = LLMJudge(model)                                     # optional yes/no votes from a capable model

They are rules, not a model, because the 135M default model cannot judge (as a yes/no verifier of
question and best sentence it scored AUC 0.54 on the sample corpus's calibration questions).
Numbers and person-like names are the claims that can be checked by containment: the model
copies the context well but sometimes invents the one specific that matters ("The CarePlus
extended warranty is $100."), so a sentence whose numbers or names appear nowhere in the context
is unsupported. Words are not checked: small models paraphrase them, and ``rag.citations``
reports the overlap. ``rag.naive`` and ``rag.agentic`` call these in their verify step; nothing
here retrieves or generates.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.chat_model import ChatModel, GenerationOptions
from rag.citations import grounded_share
from rag.context import SYSTEM_PROMPT

# -- what the question asks for -------------------------------------------------------------------

PERSON, NUMBER, DATE, ANY = "person", "number", "date", "any"
MONTHS = "january february march april may june july august september october november december"
_DATE = re.compile(
    rf"\b(\d{{1,2}} ({MONTHS.replace(' ', '|')})( \d{{4}})?|({MONTHS.replace(' ', '|')}) \d{{4}}|(19|20)\d\d|\d{{4}}-\d\d-\d\d"
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
    """person, date, number or any, from the question's wording."""
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
    """Spans of ``kind`` in ``text`` that the question does not already mention
    ("Who hosts Tidemark?" + "Tidemark is hosted by the CEO" -> no person yet)."""
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


# A specific a quote can answer with: a number, or a code-like token ("--depth", "`x`", "pack.window",
# "MaxRequestsPerChild", "SQLITE_MAX_LENGTH", "iif()").
_SPECIFIC = re.compile(r"\d|(?<![\w-])--?[A-Za-z]|`|\b[a-z]+[._][a-z]|\b[A-Z][a-z]+[A-Z]\w*|\b[A-Z][A-Z_]{2,}\b|\w\(\)")


def states_specific(text: str) -> bool:
    """True when ``text`` holds a number or a code-like token: what factual questions on manuals ask for."""
    return _SPECIFIC.search(text) is not None


def holds(text: str, key: str) -> bool:
    """``key`` occurs in ``text`` as whole words: "Marrow" is not in "Marrowfield", "100" not in "1000"."""
    return re.search(rf"(?<![\w.,]){re.escape(key)}(?![\w]|[.,]\d)", text) is not None


# -- is the reply an answer at all -----------------------------------------------------------------

_MARKER = re.compile(r"\s*\[\d{1,2}\]")
_DONT_KNOW = re.compile(
    r"\b(i (do not|don't|cannot|can't) (know|answer|find)|not (mentioned|stated|specified|provided) in the context"
    r"|(context|documents?) (does|do) not (say|mention|contain|provide|specify)|no information)\b",
    re.IGNORECASE,
)
ECHO, DONT_KNOW, FRAGMENT = "echo", "dont_know", "fragment"


def is_fragment(answer: str) -> bool:
    """A piece of a sentence, not an answer: "across Python releases provided a compatible pickle
    protocol is chosen and" (what the 135M model writes when it copies from mid-sentence)."""
    text = _MARKER.sub("", answer).strip().strip("*_")
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


def shape_problem(answer: str) -> str | None:
    """Why a reply is not an answer, checked in this order: ``echo`` (it repeats the instructions),
    ``dont_know`` (the model declined), ``fragment`` (a piece of a sentence); None when it is one."""
    if leaks_instructions(answer):
        return ECHO
    if says_dont_know(answer):
        return DONT_KNOW
    return FRAGMENT if is_fragment(answer) else None


# -- does the context hold what the answer states ---------------------------------------------------

_SENT_END = re.compile(r"(?<=[.!?])\s+(?=[\"'(\[]?[A-Z0-9])")  # as in rag.context, without joining pronouns


def sentences(text: str) -> list[str]:
    return [p.strip() for line in text.splitlines() for p in _SENT_END.split(line) if p.strip()]


def unsupported(text: str, question: str, context_text: str) -> list[str]:
    """Numbers and names of ``text`` (not already in the question) absent from the context. The
    "[n]" markers are stripped from both first, so a number that only matches a marker is no claim."""
    text = _MARKER.sub("", text)
    ctx = _MARKER.sub("", context_text).lower()
    keys = [k.strip(".,:") for k in candidates(text, NUMBER, question) + candidates(text, PERSON, question)]
    return [k for k in keys if not holds(ctx, k.strip("%").lower())]


def supported_answer(answer: str, question: str, context_text: str) -> tuple[str, list[str]]:
    """(the answer without unsupported sentences, the unsupported specifics that were dropped)
    "It costs EUR 690 [1]. Shipping is $100." over a context without 100 -> ("It costs EUR 690 [1].", ["100"])."""
    kept: list[str] = []
    dropped: list[str] = []
    for sentence in sentences(answer):
        missing = unsupported(sentence, question, context_text)
        if missing:
            dropped += missing
        else:
            kept.append(sentence)
    return " ".join(kept), dropped


@dataclass
class AnswerGrade:
    grounded: bool
    share: float  # share of the answer's new content words found in the context
    missing: list[str]  # key spans (numbers, names) of the answer absent from the context
    why: str

    def as_json(self) -> dict:
        return {"grounded": self.grounded, "share": round(self.share, 3), "missing": self.missing, "why": self.why}


def grade_answer(answer: str, question: str, context_text: str, *, kind: str, min_share: float = 0.6) -> AnswerGrade:
    """Grounded: no unsupported specific, a candidate of the asked kind, most new words from the context."""
    share = grounded_share(answer, question, context_text)
    missing = unsupported(answer, question, context_text)
    if missing:
        return AnswerGrade(False, share, missing, "the answer has numbers or names the context lacks")
    if kind != ANY and not candidates(answer, kind, question):
        return AnswerGrade(False, share, missing, f"the answer holds no {kind}")
    if share < min_share:
        return AnswerGrade(False, share, missing, "most of the answer is not in the context")
    return AnswerGrade(True, share, missing, "the answer is supported by the context")


# -- an optional capable judge ----------------------------------------------------------------------

class LLMJudge:
    """Yes/no judgements from a capable model (over the OpenAI-compatible backend: ``--judge``);
    ``None`` when its reply is neither. The rules above stay as features beside it."""

    def __init__(self, model: ChatModel, *, options: GenerationOptions | None = None) -> None:
        self.model = model
        self.options = options or GenerationOptions(max_tokens=4, deterministic=True)

    @staticmethod
    def _messages(prompt: str) -> list[dict[str, str]]:
        return [{"role": "system", "content": "You are a strict grader. Reply with one word: yes or no."},
                {"role": "user", "content": prompt}]

    def _ask(self, prompt: str) -> bool | None:
        reply = self.model.generate(self._messages(prompt), self.options).text.strip().lower()
        return True if reply.startswith("yes") else False if reply.startswith("no") else None

    def _p_yes(self, prompt: str) -> float:
        """The vote as P(yes) / (P(yes) + P(no)) where the backend exposes first-token logits (the
        in-process ones); over an HTTP endpoint, the generated vote as 1.0 / 0.0 (0.5: neither)."""
        probe = getattr(self.model, "yes_probability", None)
        if probe is not None:
            return probe(self._messages(prompt))
        vote = self._ask(prompt)
        return 0.5 if vote is None else float(vote)

    @staticmethod
    def _answers_prompt(question: str, passage: str) -> str:
        return f"Passage:\n{passage}\n\nDoes the passage state the answer to this question: {question}"

    @staticmethod
    def _grounded_prompt(question: str, answer: str, context: str) -> str:
        return (f"Context:\n{context}\n\nQuestion: {question}\nAnswer: {answer}\n\n"
                "Is every fact in the answer stated in the context, and does it answer the question?")

    # The answer scores' judge mode (``assistant.scoring``), RAGAS's questions asked directly.
    def supported_score(self, statement: str, context: str) -> float:
        """Faithfulness, one statement: does the context support it (RAGAS's NLI verdict)."""
        return self._p_yes(f"Context:\n{context}\n\nStatement: {statement}\n\nIs the statement supported by the context?")

    def addresses_score(self, question: str, answer: str) -> float:
        """Answer relevance: does the answer give what the question asks for (not a related fact)."""
        return self._p_yes(f"Question: {question}\nAnswer: {answer}\n\n"
                           "Does the answer give exactly what the question asks for?")

    def relevant_score(self, question: str, passage: str) -> float:
        """Context relevance: does the passage help answer the question."""
        return self._p_yes(f"Passage:\n{passage}\n\nDoes the passage help answer this question: {question}")

    def relevant(self, question: str, passage: str) -> bool | None:
        return self._ask(f"Passage:\n{passage}\n\nDoes the passage help answer this question: {question}")

    def answers(self, question: str, passage: str) -> bool | None:
        """Stricter than ``relevant``: the passage states the answer (used to overrule the gate)."""
        return self._ask(self._answers_prompt(question, passage))

    def answers_score(self, question: str, passage: str) -> float:
        """``answers`` as a graded score in [0, 1]."""
        return self._p_yes(self._answers_prompt(question, passage))

    def grounded(self, question: str, answer: str, context: str) -> bool | None:
        return self._ask(self._grounded_prompt(question, answer, context))

    def grounded_score(self, question: str, answer: str, context: str) -> float:
        """``grounded`` as a graded score in [0, 1]."""
        return self._p_yes(self._grounded_prompt(question, answer, context))
