"""Word (.docx): paragraphs and tables in document order, sections at "Heading N" styles.

python-docx: reads the OOXML package (a zip of XML parts) and exposes styles and tables.
"""

from __future__ import annotations

import io
import re
import zipfile

import docx
from docx.opc.exceptions import PackageNotFoundError
from docx.table import Table
from docx.text.paragraph import Paragraph

from ingestion.errors import LoadError
from ingestion.loaders._base import Parsed, SectionBuilder, sniff_binary

_RESAVE_FIX = "open it in Word or LibreOffice and save it again as .docx"
_HEADING_STYLE = re.compile(r"^heading\s*(\d)$", re.I)


def load_docx(data: bytes, name: str) -> Parsed:
    if not data.startswith(b"PK\x03\x04"):
        what = sniff_binary(data) or "not a zip archive"
        raise LoadError(f"{name} is not a valid .docx ({what})", fix=_RESAVE_FIX)
    try:
        document = docx.Document(io.BytesIO(data))
    except (zipfile.BadZipFile, PackageNotFoundError, KeyError, ValueError) as exc:
        first = (str(exc).strip().splitlines() or [""])[0]
        raise LoadError(f"{name} is not a valid .docx: {type(exc).__name__}: {first}",
                        fix=_RESAVE_FIX) from None
    builder = SectionBuilder()
    for block in document.iter_inner_content():
        if isinstance(block, Table):
            builder.add("\n".join(_table_rows(block)))
            continue
        level = _heading_level(block)
        if level is not None:
            builder.heading(level, block.text)
        else:
            builder.add(_paragraph_text(block))
    title = (document.core_properties.title or "").strip()
    return Parsed(builder.build(), {"title": title} if title else {})


def _heading_level(paragraph: Paragraph) -> int | None:
    """0 for the 'Title' style, N for 'Heading N' (by name or style id), else None."""
    style = paragraph.style
    if style is None:
        return None
    for label in (style.name or "", style.style_id or ""):
        if label.lower() == "title":
            return 0
        match = _HEADING_STYLE.match(label)
        if match:
            return int(match.group(1))
    return None


def _paragraph_text(paragraph: Paragraph) -> str:
    text = paragraph.text
    style = (paragraph.style.name if paragraph.style is not None else "") or ""
    if text.strip() and style.lower().startswith("list"):
        return f"- {text.strip()}"
    return text


def _table_rows(table: Table) -> list[str]:
    """'cell | cell' per row; a merged cell (repeated by python-docx) is written once."""
    lines = []
    for row in table.rows:
        cells: list[str] = []
        previous = None
        for cell in row.cells:
            if cell._tc is previous:  # same underlying <w:tc>: a horizontally merged cell
                continue
            previous = cell._tc
            cells.append(" ".join(cell.text.split()))
        if any(cells):
            lines.append(" | ".join(cells))
    return lines
