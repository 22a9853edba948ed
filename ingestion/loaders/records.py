"""Record-shaped files: CSV (one section per row) and JSON Lines (one section per line).

Standard library only (csv, json): both formats are simple enough that the stdlib is the
well-kept library.
"""

from __future__ import annotations

import csv
import io
import json

from ingestion.document import Section
from ingestion.errors import LoadError
from ingestion.loaders._base import Parsed, decode_text


def load_csv(data: bytes, name: str) -> Parsed:
    """'col: value; col: value' per row (empty values skipped); the first row is the header."""
    text = decode_text(data, name, "csv")
    if not text.strip():
        return Parsed([])
    try:
        dialect = csv.Sniffer().sniff(text[:64 * 1024], delimiters=",;\t|")
    except csv.Error:  # one column, or too irregular to tell: plain commas
        dialect = csv.excel
    rows = csv.reader(io.StringIO(text, newline=""), dialect)
    header = next(rows, None)
    if header is None:
        return Parsed([])
    columns = [h.strip() or f"column {i}" for i, h in enumerate(header, 1)]
    sections = []
    for row in rows:
        pairs = []
        for i, value in enumerate(row):
            column = columns[i] if i < len(columns) else f"column {i + 1}"
            if value.strip():
                pairs.append(f"{column}: {value.strip()}")
        if pairs:
            sections.append(Section(text="; ".join(pairs)))
    if not sections:
        raise LoadError(f"{name} has a header row but no data rows",
                        fix="add rows below the header, or remove the file")
    return Parsed(sections, {"delimiter": dialect.delimiter})


def load_jsonl(data: bytes, name: str) -> Parsed:
    """'key: value' lines per object (nested values as compact JSON); blank lines skipped."""
    sections = []
    for number, line in enumerate(decode_text(data, name, "jsonl").split("\n"), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise LoadError(
                f"{name} line {number} is not valid JSON: {exc.msg} (column {exc.colno})",
                fix="fix or remove that line; each line must hold one JSON value") from None
        text = _render(record)
        if text.strip():
            sections.append(Section(text=text))
    return Parsed(sections)


def _render(value: object) -> str:
    if isinstance(value, dict):
        return "\n".join(f"{key}: {_scalar(v)}" for key, v in value.items() if v not in (None, ""))
    return _scalar(value)


def _scalar(value: object) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
