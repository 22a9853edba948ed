"""HTML (.html/.htm): visible main text as sections split at h1-h6.

bs4 (with the stdlib html.parser): tolerant parsing of real-world, often broken, HTML.
"""

from __future__ import annotations

import re

from bs4 import BeautifulSoup, NavigableString, Tag
from bs4.element import Comment, Declaration, Doctype, ProcessingInstruction

from ingestion.loaders._base import Parsed, SectionBuilder, decode_text

# Elements that never hold the page's own content.
_DROP = ("script", "style", "nav", "footer", "header", "aside", "form", "noscript", "template",
         "svg", "iframe", "button", "select")
_DROP_ROLES = ("navigation", "banner", "contentinfo", "search", "complementary")
_HEADINGS = {f"h{n}": n for n in range(1, 7)}
_BLOCKS = {"p", "div", "section", "article", "main", "blockquote", "dd", "dt", "dl", "figure",
           "figcaption", "address", "hr", "body", "li", "details", "summary", "caption"}
_META_CHARSET = re.compile(rb"<meta[^>]+charset\s*=\s*[\"']?\s*([A-Za-z0-9_.:-]+)", re.I)


def load_html(data: bytes, name: str) -> Parsed:
    soup = BeautifulSoup(_decode(data, name), "html.parser")
    title_tag = soup.find("title")
    title = " ".join(title_tag.get_text(" ").split()) if title_tag else ""
    if title_tag:
        title_tag.decompose()
    for tag in soup.find_all(_DROP):
        # A <header> inside an article holds the article's own title: keep it.
        if tag.name == "header" and tag.find_parent(("article", "main")):
            continue
        tag.decompose()
    for tag in soup.find_all(attrs={"role": True}):
        if tag.get("role") in _DROP_ROLES:
            tag.decompose()
    if soup.head:
        soup.head.decompose()
    walker = _Walker(SectionBuilder(preamble=title or None))
    walker.walk(soup.body or soup)
    walker.flush()
    return Parsed(walker.builder.build(), {"title": title} if title else {})


def _decode(data: bytes, name: str) -> str:
    """UTF-8 first; then the page's own <meta charset> declaration; then a plausible guess."""
    match = _META_CHARSET.search(data[:4096])
    declared = match.group(1).decode("ascii") if match else None
    return decode_text(data, name, "html", declared=declared)


class _Walker:
    """Depth-first walk that turns the DOM into heading events and text blocks (lines)."""

    def __init__(self, builder: SectionBuilder) -> None:
        self.builder = builder
        self._inline: list[str] = []  # words of the paragraph being read
        self._block: list[str] = []  # finished lines of the current block run

    def walk(self, node: Tag) -> None:
        for child in node.children:
            if isinstance(child, (Comment, Declaration, Doctype, ProcessingInstruction)):
                continue
            if isinstance(child, NavigableString):
                self._inline.append(str(child))
            elif isinstance(child, Tag):
                self._tag(child)

    def _tag(self, tag: Tag) -> None:
        name = tag.name
        if name in _HEADINGS:
            self.flush()
            self.builder.heading(_HEADINGS[name], tag.get_text(" "))
        elif name == "table":
            self._end_line()
            self._block.extend(_table_rows(tag))
        elif name in ("ul", "ol"):
            self._end_line()
            self._block.extend(_list_lines(tag, depth=0))
        elif name == "pre":
            self._end_line()
            self._block.append(tag.get_text().strip("\n"))
        elif name == "br":
            self._end_line()
        elif name in _BLOCKS:
            self._end_line()
            self.walk(tag)
            self._end_line()
        else:
            self.walk(tag)

    def _end_line(self) -> None:
        line = " ".join("".join(self._inline).split())
        self._inline = []
        if line:
            self._block.append(line)

    def flush(self) -> None:
        """End the current text run (before a heading, and at the end of the page)."""
        self._end_line()
        if self._block:
            self.builder.add("\n".join(self._block))
        self._block = []


def _cell_text(cell: Tag) -> str:
    return " ".join(cell.get_text(" ").split())


def _table_rows(table: Tag) -> list[str]:
    """One 'cell | cell' line per row; rows of nested tables are not visited twice."""
    lines = []
    for row in table.find_all("tr"):
        if row.find_parent("table") is not table:
            continue
        cells = [_cell_text(c) for c in row.find_all(("th", "td"), recursive=False)]
        if any(cells):
            lines.append(" | ".join(cells))
    return lines


def _list_lines(lst: Tag, depth: int) -> list[str]:
    """'- item' (or '1. item') per <li>, nested lists indented by two spaces per level."""
    lines = []
    items = lst.find_all("li", recursive=False)
    for n, item in enumerate(items, 1):
        nested = item.find_all(("ul", "ol"), recursive=False)
        for sub in nested:
            sub.extract()
        words = _cell_text(item)
        marker = f"{n}." if lst.name == "ol" else "-"
        if words:
            lines.append(f"{'  ' * depth}{marker} {words}")
        for sub in nested:
            lines.extend(_list_lines(sub, depth + 1))
    return lines
