"""Facts from structured rows: pipe tables in pages, csv rows and jsonl objects.

    table_facts(rows, passage)     # header + rows -> "Who is the Chief Technology Officer?" ...
    record_facts(passages)         # one document's csv rows -> "Who is the site lead of the Lisbon office?"
    faq_facts(passage)             # {"question", "answer"} objects -> the question itself, reworded

Every row becomes one fact per field ("What is the phone number of the Cork office?"), and
role-like or person-valued fields also get the reverse question ("Which office has Noor Bakker
as its site lead?"). The row's key is the first column whose values are all distinct, textual
and not a short code; the things a csv lists are named after its file ("offices" -> "office").
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

from finetune.dataset.clause import inflect, is_dictionary_word, lemmas, verb_form
from finetune.dataset.facts import Fact, fact_id
from finetune.dataset.text import Passage, split_sentences

_PERSON_HEADERS = re.compile(r"\b(?:lead|leader|manager|owner|head|contact|chair|director|coordinator|officer|name)\b", re.I)
_ROLE_HEADERS = re.compile(r"\b(?:role|title|position|job)\b", re.I)
_COUNT_HEADERS = re.compile(r"\b(?:headcount|employees|staff|people)\b", re.I)
_DESCRIBE_HEADERS = re.compile(r"^(?:what it does|description|purpose|summary)$", re.I)
_YEAR_OR_DATE = re.compile(r"^(?:\d{4}|\d{1,2} \w+ \d{4}|\w+ \d{4}|\d{4}-\d{2}-\d{2})$")
_QUESTION_KEYS = ("question", "q", "query")
_ANSWER_KEYS = ("answer", "a", "response")


def table_facts(rows: Sequence[Sequence[str]], passage: Passage) -> list[Fact]:
    header, body = list(rows[0]), [list(r) for r in rows[1:]]
    key = _key_column(header, body)
    if key is None:
        return []
    noun = "" if header[key].lower() == "name" else _singular(header[key].lower())
    return _rows_facts(header, body, key, noun, passage)


def record_facts(passages: Sequence[Passage]) -> list[Fact]:
    """Facts of one document's records (all rows of a csv share the key column)."""
    if not passages:
        return []
    header = [k for k, _ in passages[0].record]
    body = [[dict(p.record).get(h, "") for h in header] for p in passages]
    key = _key_column(header, body)
    if key is None:
        return []
    stem = passages[0].stem.replace("-", " ").replace("_", " ").lower()
    noun = _singular(stem) if stem.isalpha() else _singular(_human(header[key]))
    facts: list[Fact] = []
    for p, row in zip(passages, body):
        facts += _rows_facts(header, [row], key, noun, p)
    return facts


def faq_facts(passage: Passage) -> tuple[Fact | None, str]:
    """(the record's own question as a fact, its answer text) for question/answer records."""
    fields = {k.lower(): v for k, v in passage.record}
    question = next((fields[k] for k in _QUESTION_KEYS if fields.get(k)), "")
    answer = next((fields[k] for k in _ANSWER_KEYS if fields.get(k)), "")
    if not question or not answer:
        return None, ""
    sentences = split_sentences(answer)
    short = sentences[0] if sentences else answer
    if len(short.split()) <= 3 and len(sentences) > 1:  # "Yes." says little: add the next sentence
        short = f"{short} {sentences[1]}"
    lower = question[:1].lower() + question[1:]
    questions = (question, f'According to "{passage.title}", {lower}', f"Quick question: {question}",
                 f"{question.rstrip('?')}? Please answer briefly.", f"I was wondering: {lower}")
    fact = Fact(fact_id(answer, short), passage.source, passage.title, answer, short.rstrip("."), "faq",
                questions, passage.text, group=group_of(passage))
    return fact, answer


def is_faq(passage: Passage) -> bool:
    keys = {k.lower() for k, _ in passage.record}
    return bool(keys & set(_QUESTION_KEYS)) and bool(keys & set(_ANSWER_KEYS))


def _rows_facts(header: list[str], body: list[list[str]], key: int, noun: str, passage: Passage) -> list[Fact]:
    unique = [len({r[i] for r in body}) == len(body) for i in range(len(header))]
    facts: list[Fact] = []
    for row in body:
        name = row[key]
        label = name if not noun or name.lower().endswith(noun) else f"the {name} {noun}"
        for i, (h, value) in enumerate(zip(header, row)):
            if i == key or not value.strip():
                continue
            made = _field(label, _human(h), value, noun)
            if made:
                questions, reply = made
                facts.append(_fact(passage, reply, value, questions))
            if (_ROLE_HEADERS.search(h) or _looks_like_person(value)) and (len(body) == 1 or unique[i]):
                facts.append(_fact(passage, *_reverse(label, name, _human(h), value, noun)))
    return facts


def _fact(passage: Passage, reply: str, answer: str, questions: list[str]) -> Fact:
    questions = list(dict.fromkeys(questions))
    return Fact(fact_id(reply, answer), passage.source, passage.title, reply, answer, "record", tuple(questions),
                passage.text, group=group_of(passage))


def group_of(passage: Passage) -> str:
    """One split group per table and per record: its facts all answer from the same text."""
    return "g_" + hashlib.sha256(f"{passage.source}\0{passage.text}".encode()).hexdigest()[:16]


def _field(label: str, field: str, value: str, noun: str) -> tuple[list[str], str] | None:
    """Questions about one field of one row, and the reply sentence that answers them."""
    cap = label[:1].upper() + label[1:]
    words = field.split()
    first = words[0] if words else ""
    form = verb_form(first) if first else None
    if form and form[1] == "VBD" and _YEAR_OR_DATE.match(value):  # "Joined Marrowfield", "opened"
        rest = " ".join(words[1:])
        if len(words) == 1:  # "opened" -> "When was the Lisbon office opened?"
            return [f"When was {label} {first}?", f"In which year was {label} {first}?", f"Tell me when {label} was {first}."], \
                f"{cap} was {first} in {value}."
        return [f"When did {label} {form[0]} {rest}?", f"In which year did {label} {form[0]} {rest}?"], \
            f"{cap} {first} {rest} in {value}."
    if len(words) == 2 and words[1] in {"in", "at"} and first.endswith("ed"):  # "based in"
        return [f"Where is {label} {first}?", f"In which city is {label} {first}?", f"Tell me where {label} is {first}."], \
            f"{cap} is {field} {value}."
    if len(words) == 2 and first.endswith("ing") and lemmas(first).get("VERB"):  # "owning crew"
        verb = inflect(lemmas(first)["VERB"][0], "VBZ")[0]
        return [f"Which {words[1]} {verb} {label}?", f"What is the {field} of {label}?", f"Who {verb} {label}?"], \
            f"{cap} is {inflect(lemmas(first)['VERB'][0], 'VBN')[0]} by the {value} {words[1]}."
    if (form and form[1] == "VBZ") or len(words) > 3:  # "Starts counting from": quote the column
        quoted = field[:1].upper() + field[1:]
        return [f'What does the "{quoted}" column say for {label}?', f'For {label}, what is listed under "{quoted}"?'], \
            f'For {label}, "{quoted}" is {value}.'
    if _DESCRIBE_HEADERS.match(field):
        lead = value[:1].lower() + value[1:]
        reply = f"{cap} {lead}." if verb_form(lead.split()[0]) else f"{cap} is responsible for {lead}."
        return [f"What does {label} do?", f"What is {label} for?", f"Describe what {label} does."], reply
    wh = "Who" if _PERSON_HEADERS.search(field) or _looks_like_person(value) else "What"
    questions = [f"{wh} is the {field} of {label}?", f"{wh} is {label}'s {field}?", f"Tell me the {field} of {label}.",
                 f"Can you tell me the {field} of {label}?"]
    if _COUNT_HEADERS.search(field) and value.replace(",", "").isdigit():
        questions.insert(0, f"How many people work at {label}?")
    return questions, f"The {field} of {label} is {value}."


def _reverse(label: str, name: str, field: str, value: str, noun: str) -> tuple[str, str, list[str]]:
    """(reply, answer, questions) asking for the row from one of its values."""
    if _ROLE_HEADERS.search(field):
        return (f"{name} is the {value}.", name,
                [f"Who is the {value}?", f"Which person is the {value}?", f"Who holds the position of {value}?"])
    thing = noun or "one"
    return (f"{value} is the {field} of {label}.", name,
            [f"Which {thing} has {value} as its {field}?", f"{value} is the {field} of which {thing}?",
             f"Where is {value} the {field}?" if noun == "office" else f"For which {thing} is {value} the {field}?"])


def _key_column(header: list[str], body: list[list[str]]) -> int | None:
    for i in range(len(header)):
        values = [r[i] for r in body if i < len(r)]
        if len(values) != len(body) or len(set(values)) != len(values):
            continue
        if all(re.fullmatch(r"[A-Z0-9]{1,4}|[\d.,\s+-]+", v) for v in values):
            continue  # codes and numbers name nothing a person would ask about
        return i
    return None


def _human(field: str) -> str:
    """'site_lead' -> 'site lead'; 'Owning crew' -> 'owning crew'; 'SKU' stays."""
    words = re.split(r"[_\s]+", field.strip())
    return " ".join(w if w.isupper() and len(w) > 1 else w.lower() for w in words if w)


def _singular(word: str) -> str:
    last = word.split()[-1] if word.split() else word
    nouns = lemmas(last).get("NOUN", ())
    return word[: len(word) - len(last)] + (nouns[0] if nouns else last)


def _looks_like_person(value: str) -> bool:
    words = value.split()
    return 2 <= len(words) <= 4 and all(re.fullmatch(r"[A-Z][a-z]+(?:-[A-Z][a-z]+)?|de|van|der|von|da", w) for w in words) \
        and not is_dictionary_word(words[-1])
