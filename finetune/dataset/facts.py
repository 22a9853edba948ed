"""Rule-based fact extraction: document sentences -> facts with question wordings.

    facts = extract_facts(doc, lexicon, seed=0)
    # Fact(fact_id="f_3c9d...", source="/abs/product/lanternfish-pricing.md",
    #      sentence="The Team plan costs EUR 49 per seat per month.", answer="EUR 49",
    #      kind="money", questions=("How much does the Team plan cost per seat per month?", ...))

A fact is one answer span in one sentence: numbers, money, percentages, dates, times,
durations, frequencies, versions, counted things, people's names, teams, and "X is Y"
definitions (both ways: "What is Tidemark?" and "What is the weekly all-hands meeting
called?"). Tables and records (csv rows, jsonl objects) go through ``records``. The sentence,
with "we"/"our" turned into the organisation's name and a leading "It" resolved to the previous
sentence's subject, is the grounded reply every question of the fact trains on.
"""

from __future__ import annotations

import hashlib
import random
import re
from dataclasses import dataclass

from finetune.dataset.clause import AUX, analyse, detok, inflect, lemmas, token_spans, tokenize
from finetune.dataset.questions import Context, definition_questions, questions_for_span, term_questions
from finetune.dataset.spans import find_spans
from finetune.dataset.text import Lexicon, Passage, normalize, split_sentences, starts_with_pronoun, usable_sentence

MAX_FACTS_PER_SENTENCE = 4
_DEFINITION = re.compile(r"^(?P<article>(?:A|An|The)\s)?(?P<term>[^,;]{1,60}?)\s(?P<verb>is|are|means|refers to)\s(?P<body>(?:a|an|the|our|one of)\s.+)$")
_GENERIC_HEADINGS = frozenset("overview introduction summary about details notes general background contents".split())
_BE_PRESENT = {"are": "is", "were": "was", "have": "has", "do": "does"}


@dataclass(frozen=True)
class Fact:
    fact_id: str
    source: str  # absolute path of the document ("" for imported instruction data)
    title: str
    sentence: str  # the answer-bearing sentence: the assistant's reply
    answer: str  # the short gold answer (a span of the sentence, or a record value)
    kind: str
    questions: tuple[str, ...]  # the most direct wording first
    passage: str  # the paragraph it came from: the gold context of a RAFT example
    group: str = ""  # facts with the same group always share a split (one table, one csv row)


def fact_id(sentence: str, answer: str) -> str:
    digest = hashlib.sha256(f"{normalize(sentence)}\0{normalize(answer)}".encode()).hexdigest()
    return "f_" + digest[:16]


def prose_facts(passage: Passage, lexicon: Lexicon, seed: int) -> list[Fact]:
    """Facts of one prose paragraph, in sentence order."""
    facts: list[Fact] = []
    prev_subject = ""
    for raw in split_sentences(passage.text):
        if not usable_sentence(raw):
            prev_subject = ""
            continue
        sentence, anchor = _resolve(_we_to_org(raw, lexicon.org), prev_subject, passage.heading)
        if sentence is None:
            continue
        tokens = tokenize(sentence)
        prev_subject = _subject_of(tokens)
        rng = random.Random(f"{seed}:{normalize(sentence)}")
        ctx = Context(title=passage.title, lexicon=lexicon, anchor_all=anchor)
        made = _definition_facts(sentence, passage, ctx, rng)
        for span in find_spans(tokens, sentence, token_spans(sentence), lexicon):
            if len(made) >= MAX_FACTS_PER_SENTENCE:
                break
            answer = detok(tokens[span.start : span.end])
            questions = questions_for_span(list(tokens), span, ctx, rng)
            if questions and answer:
                made.append(_fact(passage, sentence, answer, span.kind, questions))
        facts.extend(made)
    return facts


def _fact(passage: Passage, sentence: str, answer: str, kind: str, questions: list[str]) -> Fact:
    return Fact(fact_id(sentence, answer), passage.source, passage.title, sentence, answer, kind,
                tuple(questions), passage.text)


def _definition_facts(sentence: str, passage: Passage, ctx: Context, rng: random.Random) -> list[Fact]:
    """'**Tidemark** is the weekly all-hands meeting.' -> what is Tidemark / what is ... called."""
    m = _DEFINITION.match(sentence.rstrip("."))
    if not m:
        return []
    term, body = m["term"].strip(), m["body"].strip()
    bold = any(term.lower() == b.lower() for b in passage.bold)
    words = term.split()
    capitalised = all(w[:1].isupper() or w.lower() in {"of", "and"} for w in words)
    if not (bold or (capitalised and len(words) <= 3)) or term.lower() in {"it", "this", "that", "there", "we"}:
        return []
    short = _short_np(body)
    plural = m["verb"] == "are"
    original = term
    if not bold and not m["article"]:
        term = ctx.lexicon.lower_first(term)  # "Biofouling is ..." -> "What is biofouling?"
    article = (m["article"] or "").lower()
    named = f"{article}{term}" if article and not (article == "the " and term[:1].isupper()) else term
    if article == "the " and term[:1].isupper():
        named = f"the {term}"
    facts = [_fact(passage, sentence, short, "definition", definition_questions(named, plural, ctx.title))]
    description = short if len(short.split()) <= 14 else ""
    definite = description.lower().startswith("the ") or bold
    if description and definite and not description.lower().startswith(("one of", "our ")):
        questions = term_questions(description, plural, ctx.title)
        facts.append(_fact(passage, sentence, original, "term", questions))
    return facts


def _short_np(body: str) -> str:
    """The defining noun phrase up to the first comma; long relative clauses are cut."""
    np = body.split(", ")[0].split(";")[0].strip()
    words = np.split()
    if len(words) > 14:
        for rel in (" that ", " which ", " who ", " where "):
            if rel in np:
                np = np.split(rel)[0]
                break
    return np.strip()


def _we_to_org(sentence: str, org: str) -> str:
    """'We publish our docs' -> 'Marrowfield publishes Marrowfield's docs' (verb agreement fixed)."""
    tokens = tokenize(sentence)
    if not any(t.lower() in {"we", "our", "us", "ours"} for t in tokens):
        return sentence
    out: list[str] = []
    i = 0
    while i < len(tokens):
        tok, low = tokens[i], tokens[i].lower()
        if low == "we":
            out.append(org[:1].upper() + org[1:] if i == 0 else org)
            j = i + 1
            if j < len(tokens) and tokens[j].lower() in {"also", "never", "always", "often", "still", "only", "now"}:
                out.append(tokens[j])
                j += 1
            if j < len(tokens):
                nxt = tokens[j]
                if nxt.lower() in _BE_PRESENT:
                    out.append(_BE_PRESENT[nxt.lower()])
                    i = j + 1
                    continue
                if nxt.lower() not in AUX and "VERB" in lemmas(nxt) and nxt in lemmas(nxt)["VERB"]:
                    out.append((inflect(nxt, "VBZ") or (nxt,))[0])
                    i = j + 1
                    continue
            i = j
            continue
        if low in {"our", "ours"}:
            name = org[:1].upper() + org[1:] if i == 0 else org
            out.append(name + "'s")
        elif low == "us":
            out.append(org)
        else:
            out.append(tok)
        i += 1
    return detok(out).replace(" 's", "'s")


def _resolve(sentence: str, prev_subject: str, heading: str) -> tuple[str | None, bool]:
    """Resolve a leading pronoun; returns (sentence or None to skip, needs a document anchor)."""
    if re.match(r"^(?:This|These)\s+[a-z]", sentence):
        return "The " + sentence.split(" ", 1)[1], True
    if not starts_with_pronoun(sentence):
        return sentence, False
    first, _, rest = sentence.partition(" ")
    if first in {"It", "They"} and re.match(r"^(?:is|was)\s+\w+\s+(?:that|to)\b", rest):
        return None, False  # "It is recommended that ...": no referent
    referent = prev_subject
    words = heading.split()
    if not referent and first == "It" and 0 < len(words) <= 3 and heading.lower() not in _GENERIC_HEADINGS:
        referent = heading
    if not referent or first in {"This", "These", "That", "Those"}:
        return None, False
    if first in {"Its", "Their", "His", "Her"}:
        return f"{referent}'s {rest}", False
    if first == "They" and rest.split(" ", 1)[0] in {"are", "were", "have"}:
        return None, False  # plural referent check is beyond these rules
    return f"{referent} {rest}", False


def _subject_of(tokens: list[str]) -> str:
    """The sentence's subject when it can stand in for a later 'It' (1-5 words, no pronoun)."""
    c = analyse(tokens)
    if c.verb is None or c.intro is not None:
        return ""
    subject = tokens[c.subject[0] : c.subject[1]]
    if not 1 <= len(subject) <= 5 or subject[0].lower() in {"it", "they", "this", "these", "there", "each", "every", "all"}:
        return ""
    if not (subject[0][:1].isupper()):
        return ""
    return detok(subject)
