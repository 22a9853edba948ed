"""Where a question comes from: the clause around an answer span, and the wh-phrase for it.

    sub, span = clause_around(tokens, span)   # "... costs EUR 49 per seat per month" (one clause)
    r0, r1, tail, whs = wh_phrase(sub, span)  # remove sub[r0:r1]; whs == ["how much", "what amount"]

``clause_around`` trims a sentence to the clause that holds the span (dropping coordinated
predicates, non-restrictive relative clauses and a subject's appositive); ``wh_phrase`` picks
the wh-phrase from the span's kind and the words around it: a preposition it absorbs ("in 2011"
-> "when") or carries ("within 5 minutes" -> "within how many minutes"), a modifier ("up to"),
a determiner ("a 15 percent discount" -> "what percentage discount").
"""

from __future__ import annotations

import re

from finetune.dataset.clause import AUX, BE, MODALS, SUBORDINATORS, analyse, inflect, is_participle, lemmas, starts_predicate, verb_form
from finetune.dataset.spans import Span, approx_before

MODIFIERS = ("no more than", "up to", "at least", "at most", "more than", "less than", "fewer than", "no later than")
PREPS = frozenset("in on at during since until by before after from for within of to than across per with over under into".split())
_WHEN_PREPS = frozenset("in on at during".split())
_CONJ = frozenset("and but while whereas so although though".split())
_REL = frozenset("that which who whose where when".split())


def clause_around(tokens: list[str], span: Span) -> tuple[list[str], Span]:
    """The clause around the span and the span's place in it.

    It starts after a '; ' or ', and <new subject>' before the span and ends at the next comma,
    semicolon, colon or 'and <verb>' after it. Coordinated predicates before the span are
    dropped ("The list was revised on X and is maintained by Y" -> "The list is maintained by Y"),
    and so is an appositive right after a subject span ("Jonas Ilves, the VP Engineering, runs").
    """
    start = 0
    for i in range(span.start - 1, 0, -1):
        if tokens[i] in {";", ":"}:
            start = i + 1
            break
        if tokens[i] == "," and i + 2 < span.start and tokens[i + 1].lower() in _CONJ and not starts_predicate(*tokens[i + 2 : i + 4]):
            start = i + 2
            break
        if tokens[i].lower() in {"and", "but"} and tokens[i - 1] != "," and _new_clause(tokens, i + 1, span.start):
            start = i + 1  # "... every night and updates are staged to 10 percent"
            break
    if tokens[start].lower() in SUBORDINATORS and "," not in tokens[start : span.start]:
        start += 1  # the span sits in "If <clause>, ...": ask about that clause alone
    resume = span.end
    at_subject = span.start == start or (span.start > start and analyse(tokens[start:span.start] + ["X"]).verb is None)
    if at_subject and resume + 1 < len(tokens) and tokens[resume] == "," and tokens[resume + 1].lower() in {"the", "a", "an", "our"}:
        close = next((k for k in range(resume + 1, min(len(tokens), resume + 10)) if tokens[k] == ","), None)
        if close is not None:
            resume = close + 1
    end = len(tokens)
    for k in range(resume, len(tokens)):
        if tokens[k] in {",", ";", ":", "(", ".", "!", "?"} or (
                tokens[k].lower() in {"and", "but", "or"} and k + 1 < len(tokens)
                and (starts_predicate(*tokens[k + 1 : k + 3]) or tokens[k + 1][:1].isdigit()
                     or any(t.lower() in AUX or verb_form(t) for t in tokens[k + 1 : k + 5]))):
            end = k
            break
    head = _drop_relatives(tokens[start : span.start])
    c = analyse(head + ["X"])
    if c.verb is not None:  # "... was revised on X and is maintained by [span]": keep subject + 2nd predicate
        for k in range(len(head) - 1, c.verb, -1):
            if head[k].lower() in {"and", "but", ","} and k + 1 < len(head) \
                    and starts_predicate(*(head + tokens[span.start : span.start + 1])[k + 1 : k + 3]) \
                    and not (head[c.verb].lower() in BE | {"has", "have", "had"} and is_participle(head[k + 1])):
                modal = [head[c.verb]] if head[c.verb].lower() in MODALS and head[k + 1].lower() not in AUX else []
                head = head[: c.subject[1]] + modal + head[k + 1 :]
                break
    sub = head + tokens[span.start : span.end] + tokens[resume:end]
    return sub, Span(len(head), len(head) + span.end - span.start, span.kind, span.unit)


def _new_clause(tokens: list[str], i: int, stop: int) -> bool:
    """A short subject at ``i`` and its verb within four tokens, before ``stop``."""
    if i >= stop or starts_predicate(*tokens[i : i + 2]) or not tokens[i][:1].islower():
        return False
    c = analyse(tokens[i:stop])
    return c.verb is not None and c.intro is None and c.verb <= 4 and not any(
        t in {",", ";"} or t.lower() in _REL | SUBORDINATORS for t in tokens[i : i + c.verb])


def _drop_relatives(head: list[str]) -> list[str]:
    """Remove non-restrictive relative clauses: 'A bundle, which contains ..., is sold' -> 'A bundle is sold'."""
    out, i = [], 0
    while i < len(head):
        if head[i] == "," and i + 1 < len(head) and head[i + 1].lower() in {"which", "who"}:
            close = next((k for k in range(i + 2, len(head)) if head[k] == ","), None)
            resumes = close is not None and any(t.lower() in AUX or verb_form(t) for t in head[close + 1 :])
            if resumes:
                i = close + 1
                continue
        out.append(head[i])
        i += 1
    return out


def wh_phrase(sub: list[str], sp: Span) -> tuple[int, int, int, list[str]]:
    """(removal start, removal end, end of the phrase a fronted wh carries along, wh-phrases)."""
    a, b = sp.start, sp.end
    low = [t.lower() for t in sub]
    mod = ""
    for m in MODIFIERS:
        n = len(m.split())
        if a >= n and " ".join(low[a - n : a]) == m:
            mod, a = m + " ", a - n
            break
    if not mod and a >= 2 and low[a - 2] == "the" and low[a - 1] in {"first", "last", "next", "following", "remaining"}:
        mod, a = f"the {low[a - 1]} ", a - 2  # "for the first 90 days"
    if not mod and approx_before(sub, a):
        a -= 1  # "roughly 4,300 customers": the question drops the hedge
    det = a > 0 and low[a - 1] in {"a", "an", "the"} and sp.kind in {"money", "percent", "quantity", "duration"}
    if det:
        a -= 1
    prep = low[a - 1] if a > 0 and low[a - 1] in PREPS else ""
    tail = b
    while det and tail < len(sub) and sub[tail].isalpha() and low[tail] not in PREPS | AUX | _CONJ and not verb_form(sub[tail]):
        tail += 1  # "a 15 percent discount" -> the wh-phrase carries "discount"
    if tail == b and b < len(sub) and low[b] == "of":
        tail = b + 1  # "within 60 days of its release": the of-phrase moves with the wh-phrase
        while tail < len(sub) and tail - b <= 5 and sub[tail] not in {",", ";", "."} and low[tail] not in PREPS | AUX | _CONJ | _REL:
            tail += 1
    kind, unit = sp.kind, sp.unit
    p = prep + " " if prep else ""
    if kind in {"date", "year", "time", "daterange", "timerange"}:
        text = " ".join(sub[sp.start : sp.end])
        if kind == "date":
            specific = "on what date" if re.match(r"\d", text) and re.search(r"\d{4}", text) else (
                "on what day" if re.match(r"\d", text) else "in which month and year")
        else:
            specific = {"year": "in which year", "time": "at what time", "daterange": "between which dates",
                        "timerange": "between which times"}[kind]
        if prep in _WHEN_PREPS or not prep:
            return (a - 1 if prep else a), b, b, ["when", specific]
        return a - 1, b, b, [f"{prep} when", f"{prep} which date" if kind != "year" else f"{prep} which year"]
    if kind == "frequency":
        return a, b, b, ["how often"]
    if kind == "duration":
        unit = plural(unit)
        if det or mod.startswith("the ") or (b < len(sub) and low[b] == "of"):  # "12 months of Starter", "the two days": a count  # "12 months of Starter": a count, not a length of time
            return (a - 1 if prep else a), b, tail, [f"{p}{mod}how many {unit}"]
        if prep == "for" and not mod:
            return a - 1, b, b, ["how long", f"for how many {unit}"]
        if not prep and not mod:
            return a, b, b, ["how long", f"how many {unit}"]
        return (a - 1 if prep else a), b, b, [f"{p}{mod}how many {unit}"]
    if kind == "quantity":
        unit = plural(unit)
        return (a - 1 if prep else a), b, tail, [f"{p}{mod}how many {unit}", f"{p}{mod}what number of {unit}"]
    if kind == "money":
        if det and tail > b:
            return a, b, tail, ["how large a"]
        return (a - 1 if prep else a), b, tail, [f"{p}{mod}how much", f"{p}{mod}what amount"]
    if kind == "percent":
        if tail > b:
            return (a - 1 if prep else a), b, tail, [f"{p}{mod}what percentage"]
        return (a - 1 if prep else a), b, tail, [f"{p}{mod}what percentage", f"{p}{mod}what share"]
    if kind == "version":
        return (a - 1 if prep else a), b, tail, [f"{p}which version of {unit}" if unit else f"{p}which version"]
    if kind == "team":
        a2 = a - 1 if a > 0 and low[a - 1] == "the" else a
        prep2 = low[a2 - 1] if a2 > 0 and low[a2 - 1] in PREPS else ""
        return (a2 - 1 if prep2 else a2), b, b, [f"{prep2} which {unit}".strip(), f"{prep2} whom".strip() if prep2 else "who"]
    # person
    return (a - 1 if prep else a), b, b, [f"{prep} whom" if prep else "who"]


def plural(phrase: str) -> str:
    """'user' -> 'users'; 'Reed loggers' stays."""
    words = phrase.split()
    if not words:
        return phrase
    forms = inflect(words[-1], "NNS") if words[-1].isalpha() and words[-1].islower() else ()
    if forms and words[-1] in lemmas(words[-1]).get("NOUN", ()):
        words[-1] = forms[0]
    return " ".join(words)
