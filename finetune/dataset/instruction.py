"""Ready-made instruction data: chat ``messages`` rows or Alpaca ``instruction/input/output`` rows.

    is_instruction_file(Path("alpaca.json"))   # True: .json, or .jsonl whose first row has those keys
    rows = load_instructions(Path("chat.jsonl"))  # [InstructionRow(messages=[...], line=1), ...]

Accepted shapes, one per line (JSON Lines) or as one JSON array (.json)::

    {"messages": [{"role": "system", "content": "..."}?, {"role": "user", ...}, {"role": "assistant", ...}]}
    {"instruction": "...", "input": "..." (optional), "output": "..."}

A row that is not valid JSON or has the wrong shape raises ``LoadError`` naming the file, the
line and the field, so one bad row never silently drops or mangles a training set.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from ingestion.errors import LoadError

ROLES = ("system", "user", "assistant")


@dataclass(frozen=True)
class InstructionRow:
    messages: tuple[dict[str, str], ...]
    line: int  # 1-based line (JSON Lines) or array index + 1 (.json)

    @property
    def prompt(self) -> str:
        return "\n".join(m["content"] for m in self.messages[:-1] if m["role"] == "user")

    @property
    def reply(self) -> str:
        return self.messages[-1]["content"]


def is_instruction_file(path: Path) -> bool:
    """A .json file, or a .jsonl file whose first row has ``messages`` or ``instruction`` + ``output``."""
    suffix = path.suffix.lower()
    if suffix == ".json":
        return True
    if suffix != ".jsonl":
        return False
    try:
        with path.open("rb") as handle:
            for raw in handle:
                if raw.strip():
                    row = json.loads(raw)
                    return isinstance(row, dict) and ("messages" in row or {"instruction", "output"} <= row.keys())
    except (OSError, ValueError):
        return False
    return False


def content_hash(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError as exc:
        raise LoadError(f"cannot read {path}: {exc.strerror}", fix="check the path and its permissions") from None


def load_instructions(path: Path) -> list[InstructionRow]:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise LoadError(f"{path} is not UTF-8 text", fix="save it as UTF-8 JSON Lines") from None
    except OSError as exc:
        raise LoadError(f"cannot read {path}: {exc.strerror}", fix="check the path and its permissions") from None
    if path.suffix.lower() == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise LoadError(f"{path} line {exc.lineno} is not valid JSON: {exc.msg}",
                            fix="fix the JSON, or write one object per line as .jsonl") from None
        if not isinstance(data, list):
            raise LoadError(f"{path} holds a JSON {type(data).__name__}, not an array of rows",
                            fix='write [{"instruction": ..., "output": ...}, ...] or use .jsonl')
        items = [(i + 1, row) for i, row in enumerate(data)]
    else:
        items = []
        for number, line in enumerate(text.split("\n"), 1):
            if not line.strip():
                continue
            try:
                items.append((number, json.loads(line)))
            except json.JSONDecodeError as exc:
                raise LoadError(f"{path} line {number} is not valid JSON: {exc.msg} (column {exc.colno})",
                                fix="fix or remove that line; each line must hold one JSON object") from None
    rows = [InstructionRow(_messages(row, path, number), number) for number, row in items]
    if not rows:
        raise LoadError(f"{path} has no instruction rows", fix="add rows or remove the file from the inputs")
    return rows


def _messages(row: object, path: Path, line: int) -> tuple[dict[str, str], ...]:
    where = f"{path} line {line}"
    if not isinstance(row, dict):
        raise LoadError(f"{where} is a JSON {type(row).__name__}, not an object",
                        fix='write {"messages": [...]} or {"instruction": ..., "output": ...}')
    if "messages" in row:
        msgs = row["messages"]
        if not isinstance(msgs, list) or not msgs:
            raise LoadError(f"{where}: messages must be a non-empty list", fix="list the chat turns as role/content objects")
        out = []
        for i, msg in enumerate(msgs):
            role = msg.get("role") if isinstance(msg, dict) else None
            content = msg.get("content") if isinstance(msg, dict) else None
            if role not in ROLES:
                raise LoadError(f"{where}: messages[{i}].role is {role!r}", fix=f"use one of {', '.join(ROLES)}")
            if not isinstance(content, str) or not content.strip():
                raise LoadError(f"{where}: messages[{i}].content is empty or not a string", fix="give every turn text")
            out.append({"role": role, "content": content})
        if out[-1]["role"] != "assistant" or not any(m["role"] == "user" for m in out):
            raise LoadError(f"{where}: messages must contain a user turn and end with an assistant turn",
                            fix="end each conversation with the reply the model should learn")
        return tuple(out)
    instruction, output, extra = row.get("instruction"), row.get("output"), row.get("input", "")
    for name, value in (("instruction", instruction), ("output", output)):
        if not isinstance(value, str) or not value.strip():
            raise LoadError(f"{where}: {name} is missing or empty",
                            fix='give each row "instruction" and "output" text (or use a "messages" list)')
    if extra is None:
        extra = ""
    if not isinstance(extra, str):
        raise LoadError(f"{where}: input must be a string", fix='use "" when there is no input')
    user = instruction.strip() + (f"\n\n{extra.strip()}" if extra.strip() else "")
    return ({"role": "user", "content": user}, {"role": "assistant", "content": output})
