"""Cleaning between loading and chunking: normalise text, drop running headers, drop duplicates.

    clean_text("infor-\\nmation\\n\\nPage 3 of 10")   # -> "information"
    remove_boilerplate(page_texts)                   # same length; repeated headers/footers gone
    dedup = Deduplicator(threshold=0.9); [c for c in chunks if dedup.keep(c)]

Standard library only (unicodedata, re, hashlib): near-duplicates are found exactly with
prefix filtering (Chaudhuri et al. 2006; the "AllPairs" join), which needs no MinHash library
and no numpy, and compares a new text only with kept texts that share a rare shingle.
"""

from __future__ import annotations

import hashlib
import math
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Sequence

from ingestion.errors import ConfigError

# Line breaks that are not '\n' (vertical tab, form feed = PDF page break, NEL, LS, PS).
_BREAKS = str.maketrans({"\x0b": "\n", "\x0c": "\n", "\x85": "\n", "\u2028": "\n", "\u2029": "\n"})
# Control characters except \t and \n, plus invisible format characters that split words:
# soft hyphen, zero-width space, word joiner, byte-order mark.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u00ad\u200b\u2060\ufeff]")
_HYPHEN_BREAK = re.compile(r"([^\W\d_])-\n[ \t]*([^\W\d_])")
_INNER_SPACE = re.compile(r"(?<=\S)[ \t]+")
_PAGE_NUMBER = re.compile(
    r"(?:(?:page|p\.)\s*)?\d{1,4}(?:\s*(?:of|/)\s*\d{1,4})?"  # 3, Page 3, Page 3 of 10, 3/10
    r"|[-\u2013\u2014]\s*\d{1,4}\s*[-\u2013\u2014]",  # - 3 -
    re.IGNORECASE,
)


def clean_text(text: str) -> str:
    """NFKC, no control characters, joined hyphenated line breaks, no page-number lines,
    single spaces inside lines (leading indentation kept), at most one blank line in a row."""
    text = unicodedata.normalize("NFKC", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n").translate(_BREAKS)
    text = _CONTROL.sub("", text)
    lines = [line.rstrip() for line in text.split("\n")]
    text = "\n".join(line for line in lines if not _PAGE_NUMBER.fullmatch(line.strip()))
    # "infor-\nmation" -> "information"; "Jean-\nPaul" (capital after the break) is kept.
    text = _HYPHEN_BREAK.sub(lambda m: m[1] + m[2] if m[2].islower() else m[0], text)
    text = _INNER_SPACE.sub(" ", text)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip("\n")


def remove_boilerplate(sections: Sequence[str]) -> list[str]:
    """Drop running headers/footers: lines that recur in >= 50% of the sections (of >= 3).

    Meant for page-like sections (PDF pages), not records. Returns one string per input
    section, in order, so page numbers stay aligned. Only sections of >= 3 non-empty lines
    (header, body, footer) take part: a one-line csv row is never touched. Candidates are the
    first and last 3 non-empty lines of each, compared ignoring case and spacing; the very
    first and last lines are also compared with digits ignored ("Report - page 3" vs "- page
    4"). Lines without a letter or digit (code fences, rules) are never removed.
    """
    sections = list(sections)
    keyed = [_edge_keys(s) for s in sections]
    pages = sum(1 for keys in keyed if keys)
    if pages < 3:
        return sections
    counts = Counter(key for keys in keyed for key in set().union(*keys.values()))
    needed = max(2, math.ceil(0.5 * pages))
    repeated = {key for key, n in counts.items() if n >= needed}
    cleaned = []
    for section, keys in zip(sections, keyed):
        lines = section.split("\n")
        kept = [line for i, line in enumerate(lines) if not keys.get(i, set()) & repeated]
        cleaned.append("\n".join(kept).strip("\n") if keys else section)
    return cleaned


def _edge_keys(section: str, n: int = 3) -> dict[int, set[str]]:
    """{line index: comparison keys} for the first and last n non-empty lines of a section;
    empty for a section of fewer than 3 non-empty lines."""
    lines = section.split("\n")
    nonempty = [i for i, line in enumerate(lines) if line.strip()]
    keys: dict[int, set[str]] = {}
    if len(nonempty) < 3:
        return keys
    for i in nonempty[:n] + nonempty[-n:]:
        line = " ".join(lines[i].lower().split())
        if len(line) <= 120 and any(c.isalnum() for c in line):
            keys[i] = {"=" + line}
            if i in (nonempty[0], nonempty[-1]):
                keys[i].add("#" + re.sub(r"\d+", "#", line))
    return keys


class Deduplicator:
    """Per-document filter: ``keep(text)`` is False for a repeat of a text it already kept.

    A repeat is an exact duplicate after collapsing whitespace and case, or a near-duplicate:
    the Jaccard similarity of the two texts' word ``shingle``-grams is >= ``threshold``.
    """

    def __init__(self, *, threshold: float = 0.9, shingle: int = 5) -> None:
        number = isinstance(threshold, (int, float)) and not isinstance(threshold, bool)
        if not number or not 0 < threshold <= 1:
            raise ConfigError(f"threshold must be a number in (0, 1], got {threshold!r}",
                              fix="use a dedup threshold such as 0.9 (1.0: identical shingles)")
        if isinstance(shingle, bool) or not isinstance(shingle, int) or shingle < 1:
            raise ConfigError(f"shingle must be a whole number >= 1, got {shingle!r}",
                              fix="use a shingle size such as 5 (words per shingle)")
        self.threshold = float(threshold)
        self.shingle = shingle
        self._exact: set[bytes] = set()  # digests of whitespace/case-normalised kept texts
        self._kept: list[frozenset[int]] = []  # shingle-hash sets of kept texts
        self._prefix_index: dict[int, list[int]] = defaultdict(list)  # shingle -> kept ids

    def keep(self, text: str) -> bool:
        """True (and remember it) for a new text; False for a repeat or a blank text."""
        normal = " ".join(text.lower().split())
        if not normal:
            return False
        digest = hashlib.blake2b(normal.encode(), digest_size=16).digest()
        if digest in self._exact:
            return False
        shingles = self._shingles(normal)
        if self._near_duplicate(shingles):
            return False
        self._exact.add(digest)
        self._kept.append(shingles)
        for token in self._prefix(shingles):
            self._prefix_index[token].append(len(self._kept) - 1)
        return True

    def _shingles(self, normal: str) -> frozenset[int]:
        words = re.findall(r"\w+", normal) or normal.split()
        k = min(self.shingle, len(words))
        return frozenset(hash(tuple(words[i:i + k])) for i in range(len(words) - k + 1))

    def _prefix(self, shingles: frozenset[int]) -> list[int]:
        """The smallest tokens (in hash order) that any set this similar must share one of.

        If J(A, B) >= t then |A & B| >= ceil(t * |A|), so A's first |A| - ceil(t|A|) + 1 tokens
        and B's (likewise) intersect: checking those alone misses no near-duplicate.
        """
        need = math.ceil(self.threshold * len(shingles) - 1e-9)
        return sorted(shingles)[: len(shingles) - need + 1]

    def _near_duplicate(self, shingles: frozenset[int]) -> bool:
        index = self._prefix_index
        candidates = {i for token in self._prefix(shingles) for i in index.get(token, ())}
        size, t = len(shingles), self.threshold
        for i in candidates:
            other = self._kept[i]
            if not t * size - 1e-9 <= len(other) <= size / t + 1e-9:
                continue  # sizes alone rule out a Jaccard of t
            if len(shingles & other) >= (t - 1e-12) * len(shingles | other):
                return True
        return False
