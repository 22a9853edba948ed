"""Shared pieces of the loaders: reading bytes safely, decoding text, building sections.

charset_normalizer: guesses the code page of legacy (non-UTF) text files; we accept its guess
only when the decoded text is plausible, so a wrong guess never becomes silent mojibake.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import islice

import charset_normalizer

from ingestion.document import Section
from ingestion.errors import LoadError

# Magic numbers of the binary formats users most often misname; checked before decoding text.
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"%PDF-", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive (or .docx/.xlsx/.pptx)"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "a legacy Office file (.doc/.xls)"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"\x7fELF", "an executable"),
    (b"SQLite format 3\x00", "an SQLite database"),
)

_BINARY_FIX = "check the file type; rename it with its real extension or export it as text"

# Symbols that real text uses (©, ®, °, ±, ×, ÷, ™, №); other symbols in a
# legacy-decoded file are the typical signs of a wrong code page.
_COMMON_SYMBOLS = frozenset("\u00a9\u00ae\u00b0\u00b1\u00d7\u00f7\u2122\u2116")
_NON_ASCII = re.compile(r"[^\x00-\x7f]")
_NON_ASCII_WORD = re.compile(r"\S*[^\x00-\x7f]\S*")
_ASCII_LETTER = re.compile(r"[A-Za-z]")
_UTF8_MULTIBYTE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")
# Japanese mixes three scripts in one sentence; count them as one.
_SCRIPT_GROUP = {"HIRAGANA": "CJK", "KATAKANA": "CJK", "FULLWIDTH": "CJK", "IDEOGRAPHIC": "CJK"}


@dataclass
class Parsed:
    """What one format's parser returns to ``load_document``."""

    sections: list[Section]
    metadata: dict[str, str] = field(default_factory=dict)


def sniff_binary(data: bytes) -> str | None:
    """'a PNG image' etc. when the bytes start with a known binary signature, else None."""
    for magic, what in _MAGIC:
        if data.startswith(magic):
            return what
    return None


def human_size(n: int) -> str:
    if n < 1024:
        return f"{n} bytes"
    if n < 1024 * 1024:
        return f"{n / 1024:.1f} KB"
    return f"{n / (1024 * 1024):.1f} MB"


def decode_text(data: bytes, name: str, kind: str, *, declared: str | None = None) -> str:
    """Bytes of a text-format file -> str with '\\n' line endings, or a LoadError.

    Order: BOMs (UTF-8, UTF-32, UTF-16), binary checks, strict UTF-8, the ``declared`` codec
    (e.g. an HTML <meta charset>), then a legacy code page only when the result is plausible
    text. ``name`` is the file as the user gave it.
    """
    if data.startswith(codecs.BOM_UTF8):
        text = _strict(data, "utf-8-sig", name)
    elif data.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        text = _strict(data, "utf-32", name)
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        text = _strict(data, "utf-16", name)
    else:
        what = sniff_binary(data)
        if what:
            raise LoadError(f"{name} is {what}, not a .{kind} text file", fix=_BINARY_FIX)
        nul = data.find(b"\x00")
        if nul >= 0:
            raise LoadError(f"{name} looks binary (NUL byte at offset {nul})", fix=_BINARY_FIX)
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            text = _declared(data, declared) or _legacy(data, name, exc.start)
    if "\x00" in text:
        raise LoadError(f"{name} looks binary (NUL character in the text)", fix=_BINARY_FIX)
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _declared(data: bytes, declared: str | None) -> str | None:
    if not declared:
        return None
    try:
        return data.decode(declared)
    except (LookupError, UnicodeDecodeError):
        return None


def _strict(data: bytes, encoding: str, name: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise _undecodable(name, exc.start) from None


def _undecodable(name: str, offset: int) -> LoadError:
    return LoadError(f"{name} is not valid text (undecodable bytes at offset {offset})",
                     fix="re-save it as UTF-8")


def _legacy(data: bytes, name: str, offset: int) -> str:
    """Not UTF-8: Western cp1252 first (charset_normalizer often calls French 'cp1250'), then
    charset_normalizer's guess; a candidate is used only if it reads as plausible text."""
    # Valid UTF-8 sequences in a file that is not UTF-8: mixed encodings (UTF-8 with a few
    # stray cp1252 bytes). A Latin code page would garble the UTF-8 parts ('cafÃ©').
    mixed = _UTF8_MULTIBYTE.search(data) is not None
    for text in _candidates(data):
        script = _main_script(text)
        if script is not None and not (mixed and script in ("LATIN", "")):
            return text
    raise _undecodable(name, offset)


def _candidates(data: bytes) -> Iterator[str]:
    try:
        yield data.decode("cp1252")
    except UnicodeDecodeError:
        pass
    best = charset_normalizer.from_bytes(data).best()
    if best is not None and best.chaos <= 0.2:  # chaos: share of "messy" character sequences
        yield str(best)


def _main_script(text: str) -> str | None:
    """The writing system of the non-ASCII letters ('' if none), or None if implausible.

    Every non-ASCII character must be a letter, a combining mark, punctuation, a space, a
    currency sign or a common symbol (no box drawing, no spacing accents like ˇ˛˝, no
    controls), and the letters must come from one script. Latin letters (accented Western or
    Central European text) must be at most half the letters and sit inside words with plain
    letters ('café', 'à'); Cyrillic read with a Western code page ('Ïðèâåò') fails that.
    """
    letters = len(_ASCII_LETTER.findall(text))
    scripts: Counter[str] = Counter()
    for c, n in Counter(_NON_ASCII.findall(text)).items():  # each distinct character once
        category = unicodedata.category(c)
        if category[0] in "LM":
            letters += n
            script = unicodedata.name(c, "?").split()[0]
            scripts[_SCRIPT_GROUP.get(script, script)] += n
        elif category[0] not in "PZ" and category != "Sc" and c not in _COMMON_SYMBOLS:
            return None
    if letters == 0:
        return None
    if not scripts:
        return ""
    main, count = scripts.most_common(1)[0]
    if count < 0.9 * sum(scripts.values()):
        return None  # several scripts mixed: a decoding of noise
    if main != "LATIN":
        return main
    if count > 0.5 * letters:
        return None
    words = (m.group() for m in _NON_ASCII_WORD.finditer(text))
    accented = [w for w in islice(words, 5000)  # a sample is enough for a 20 MB file
                if any(not c.isascii() and c.isalpha() for c in w)]
    bare = [w for w in accented
            if len(w.strip(".,;:!?()\"'")) > 1 and not _ASCII_LETTER.search(w)]
    return main if len(bare) <= 0.25 * len(accented) else None


class SectionBuilder:
    """Turns a stream of headings and text blocks into sections with heading paths.

    ``heading(level, text)`` starts a section whose path is the chain of enclosing headings and
    whose text begins with the heading words; ``add(text)`` appends a block. Sections that hold
    only their heading are dropped unless no section has a body (a headings-only file).
    """

    def __init__(self, *, preamble: str | None = None) -> None:
        self._stack: list[tuple[int, str]] = []
        self._done: list[tuple[Section, bool]] = []
        self._path: tuple[str, ...] = (preamble,) if preamble else ()
        self._lines: list[str] = [preamble] if preamble else []
        self._has_body = False

    def heading(self, level: int, text: str) -> None:
        text = " ".join(text.split())
        if not text:
            return
        self._flush()
        while self._stack and self._stack[-1][0] >= level:
            self._stack.pop()
        self._stack.append((level, text))
        self._path = tuple(t for _, t in self._stack)
        self._lines = [text]

    def add(self, text: str) -> None:
        if text.strip():
            self._lines.append(text.strip("\n"))
            self._has_body = True

    def build(self) -> list[Section]:
        self._flush()
        if any(has_body for _, has_body in self._done):
            return [s for s, has_body in self._done if has_body]
        return [s for s, _ in self._done]

    def _flush(self) -> None:
        if self._lines:
            text = "\n\n".join(self._lines).strip()
            if text:
                self._done.append((Section(text=text, heading_path=self._path), self._has_body))
        self._lines, self._has_body = [], False


_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?\n)(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.DOTALL)


def split_front_matter(text: str) -> tuple[str, dict[str, str]]:
    """Remove a leading YAML front-matter block; return (rest, {'title': ...} if it has one)."""
    match = _FRONT_MATTER.match(text)
    if not match:
        return text, {}
    meta: dict[str, str] = {}
    title = re.search(r"^title:[ \t]*(.+?)[ \t]*$", match.group(1), re.MULTILINE)
    if title:
        meta["title"] = title.group(1).strip("'\"")
    return text[match.end():], meta
