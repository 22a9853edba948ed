"""Documents -> passages -> sentences, the units that fact extraction reads.

    passages(doc)          # -> [Passage(kind="prose"|"table"|"record", heading, text, ...)]
    split_sentences(text)  # -> ["The Team plan costs EUR 49 per seat per month.", ...]
    Lexicon.build(docs)    # words seen capitalised mid-sentence (proper nouns), for casing

The text goes through the same ``clean_text`` (and, for PDFs, ``remove_boilerplate``) as
ingestion, so a sentence here reads like the chunk a retriever would return. Markdown markup is
stripped; ``**bold**`` terms are remembered because glossaries mark defined terms that way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from ingestion.clean import clean_text, remove_boilerplate
from ingestion.document import Document

_BOLD = re.compile(r"\*\*([^*\n]{1,60})\*\*|__([^_\n]{1,60})__")
_LINK = re.compile(r"!?\[([^\]\n]*)\]\([^)\n]*\)")
_BULLET = re.compile(r"^\s*(?:[-*+\u2022]|\d{1,3}[.)])\s+")
_MARKUP = re.compile(r"(?<!\w)[*_`]+|[*_`]+(?!\w)")
_SPLIT = re.compile(r"(?<=[.!?])[\"')\]]?\s+(?=[\"'(\[]?[A-Z0-9])")
_ABBREV = frozenset("e.g i.e etc vs mr mrs ms dr st no nr inc ltd co approx b.v n.v jr sr fig cf al dept ca".split())
# Sentences that address the reader's assistant instead of stating a fact (prompt injection
# quoted inside a document, e.g. a customer ticket): never turned into training targets.
_INJECTION = re.compile(
    r"\b(?:ignore|disregard|forget)\b.{0,30}\b(?:instructions|prompts?|rules)\b|\bsystem prompt\b|\byou are now\b",
    re.IGNORECASE,
)
# Function words: never proper nouns, even when a title or quote capitalises them.
STOPWORDS = frozenset(
    "a an the this these that those each every all some any no our its their his her my your we it they he she "
    "in on at for of to from by with and or but as if when while after before since until during per".split()
)
_PRONOUN_START = re.compile(r"^(?:It|They|He|She|This|These|That|Those|Its|Their|His|Her)\b")


@dataclass(frozen=True)
class Passage:
    """A paragraph (prose), a pipe table, or one record (csv row / jsonl object) of a document."""

    source: str
    title: str
    heading: str  # the innermost heading above it ("" when none)
    kind: str  # "prose" | "table" | "record"
    text: str  # cleaned text without markup: what a retriever would show
    bold: tuple[str, ...] = ()  # terms marked **bold** in the original
    rows: tuple[tuple[str, ...], ...] = ()  # table: header row first
    record: tuple[tuple[str, str], ...] = ()  # record: (field, value) pairs in file order
    stem: str = ""  # file name without suffix ("offices"), names the things a csv lists


def doc_title(doc: Document) -> str:
    title = (doc.metadata.get("title") or "").strip()
    if not title and doc.sections and doc.sections[0].heading_path:
        title = doc.sections[0].heading_path[0]
    if not title:
        title = Path(doc.source).stem.replace("-", " ").replace("_", " ")
    return " ".join(title.split())


def passages(doc: Document) -> list[Passage]:
    """The document cut into paragraphs, tables and records (in document order)."""
    title, stem = doc_title(doc), Path(doc.source).stem
    texts = [clean_text(s.text) for s in doc.sections]
    if doc.kind == "pdf":
        texts = remove_boilerplate(texts)
    out: list[Passage] = []
    for section, text in zip(doc.sections, texts):
        heading = section.heading_path[-1] if section.heading_path else ""
        if doc.atomic_sections:
            pairs = _record_pairs(text, doc.kind)
            if pairs:
                body = "; ".join(f"{k}: {v}" for k, v in pairs)
                out.append(Passage(doc.source, title, heading, "record", body, record=pairs, stem=stem))
            continue
        for block in _blocks(text, joined=doc.kind == "pdf"):
            rows = _table(block)
            if rows:
                out.append(Passage(doc.source, title, heading, "table", block, rows=rows, stem=stem))
                continue
            bold = tuple(m[1] or m[2] for m in _BOLD.finditer(block))
            plain = strip_markup(block)
            if plain and plain != heading:
                out.append(Passage(doc.source, title, heading, "prose", plain, bold=bold, stem=stem))
    return out


def strip_markup(text: str) -> str:
    lines = []
    for line in text.split("\n"):
        line = _BULLET.sub("", _LINK.sub(r"\1", line)).lstrip("#> ").strip()
        line = _MARKUP.sub("", line)
        if line:
            lines.append(line)
    return "\n".join(lines)


def _blocks(text: str, *, joined: bool) -> list[str]:
    """Paragraphs: blank-line separated; a PDF's hard-wrapped lines are joined back into prose."""
    blocks = [b.strip() for b in re.split(r"\n\s*\n", text) if b.strip()]
    if not joined:
        return blocks
    out: list[str] = []
    for block in blocks:
        lines = [line.strip() for line in block.split("\n") if line.strip()]
        width = max(len(line) for line in lines)
        para: list[str] = []
        for i, line in enumerate(lines):
            para.append(line)
            nxt = lines[i + 1] if i + 1 < len(lines) else ""
            ends = line.endswith((".", "!", "?", ":"))
            short_unpunctuated = not line.endswith((",", ";")) and len(line) < 0.75 * width and nxt[:1].isupper()
            if not nxt or ends and nxt[:1].isupper() and len(line) < 0.9 * width or short_unpunctuated:
                out.append(" ".join(para))  # a paragraph end, a heading or a footer line
                para = []
    return out


def _table(block: str) -> tuple[tuple[str, ...], ...]:
    """Rows of a pipe table (header first) when the block is one; () otherwise."""
    lines = [line for line in block.split("\n") if line.strip()]
    body = [line for line in lines if "|" in line]
    if len(body) < 3 or len(body) < len(lines) - 1:
        return ()
    rows = []
    for line in body:
        cells = tuple(c.strip() for c in line.strip().strip("|").split("|"))
        if all(re.fullmatch(r":?-{2,}:?", c) for c in cells if c):
            continue  # markdown separator row
        rows.append(cells)
    width = len(rows[0])
    if width < 2 or any(len(r) != width for r in rows):
        return ()
    return tuple(rows)


def _record_pairs(text: str, kind: str) -> tuple[tuple[str, str], ...]:
    """(field, value) pairs of one loader-rendered record: 'k: v; k: v' (csv), 'k: v' lines (jsonl)."""
    pieces = text.split("; ") if kind == "csv" else text.split("\n")
    pairs: list[list[str]] = []
    for piece in pieces:
        key, sep, value = piece.partition(": ")
        if sep and re.fullmatch(r"[\w][\w .()/-]{0,40}", key):
            pairs.append([key.strip(), value.strip()])
        elif pairs:  # a value that itself held the separator
            pairs[-1][1] += ("; " if kind == "csv" else "\n") + piece
    return tuple((k, " ".join(v.split())) for k, v in pairs if v.strip())


def split_sentences(text: str) -> list[str]:
    """Sentences of a passage; a line break ends a sentence (list items, table-free prose)."""
    out: list[str] = []
    for line in text.split("\n"):
        pieces = _SPLIT.split(line.strip())
        merged: list[str] = []
        for piece in pieces:
            if merged and _ends_with_abbreviation(merged[-1]):
                merged[-1] += " " + piece
            else:
                merged.append(piece)
        out.extend(p.strip() for p in merged if p.strip())
    return out


def _ends_with_abbreviation(text: str) -> bool:
    last = text.rsplit(" ", 1)[-1].rstrip(".").lower()
    return last in _ABBREV or bool(re.fullmatch(r"[a-z]", last))


def usable_sentence(sentence: str) -> bool:
    """A statement worth learning: 4-60 words, ends like prose, not an injected instruction."""
    words = sentence.split()
    return (
        4 <= len(words) <= 60
        and sentence[-1] in ".!"
        and not sentence.endswith("?")
        and not _INJECTION.search(sentence)
        and sentence[0].isupper()
    )


def starts_with_pronoun(sentence: str) -> bool:
    return bool(_PRONOUN_START.match(sentence))


def normalize(text: str) -> str:
    """Case-, punctuation- and whitespace-insensitive form used for dedup and leakage checks."""
    text = text.lower().replace("\u2019", "'")
    return " ".join(re.sub(r"[^\w%€$£+]+", " ", text).split())


@dataclass
class Lexicon:
    """Which capitalised words are proper nouns, learnt from the corpus itself.

    A word is proper when the corpus writes it capitalised in the middle of a sentence
    ("the Team plan", "in Rotterdam"); such words keep their capital when a question moves
    them away from the sentence start.
    """

    proper: set[str] = field(default_factory=set)
    org: str = "the organisation"  # who "we" and "our" are in the documents

    @classmethod
    def build(cls, documents: list[str]) -> "Lexicon":
        """From the full text of each document; the organisation is the proper word that the
        most documents use, when at least 40% of them (and two) do."""
        proper: set[str] = set()
        doc_freq: dict[str, int] = {}
        for text in documents:
            seen: set[str] = set()
            for sentence in split_sentences(text):
                words = sentence.split()
                for prev, word in zip(words, words[1:]):
                    core = word.strip("\"'(),.;:!?").removesuffix("'s").removesuffix("\u2019s")
                    if core[:1].isupper() and core[1:].islower() and core.lower() not in STOPWORDS \
                            and not prev.endswith((".", ":", "?", "!")):
                        seen.add(core)
            proper |= seen
            for word in seen:
                doc_freq[word] = doc_freq.get(word, 0) + 1
        org = "the organisation"
        if doc_freq:
            best = min(doc_freq, key=lambda w: (-doc_freq[w], w))
            if doc_freq[best] >= max(2, 0.4 * len(documents)):
                org = best
        return cls(proper, org)

    def lower_first(self, phrase: str) -> str:
        """'The Team plan' -> 'the Team plan'; 'Marrowfield employs' stays as it is."""
        first, _, rest = phrase.partition(" ")
        core = first.strip("\"'(").removesuffix("'s").removesuffix("\u2019s")
        if not core or core in self.proper or (core.isupper() and core != "A") or any(c.isdigit() for c in core):
            return phrase
        if len(core) > 1 and any(c.isupper() for c in core[1:]):
            return phrase  # iOS, McKinsey
        return (first[: len(first) - len(core)] + core[0].lower() + core[1:] + (" " + rest if rest else "")).strip()
