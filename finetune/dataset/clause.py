"""Just enough English clause structure to turn a statement into questions, without a parser.

    tokens = tokenize("In 2013 the founders closed a seed round of EUR 1.2 million.")
    c = analyse(tokens)   # Clause(intro=(0, 2), subject=(2, 4), verb=4, verb_kind="VBD", end=11)
    detok(tokens[2:4])    # "the founders"

Heuristics over word shapes plus lemminflect's dictionary (which words can be verbs, their
lemmas and inflections): an auxiliary ("is", "can", "has") or a finite lexical verb ("costs",
"launched") after a short subject. When the shape is unclear the analysis says so
(``verb=None``) and the caller keeps to question forms that need no inversion.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

_TOKEN = re.compile(
    r"https?://[^\s,;)]+[^\s,;).]"  # URLs (a trailing full stop is punctuation)
    r"|[€$£](?=\d)"  # currency sign before a number
    r"|\d[\d,.:]*\d(?:st|nd|rd|th)?(?:-[a-z]+)*%?|\d(?:st|nd|rd|th)?(?:-[a-z]+)*%?"  # 9,100 84.3 15:00 50% 1-year 38,000th
    r"|[\w#][\w'’\-./@+&]*[\w%]|\w"  # words: crew's  day-to-day  v3  e.g  wharf.marrowfield.internal
    r"|[^\w\s]"
)
AUX = frozenset("is are was were has have had can could will would shall should may might must does do did".split())
BE = frozenset("is are was were".split())
MODALS = frozenset("can could will would shall should may might must".split())
_RELATIVE = frozenset("who which that whose whom where when".split())
INTRO_PREPS = frozenset("in on at during since by from until after before as for throughout within with without through under across despite".split())
SUBORDINATORS = frozenset("if when while unless although though whenever because once where".split())
_INTRO_ADVERBS = frozenset("also however additionally finally today currently otherwise furthermore moreover meanwhile instead".split())
_DETERMINERS = frozenset("the a an its their our his her this these those each every of for to in on with and or no any some".split())
_NOT_VERBS = frozenset(
    "this these those there here its it's news series species basis status bus process access address "
    "less unless plus thus always perhaps sometimes whereas towards afterwards analysis canvas lens "
    "gas bias class glass pass business wellness".split()
)


def tokenize(text: str) -> list[str]:
    return _TOKEN.findall(text)


def token_spans(text: str) -> list[tuple[int, int]]:
    return [m.span() for m in _TOKEN.finditer(text)]


def detok(tokens: list[str] | tuple[str, ...]) -> str:
    text = " ".join(tokens)
    text = re.sub(r"\s+([,.;:!?%)\]])", r"\1", text)
    text = re.sub(r"([(\[$€£])\s+", r"\1", text)
    text = re.sub(r"\s*([/])\s*", r"\1", text)
    text = re.sub(r"\"\s+(.*?)\s+\"", r'"\1"', text)
    return text.strip()


@lru_cache(maxsize=None)
def lemmas(word: str) -> dict[str, tuple[str, ...]]:
    from lemminflect import getAllLemmas

    return getAllLemmas(word)


@lru_cache(maxsize=None)
def inflect(lemma: str, tag: str) -> tuple[str, ...]:
    from lemminflect import getInflection

    return tuple(getInflection(lemma, tag=tag))


def is_dictionary_word(word: str) -> bool:
    return bool(lemmas(word.lower()))


def verb_form(word: str) -> tuple[str, str] | None:
    """(lemma, "VBZ"|"VBD") when ``word`` is a finite -s or past form of a verb."""
    if not word.isalpha() or not word.islower() or word in _NOT_VERBS:
        return None
    for lemma in lemmas(word).get("VERB", ()):
        if word in inflect(lemma, "VBZ") and word != lemma:
            return lemma, "VBZ"
        if word in inflect(lemma, "VBD"):
            return lemma, "VBD"
    return None


def is_plural_noun(word: str) -> bool:
    forms = lemmas(word.lower()).get("NOUN", ())
    return bool(forms) and word.lower() not in forms or word.lower() in {"people", "staff", "employees"}


@dataclass(frozen=True)
class Clause:
    start: int  # first token of the clause (after a dropped leading adverb)
    intro: tuple[int, int] | None  # leading adverbial ("In 2013", "As of 1 January 2025,")
    subject: tuple[int, int]  # token range of the subject
    verb: int | None  # index of the finite verb or auxiliary; None when unclear
    verb_kind: str  # "AUX" | "VBZ" | "VBD" | ""
    lemma: str  # the verb's lemma for do-support ("cost"); "" for auxiliaries
    end: int  # one past the clause's last token (before ; or final punctuation)


def analyse(tokens: list[str], *, stop: int | None = None) -> Clause:
    """The main clause's parts; ``stop`` bounds the search for the verb (e.g. an answer span)."""
    n = len(tokens)
    end = n
    while end > 0 and tokens[end - 1] in {".", "!", "?", ";", ":"}:
        end -= 1
    start = 0
    if tokens and tokens[0].lower() in _INTRO_ADVERBS:
        start = 1 + (1 if n > 1 and tokens[1] == "," else 0)
    intro = _intro(tokens, start)
    subj_start = intro[1] + (1 if intro and intro[1] < n and tokens[intro[1]] == "," else 0) if intro else start
    limit = min(stop if stop is not None else end, end)
    verb, kind, lemma = _find_verb(tokens, subj_start, limit)
    if verb is None:
        return Clause(start, intro, (subj_start, subj_start), None, "", "", end)
    return Clause(start, intro, (subj_start, verb), verb, kind, lemma, end)


def _intro(tokens: list[str], start: int) -> tuple[int, int] | None:
    """A leading adverbial: up to a comma within 12 tokens when no verb precedes it, or a
    preposition with a date/number right after it ("In 2013 the founders ...")."""
    first = tokens[start].lower() if start < len(tokens) else ""
    if first in SUBORDINATORS:  # "If the error rate exceeds 2 percent, Quarry rolls back"
        close = next((i for i in range(start + 1, min(len(tokens), start + 25)) if tokens[i] == ","), None)
        if close is not None:
            return (start, close)
    if first in {"once", "twice", "every", "each"}:  # "Once a year Quarry enforces ..."
        for i in range(start + 1, min(len(tokens), start + 4)):
            if tokens[i].lower() in {"year", "month", "week", "day", "quarter", "night", "morning"}:
                return (start, i + 1)
    if first not in INTRO_PREPS | {"as"}:
        return None
    for i in range(start + 1, min(len(tokens), start + 12)):
        if tokens[i] == ",":  # "With a fully charged battery, it runs ...": participles may occur
            if all(t.lower() not in AUX and (verb_form(t) is None or is_participle(t)) for t in tokens[start + 1 : i]):
                return (start, i)
            break
    i = start + 1
    while i < len(tokens) and (tokens[i][0].isdigit() or tokens[i] in _MONTHS or tokens[i].lower() in {"of", "year", "early", "late", "mid"}):
        i += 1
    if i > start + 1 and any(t[0].isdigit() for t in tokens[start + 1 : i]):
        return (start, i)
    return None


_PARTICIPLE_NEXT = frozenset("by in at from for on with under".split())
_MONTHS = frozenset(
    "January February March April May June July August September October November December".split()
)


_PARTICLES = frozenset("up down out off over back in on away about around".split())
_LIGHT_VERB_OBJECTS = frozenset("place part care effect action charge shape hold root".split())


def _noun_here(tokens: list[str], i: int, form: tuple[str, str]) -> bool:
    """An -s word that can be a plural noun is one here when a verb, 'of' or 'and' follows it
    ("research institutes receive", "contracts of three years")."""
    nxt = tokens[i + 1].lower() if i + 1 < len(tokens) else ""
    if nxt in AUX:  # "the owning crew must": the word before an auxiliary ends the subject
        return True
    if form[1] != "VBZ" or "NOUN" not in lemmas(tokens[i]) or nxt in _LIGHT_VERB_OBJECTS:
        return False
    return nxt in {"of", "and", "or", ",", "that", "which", "who"} or nxt in AUX or bool(
        nxt.isalpha() and nxt.islower() and nxt not in _PARTICLES and nxt in lemmas(nxt).get("VERB", ()))


def is_verbish(token: str) -> bool:
    """An auxiliary, a finite verb, or a participle: what a verb's complement can follow."""
    low = token.lower()
    if low in AUX or verb_form(low):
        return True
    if not token.isalpha() or not token.islower():
        return False
    forms = lemmas(low)
    return any(low in inflect(lem, "VBN") or low in inflect(lem, "VBG") for lem in forms.get("VERB", ()))


def starts_predicate(token: str, nxt: str = "") -> bool:
    """True when a clause can start here without a subject ("and is maintained", "and invite").
    A word that can also be a noun counts only before an object-like word ("and starts every",
    not "and sports subsidy" or "contracts start")."""
    low = token.lower()
    if low in AUX:
        return True
    if not token.isalpha() or not token.islower():
        return False
    forms = lemmas(low)
    if not (verb_form(low) is not None or ("VERB" in forms and low in forms["VERB"])):
        return False
    if "NOUN" not in forms:
        return True
    n = nxt.lower()
    return bool(n) and (n in _DETERMINERS or (n.isalpha() and n.islower() and is_plural_noun(n)) or n[:1].isdigit() or n in {"eur", "usd", "gbp", "€", "$", "£"} or n.endswith("ly"))


def is_participle(token: str) -> bool:
    low = token.lower()
    return any(low in inflect(lem, "VBN") for lem in lemmas(low).get("VERB", ()))


def _find_verb(tokens: list[str], begin: int, limit: int) -> tuple[int | None, str, str]:
    aux = next((i for i in range(begin + 1, limit) if tokens[i].lower() in AUX), None)
    lexical = None
    for i in range(begin + 1, limit):
        if tokens[i] in {",", ";", "(", ")"}:
            break
        forms = lemmas(tokens[i]) if tokens[i].isalpha() and tokens[i].islower() else {}
        if tokens[i] in forms.get("VERB", ()) and not {"NOUN", "ADJ", "ADV"} & forms.keys() and tokens[i - 1].lower() not in {"to"} | AUX:
            break  # "customers get SMS alerts": a plain present verb; what follows is its object
        form = verb_form(tokens[i])
        if form and tokens[i - 1].lower() not in _DETERMINERS and not _noun_here(tokens, i, form):
            lexical = (i, form)
            break
    # A relative clause in the subject ("Customers who pay ...") hides where the subject ends.
    first = min(x for x in (aux, lexical[0] if lexical else None, limit) if x is not None)
    if any(t.lower() in _RELATIVE for t in tokens[begin:first]) or any(t == "," for t in tokens[begin:first]):
        return None, "", ""
    if lexical and (aux is None or lexical[0] < aux):
        i, (lemma, kind) = lexical
        # "Sensor data collected by X is kept": an -ed participle right before a later 'is'.
        if kind == "VBD" and aux is not None and aux - i <= 6 and tokens[i + 1].lower() in _PARTICIPLE_NEXT:
            return aux, "AUX", ""
        return i, kind, lemma
    if aux is not None:
        word = tokens[aux].lower()
        nxt = tokens[aux + 1] if aux + 1 < len(tokens) else ""
        if word in {"has", "have", "had"} and not (is_participle(nxt) or nxt.lower() in {"been", "not", "never", "also", "already", "to"}):
            return aux, ("VBD" if word == "had" else "VBZ" if word == "has" else "VBP"), "have"
        return aux, "AUX", ""
    return None, "", ""
