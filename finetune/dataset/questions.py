"""Template questions for one answer span, in several wordings that share the same answer.

    questions_for_span(tokens, span, ctx)
    # "The Team plan costs EUR 49 per seat per month." + span "EUR 49" ->
    # ["How much does the Team plan cost per seat per month?",
    #  "Can you tell me how much the Team plan costs per seat per month?",
    #  'According to "Lanternfish Cloud: Plans and Pricing", how much does the Team plan cost ...?',
    #  "The Team plan costs how much per seat per month?", ...]

Four families of wording, so paraphrases differ in more than a word: a direct question (wh-word
fronted, auxiliary inverted or do-support), an embedded question ("Do you know how much ...?"),
the wh-word in place ("... costs how much ...?") and a question anchored to the document title.
Each family may offer a second wh-phrase ("when" / "in which year"). Forms that need clause
structure the analysis could not find are left out, never guessed.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

from finetune.dataset.clause import AUX, Clause, analyse, detok, is_verbish, lemmas, verb_form
from finetune.dataset.frames import PREPS, clause_around, wh_phrase
from finetune.dataset.spans import Span
from finetune.dataset.text import Lexicon, normalize

_PRONOUNS = frozenset("it they he she this these those there its their".split())
_ADVERBIAL = frozenset("date year time daterange timerange duration frequency".split())
_EMBED = ("Can you tell me {}?", "Do you know {}?", "I would like to know {}.", "Please tell me {}.")
_ANCHOR = ('According to "{title}", {q}', 'Based on the document "{title}", {q}')


@dataclass(frozen=True)
class Context:
    title: str
    lexicon: Lexicon
    anchor_all: bool = False  # the sentence only makes sense with its document ("the price list")


def questions_for_span(tokens: list[str], span: Span, ctx: Context, rng: random.Random) -> list[str]:
    """Distinct questions for the span, the most direct first; [] when none reads well."""
    sub, sp = clause_around(tokens, span)
    r0, r1, tail, whs = wh_phrase(sub, sp)
    families = _forms(sub, r0, r1, tail, whs, ctx.lexicon, sp.kind)
    if not any(families.values()):
        return []
    answer = normalize(detok(sub[sp.start : sp.end]))
    seen: set[str] = set()

    def ok(q: str) -> bool:
        key = normalize(q)
        if not key or key in seen or (answer and f" {answer} " in f" {key} ") or not _readable(q):
            return False
        seen.add(key)
        return True

    direct = [q for q in families["direct"] if ok(q)]
    families["insitu"] = [q for q in families["insitu"] if _readable(q)]
    embedded = [f.format(_lower(q)) for q in families["embedded"] for f in rng.sample(_EMBED, 2)]
    insitu = families["insitu"]
    base = (direct or insitu)[:1]
    anchored = [_ANCHOR[i % 2].format(title=ctx.title, q=_lower(q)) for i, q in enumerate(base + direct[1:2])]
    pools = [direct[1:], [q for q in embedded if ok(q)], [q for q in insitu if ok(q)], [q for q in anchored if ok(q)]]
    rng.shuffle(pools)
    out = direct[:1] or [q for q in insitu[:1]]
    while any(pools):
        for pool in pools:
            if pool:
                out.append(pool.pop(0))
    if ctx.anchor_all:
        out = [q for q in out if q.startswith(("According to", ctx.title))] or [
            _ANCHOR[0].format(title=ctx.title, q=_lower(q)) for q in out[:3]]
    return _dedup(out)


def _readable(q: str) -> bool:
    """At least five words and a verb: 'What percentage per month?' is not a question to learn."""
    words = re.findall(r"[\w'-]+", q)
    return len(words) >= 5 and any(w.lower() in AUX or verb_form(w) or _base_verb(w) for w in words[1:])


def _base_verb(word: str) -> bool:
    forms = lemmas(word) if word.isalpha() and word.islower() else {}
    return "VERB" in forms and word in forms["VERB"] and "NOUN" not in forms and "ADJ" not in forms


def _dedup(questions: list[str]) -> list[str]:
    seen, out = set(), []
    for q in questions:
        key = normalize(q)
        if key not in seen:
            seen.add(key)
            out.append(q)
    return out


def _lower(q: str) -> str:
    first = q.split(" ", 1)[0]
    return q if first.isupper() and len(first) > 1 or first in {"I"} else q[:1].lower() + q[1:]


def _forms(sub: list[str], r0: int, r1: int, tail: int, whs: list[str], lex: Lexicon, kind: str) -> dict[str, list[str]]:
    fam: dict[str, list[str]] = {"direct": [], "embedded": [], "insitu": []}
    c = analyse(sub, stop=r0)
    near = sub[max(0, c.verb - 1) : c.verb + 3] if c.verb is not None else []
    head = sub[c.subject[0]].lower() if c.subject[0] < len(sub) else ""
    if sub and (sub[0].lower() in _PRONOUNS or head in _PRONOUNS) or {t.lower() for t in near} & {"not", "never", "n't"}:
        return fam  # an unresolved pronoun or a negated verb: no question reads right
    carry = list(sub[r1:tail])
    if c.intro and c.intro[0] <= r0 < c.intro[1]:
        if (r0, r1) != c.intro:
            return fam  # "As of 1 January 2025, ...": no question reads well
        s0 = r1 + (1 if r1 < len(sub) and sub[r1] == "," else 0)
        inner = analyse(sub[s0:])
        if inner.verb is None:
            return fam
        c = Clause(inner.start + s0, None, (inner.subject[0] + s0, inner.subject[1] + s0), inner.verb + s0,
                   inner.verb_kind, inner.lemma, inner.end + s0)
        return _fronted(fam, sub, c, whs, carry, sub[c.verb + 1 :], [], lex)
    rest = sub[c.start : r0] + ["\0"] + sub[r1:]
    prev = sub[r0 - 1] if r0 > 0 else ""
    nxt = sub[r1].lower() if r1 < len(sub) else ""
    if kind == "person" and (prev.isalpha() and prev.islower() and not is_verbish(prev) and prev not in PREPS or nxt in {"and", "or"}):
        return fam  # "the water board Waterschap Lindemeer": "... the water board who?" reads badly
    fam["insitu"].append(_q(detok(rest).replace("\0", whs[0])))
    intro_tail = [lex.lower_first(detok(sub[c.intro[0] : c.intro[1]]))] if c.intro else []
    subj0 = c.subject[0]
    if r0 == subj0:  # the span is the subject: "Who runs ...?"
        after = sub[max(r1, tail) :]
        if after and (after[0].lower() in AUX or verb_form(after[0])):
            q = _q(detok([whs[0]] + carry + after + intro_tail))
            fam["direct"].append(q)
            fam["embedded"].append(q[:-1])
        return fam
    if not _frontable(sub, r0, c, kind):
        return fam
    if c.verb is not None and r0 > c.verb:
        return _fronted(fam, sub, c, whs, carry, sub[c.verb + 1 : r0] + sub[max(r1, tail) :], intro_tail, lex)
    if c.verb is None and r0 > subj0 + 1 and not _has_verbless_subject(sub, subj0, r0):
        body = [lex.lower_first(detok(sub[subj0:r0]))] + sub[max(r1, tail) :] + intro_tail
        fam["embedded"] += [detok([wh] + carry + body) for wh in whs]
    return fam


def _frontable(sub: list[str], r0: int, c: Clause, kind: str) -> bool:
    """Whether the removed phrase can move to the front: not out of a noun phrase ("a seed
    round of EUR 1.2 million", "the water board Waterschap Lindemeer"), not across a comma."""
    low = [t.lower() for t in sub]
    begin = c.verb if c.verb is not None else c.subject[0]
    if "," in sub[begin:r0]:
        return False
    if r0 > 0 and low[r0] in {"of", "than"}:
        return False
    if low[r0] in PREPS or kind in _ADVERBIAL:
        return True
    k = r0 - 1
    while k > begin and (low[k].endswith("ly") or low[k] in {"instead", "first", "only", "also", "still", "never", "always", "then"}):
        k -= 1
    return k >= 0 and is_verbish(sub[k])


def _fronted(fam, sub, c: Clause, whs, carry, body, intro_tail, lex: Lexicon) -> dict[str, list[str]]:
    """wh + auxiliary (or do-support) + subject + the rest; and the embedded, uninverted order."""
    subject = lex.lower_first(detok(sub[c.subject[0] : c.subject[1]]))
    if not subject or subject.lower() in {"it", "they", "this", "these", "he", "she", "there"}:
        return fam
    verb = sub[c.verb]
    for wh in whs:
        lead = [wh] + carry
        if c.verb_kind == "AUX":
            fam["direct"].append(_q(detok(lead + [verb.lower(), subject] + body + intro_tail)))
        else:
            do = {"VBZ": "does", "VBD": "did", "VBP": "do"}[c.verb_kind]
            fam["direct"].append(_q(detok(lead + [do, subject, c.lemma] + body + intro_tail)))
        fam["embedded"].append(detok(lead + [subject, verb] + body + intro_tail))
    return fam


def _has_verbless_subject(sub: list[str], subj0: int, r0: int) -> bool:
    """True when nothing before the span can be a verb: the span may sit in the subject."""
    return not any(t.lower() in AUX or verb_form(t) or (t.isalpha() and t.islower() and "VERB" in lemmas(t))
                   for t in sub[subj0 + 1 : r0])


def _q(text: str) -> str:
    text = text.rstrip(" ,;:.!?") + "?"
    text = re.sub(r"\s+", " ", text)
    return text[:1].upper() + text[1:]


def definition_questions(term: str, plural: bool, title: str) -> list[str]:
    """Questions for "<term> is <definition>"; ``term`` keeps its article ("a crew")."""
    be = "are" if plural else "is"
    bare = re.sub(r"^(?:a|an|the)\s", "", term, flags=re.IGNORECASE)
    return [
        f"What {be} {term}?",
        f"What does the term {bare} mean?",
        f"Can you explain what {term} {be}?",
        f'According to "{title}", what {be} {term}?',
        f"What is meant by {bare}?",
        f"Define {bare}.",
    ]


def term_questions(description: str, plural: bool, title: str) -> list[str]:
    be, call = ("are", "are") if plural else ("is", "is")
    return [
        f"What {be} {description} called?",
        f"Which term refers to {description}?",
        f"What name is used for {description}?",
        f'In "{title}", what {call} {description} called?',
    ]
