"""Answer spans in a sentence: the short, checkable facts a question can ask for.

    find_spans(tokens, text, spans_of_tokens, lexicon)
    # "The Team plan costs EUR 49 per seat per month." -> [Span(4, 6, "money")]   (EUR 49)

Kinds: money, percent, daterange, timerange, date, time, frequency, duration, version,
quantity, year, person (names by shape and context), team ("by the Keel crew"). Regexes run on
the text and are mapped to token ranges; a match that does not fall on token boundaries (inside
a URL, an e-mail address, a product code) is dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from finetune.dataset.clause import is_dictionary_word, is_plural_noun, lemmas, verb_form
from finetune.dataset.text import STOPWORDS, Lexicon

_NUM = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
_NUMW = r"one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|forty|fifty|sixty|ninety"
_ANY_NUM = rf"(?:{_NUM}|(?:{_NUMW})\b)"
_MONTH = r"January|February|March|April|May|June|July|August|September|October|November|December"
_UNIT = r"(?:working |business |calendar |full |consecutive )?(?:seconds?|minutes?|hours?|days?|weeks?|months?|years?|sprints?|quarters?)"
_WEEKDAY = r"Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday"
_TIME = r"\d{1,2}:\d{2}(?:\s?(?:CET|CEST|UTC|GMT|ET|PT|local time))?"
_DAY = rf"\d{{1,2}}(?:\s(?:{_MONTH}))?(?:\s\d{{4}})?"

# (kind, pattern); earlier kinds win where matches overlap. Group 1, when present, is the span.
_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("money", re.compile(
        rf"(?:\b(?:EUR|USD|GBP|CHF|SEK|NOK|DKK|PLN|CAD|SGD|AUD|JPY)\s?|[€$£])(?:{_NUM})(?:\s?(?:million|billion|thousand|bn)\b)?"
        rf"|\b(?:{_NUM})\s(?:euros?|dollars?|pounds)\b")),
    ("percent", re.compile(rf"\b{_ANY_NUM}\s?(?:percent\b|per cent\b|%)")),
    ("daterange", re.compile(rf"\b(?:from\s)?{_DAY}\s(?:to|until|and)\s\d{{1,2}}\s(?:{_MONTH})(?:\s\d{{4}})?\b")),
    ("timerange", re.compile(rf"\b(?:between|from)\s{_TIME}\s(?:and|to|until)\s{_TIME}|\b{_TIME}\s(?:to|until)\s{_TIME}")),
    ("date", re.compile(
        rf"\b\d{{1,2}}\s(?:{_MONTH})(?:\s\d{{4}})?\b|\b(?:{_MONTH})\s\d{{1,2}}(?:st|nd|rd|th)?,?\s\d{{4}}\b"
        rf"|\b(?:early |late |mid-)?(?:{_MONTH})\s\d{{4}}\b|\b\d{{4}}-\d{{2}}-\d{{2}}\b")),
    ("time", re.compile(rf"\b{_TIME}")),
    ("frequency", re.compile(
        rf"\b(?:once|twice|{_ANY_NUM}\stimes)\s(?:a|per|every|each)\s(?:{_ANY_NUM}\s)?(?:{_UNIT}|[a-z]+)\b"
        rf"|\bevery\s(?:{_ANY_NUM}\s)?(?:{_UNIT}|{_WEEKDAY}|morning|evening|night)\b")),
    ("duration", re.compile(rf"\b{_ANY_NUM}\s{_UNIT}\b")),
    ("version", re.compile(r"\b(?:version|release)\s\d+(?:\.\d+)*\b|\bv\d+(?:\.\d+)*\b|\b[A-Z][A-Za-z]+\s\d+\.\d+(?:\.\d+)?\b")),
    ("quantity", re.compile(rf"\b(?:{_ANY_NUM}\s(?:to|or)\s)?{_ANY_NUM}\s(?:[A-Z][\w-]*\s)?(?:[a-z][a-z-]+\s)?[a-z][a-z-]+\b")),
    ("year", re.compile(r"\b(?:[Ii]n|[Ss]ince|[Uu]ntil|[Ff]rom|[Bb]y|[Bb]efore|[Aa]fter|[Dd]uring)\s((?:19|20)\d{2})\b(?![.,]\d)")),
]
_PARTICLES = frozenset("de van der von da dos del di le la ten ter den bin al".split())
_TEAM_NOUNS = frozenset("team crew group department board office committee unit squad guild council".split())
_CAPITALISED = re.compile(r"[A-Z][a-z]+(?:-[A-Z][a-z]+)?")
_APPROX = frozenset("about around roughly approximately nearly almost some over".split())


@dataclass(frozen=True)
class Span:
    start: int  # token index of the answer's first token
    end: int  # one past its last token
    kind: str
    unit: str = ""  # counted noun ("devices"), time unit ("months") or versioned name ("Quarry")


def find_spans(tokens: list[str], text: str, offsets: list[tuple[int, int]], lexicon: Lexicon) -> list[Span]:
    """Non-overlapping answer spans in sentence order."""
    taken: list[Span] = []
    for kind, pattern in _PATTERNS:
        for m in pattern.finditer(text):
            lo, hi = m.span(1) if m.groups() else m.span()
            rng = _token_range(offsets, lo, hi)
            if rng is None or any(rng[0] < s.end and s.start < rng[1] for s in taken):
                continue
            span = _refine(kind, tokens, *rng)
            if span is not None:
                taken.append(span)
    for span in _names(tokens, lexicon) + _teams(tokens):
        if not any(span.start < s.end and s.start < span.end for s in taken):
            taken.append(span)
    return sorted(taken, key=lambda s: s.start)


def _token_range(offsets: list[tuple[int, int]], lo: int, hi: int) -> tuple[int, int] | None:
    first = next((i for i, (a, _) in enumerate(offsets) if a == lo), None)
    last = next((i for i, (_, b) in enumerate(offsets) if b == hi), None)
    if first is None or last is None or last < first:
        return None
    return first, last + 1


def _refine(kind: str, tokens: list[str], start: int, end: int) -> Span | None:
    """Drop identifiers that only look like numbers; name the unit a question will count."""
    prev = tokens[start - 1] if start else ""
    if kind in {"quantity", "duration", "percent", "year"} and prev[:1].isupper() and prev.lower() not in {"in", "since", "until", "from", "by", "before", "after", "during"}:
        if prev.isupper() or not is_dictionary_word(prev):  # "ISO 8601 strings", "HTTP 429"
            return None
    if kind == "quantity":
        number = tokens[start].lower()
        if end - start >= 3 and not is_plural_noun(tokens[end - 1]) and tokens[end - 2].islower():
            end -= 1  # "612 people across": the counted noun is the word before
        noun = tokens[end - 1]
        if not is_plural_noun(noun) or number in {"1", "one"} or noun in {"percent", "times"}:
            return None
        first = start + 3 if end - start >= 4 and tokens[start + 1] in {"to", "or"} else start + 1
        return Span(start, end, kind, unit=" ".join(tokens[first:end]))
    if kind == "duration":
        return Span(start, end, kind, unit=tokens[end - 1])
    if start >= 2 and prev in {"and", "or", ","} and tokens[start - 2][:1].isdigit():
        return None  # "after 30, 60 and 90 days": one item of a list
    if kind == "version":
        if prev[:1].isupper() or " ".join(tokens[end : end + 2]).lower() == "out of":
            return None  # "Harbour Week 4.6 out of 5" is a rating
        name = tokens[start] if tokens[start][:1].isupper() and not tokens[start].lower().startswith("v") else ""
        return Span(start, end, kind, unit=name if name.lower() not in {"version", "release"} else "")
    return Span(start, end, kind)


def _names(tokens: list[str], lexicon: Lexicon) -> list[Span]:
    """Person names: 2-4 capitalised non-dictionary words (particles allowed), or two joined by 'and'."""
    spans: list[Span] = []
    i = 0
    while i < len(tokens):
        j = _name_end(tokens, i, lexicon)
        if j is None:
            i += 1
            continue
        if j + 1 < len(tokens) and tokens[j] == "and":
            k = _name_end(tokens, j + 1, lexicon)
            if k is not None:
                j = k
        nxt = tokens[j] if j < len(tokens) else ""
        if not (nxt.isalpha() and nxt.islower() and "NOUN" in lemmas(nxt) and not verb_form(nxt)):
            spans.append(Span(i, j, "person"))  # not "North American utilities"
        i = j
    return spans


def _name_end(tokens: list[str], i: int, lexicon: Lexicon) -> int | None:
    """End of a name starting at ``i``: at least half its words (and two at least) unknown to
    the dictionary, so 'Priya Lindqvist' and 'Marcus Lee' count but 'Harbour Week' does not."""
    words: list[str] = []
    j = i
    while j < len(tokens) and j - i < 5:
        tok = tokens[j]
        if tok in _PARTICLES and words:
            j += 1
        elif _CAPITALISED.fullmatch(tok) and (words or j == 0 or tok in lexicon.proper):
            words.append(tok)
            j += 1
        else:
            break
    while j > i and tokens[j - 1] in _PARTICLES:
        j -= 1
    if len(words) < 2 or any(w.lower() in STOPWORDS for w in words) or is_dictionary_word(words[-1]):
        return None
    unknown = sum(not is_dictionary_word(w) for w in words)
    return j if 2 * unknown >= len(words) else None


def _teams(tokens: list[str]) -> list[Span]:
    """'by the Revenue Operations team' -> the capitalised name plus its team noun."""
    spans = []
    for i, tok in enumerate(tokens[:-2]):
        if tok.lower() != "by":
            continue
        j = i + 1 + (tokens[i + 1].lower() == "the")
        k = j
        while k < len(tokens) and tokens[k][:1].isupper():
            k += 1
        if k > j and k < len(tokens) and tokens[k].lower() in _TEAM_NOUNS:
            spans.append(Span(j, k + 1, "team", unit=tokens[k].lower()))
    return spans


def approx_before(tokens: list[str], start: int) -> bool:
    return start > 0 and tokens[start - 1].lower() in _APPROX
