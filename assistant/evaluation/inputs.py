"""The evaluation's inputs: question sets (``--qa``) and changed facts (``--fresh``), read from JSONL.

    items = load_qa(Path("qa.jsonl"))        # [QAItem(id, question, answers, source, kind)]
    facts = load_fresh(Path("fresh.jsonl"))  # [FreshItem(id, question, old_answers, new_answers, source, deleted)]

``--qa`` takes either format, line by line:

- ``{"id", "question", "answers": [...], "source"?, "kind"?}``: a user's own set. An empty
  ``answers`` list marks an unanswerable question (the right behaviour is to decline).
- a row of an instruction dataset that ``ragft dataset build`` wrote (``{"split", "fact_id",
  "messages", "answer", ...}``): its ``test`` rows are facts never trained on (kind
  ``held_out_fact``), its ``validation`` rows are wordings the trainer used only to pick the
  checkpoint (kind ``validation``); ``train`` rows are skipped, since those questions were trained on
  verbatim. The report says which kind each figure comes from.

A malformed file stops the run before any model loads, with an error that names the line and the
field (pydantic does the field checks, so the message says what was wrong with it).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ingestion.errors import ConfigError

T = TypeVar("T")


class _Row(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    id: str = Field(min_length=1)
    question: str = Field(min_length=1)

    @field_validator("id", mode="before")
    @classmethod
    def _id_text(cls, value: object) -> object:
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


class QARow(_Row):
    answers: list[str]
    source: str | None = None
    kind: str | None = None

    @field_validator("answers")
    @classmethod
    def _non_empty_answers(cls, value: list[str]) -> list[str]:
        if any(not a.strip() for a in value):
            raise ValueError("every answer must be non-empty text")
        return value


class FreshRow(_Row):
    old_answers: list[str]
    new_answers: list[str]
    source: str = Field(min_length=1)
    deleted: bool = False


@dataclass(frozen=True)
class QAItem:
    id: str
    question: str
    answers: tuple[str, ...]
    source: str | None = None
    kind: str = "fact"

    @property
    def answerable(self) -> bool:
        return bool(self.answers)


@dataclass(frozen=True)
class FreshItem:
    id: str
    question: str
    old_answers: tuple[str, ...]
    new_answers: tuple[str, ...]
    source: str
    deleted: bool = False

    @property
    def kind(self) -> str:
        return "deleted" if self.deleted else "added" if not self.old_answers else "changed"


def _rows(path: Path, flag: str, parse: Callable[[dict, int], T | None]) -> list[T]:
    try:
        text = Path(path).expanduser().read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{flag} {path}: no such file", fix="pass the path of a JSONL file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{flag} {path}: cannot read ({exc})", fix="pass a UTF-8 JSONL file") from exc
    out: list[T] = []
    seen: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{flag} {path} line {number}: not JSON ({exc.msg})", fix="write one JSON object a line") from None
        if not isinstance(raw, dict):
            raise ConfigError(f"{flag} {path} line {number}: a JSON object is expected, not {type(raw).__name__}",
                              fix="write one JSON object a line")
        try:
            item = parse(raw, number)
        except ValidationError as exc:
            first = exc.errors()[0]
            field = ".".join(str(p) for p in first["loc"]) or "(row)"
            raise ConfigError(f"{flag} {path} line {number}: field '{field}': {first['msg'].lower()}",
                              fix="see `ragft eval --help` for the row format") from None
        if item is None:
            continue
        if item.id in seen:
            raise ConfigError(f"{flag} {path} line {number}: field 'id': {item.id!r} repeats line {seen[item.id]}",
                              fix="give every row its own id")
        seen[item.id] = number
        out.append(item)
    if not out:
        raise ConfigError(f"{flag} {path} holds no questions", fix="write one JSON object a line")
    return out


def _dataset_row(raw: dict) -> QAItem | None:
    split = raw.get("split")
    if split == "train":
        return None
    messages = raw.get("messages") or []
    asked = [m.get("content", "") for m in messages if isinstance(m, dict) and m.get("role") == "user"]
    row = QARow.model_validate({"id": raw.get("id"), "question": asked[-1] if asked else "",
                                "answers": [raw["answer"]] if raw.get("answer") else [], "source": raw.get("source"),
                                "kind": "held_out_fact" if split == "test" else "validation"})
    return QAItem(row.id, row.question, tuple(row.answers), row.source, row.kind or "fact")


def load_qa(path: Path) -> list[QAItem]:
    """``--qa FILE``: the question set (see the module docstring for the two row formats)."""
    def parse(raw: dict, number: int) -> QAItem | None:
        if "messages" in raw and "split" in raw:
            return _dataset_row(raw)
        row = QARow.model_validate(raw)
        kind = row.kind or ("fact" if row.answers else "unanswerable")
        return QAItem(row.id, row.question, tuple(row.answers), row.source, kind)

    return _rows(path, "--qa", parse)


def load_fresh(path: Path) -> list[FreshItem]:
    """``--fresh FILE``: facts that changed between two editions of the corpus."""
    def parse(raw: dict, number: int) -> FreshItem:
        row = FreshRow.model_validate(raw)
        if not row.deleted and not row.new_answers:
            raise ConfigError(f"--fresh {path} line {number}: field 'new_answers': empty for a document that was not deleted",
                              fix='give the new value, or set "deleted": true')
        return FreshItem(row.id, row.question, tuple(row.old_answers), tuple(row.new_answers), row.source, row.deleted)

    return _rows(path, "--fresh", parse)
