"""Text formats: Markdown (.md/.markdown), reStructuredText (.rst) and plain text (.txt).

markdown_it: a CommonMark parser, so '#' lines inside code fences, setext headings and the
like are classified the way renderers do; we use it only to locate headings.
"""

from __future__ import annotations

import re

from markdown_it import MarkdownIt

from ingestion.document import Section
from ingestion.loaders._base import Parsed, SectionBuilder, decode_text, split_front_matter

_MD = MarkdownIt("commonmark")


def load_markdown(data: bytes, name: str) -> Parsed:
    text, meta = split_front_matter(decode_text(data, name, "md"))
    lines = text.split("\n")
    # Top-level headings with their source line ranges: [(start, end, level, words), ...]
    headings: list[tuple[int, int, int, str]] = []
    tokens = _MD.parse(text)
    for i, tok in enumerate(tokens):
        if tok.type == "heading_open" and tok.level == 0 and tok.map:
            words = _inline_text(tokens[i + 1])
            headings.append((tok.map[0], tok.map[1], int(tok.tag[1]), words))
    builder = SectionBuilder()
    cursor = 0
    for start, end, level, words in headings:
        builder.add("\n".join(lines[cursor:start]))
        builder.heading(level, words)
        cursor = end
    builder.add("\n".join(lines[cursor:]))
    return Parsed(builder.build(), meta)


def _inline_text(inline) -> str:
    """The words of a heading's inline token: text and code spans, markup dropped."""
    parts = []
    for child in inline.children or []:
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append(" ")
    return "".join(parts) or inline.content


# RST section adornment: one punctuation character repeated (e.g. '=====', '-----').
_ADORNMENT = re.compile(r"^([=\-~^\"'*+#:`.])\1+[ \t]*$")


def load_rst(data: bytes, name: str) -> Parsed:
    """Headings by underline (optionally overline) convention; levels in order of first use."""
    lines = decode_text(data, name, "rst").split("\n")
    styles: list[tuple[str, bool]] = []  # (adornment char, has overline), in order of first use
    builder = SectionBuilder()
    body: list[str] = []
    i = 0
    while i < len(lines):
        title, under, over = _rst_title(lines, i)
        if title is None:
            body.append(lines[i])
            i += 1
            continue
        style = (under, over)
        if style not in styles:
            styles.append(style)
        builder.add("\n".join(body))
        body = []
        builder.heading(styles.index(style) + 1, title)
        i += 3 if over else 2
    builder.add("\n".join(body))
    return Parsed(builder.build())


def _rst_title(lines: list[str], i: int) -> tuple[str | None, str, bool]:
    """(title, underline char, has overline) when a section title starts at line i."""
    line = lines[i]
    nxt = lines[i + 1] if i + 1 < len(lines) else ""
    # Overline + title + underline of the same character.
    m_over = _ADORNMENT.match(line)
    if m_over and i + 2 < len(lines):
        title, under = lines[i + 1].strip(), _ADORNMENT.match(lines[i + 2])
        if title and under and under.group(1) == m_over.group(1) and not _ADORNMENT.match(title):
            return title, m_over.group(1), True
    # Title + underline at least as long as the title; the title is not indented.
    m_under = _ADORNMENT.match(nxt)
    if (m_under and line.strip() and not line[0].isspace() and not _ADORNMENT.match(line)
            and len(nxt.rstrip()) >= len(line.rstrip())):
        return line.strip(), m_under.group(1), False
    return None, "", False


def load_plain(data: bytes, name: str) -> Parsed:
    return Parsed([Section(text=decode_text(data, name, "txt"))])
