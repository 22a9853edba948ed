"""Dataset rows -> training rows: read and validate the JSONL that ``ragft dataset build`` writes
(errors name the file, line and field), cap the paraphrases per fact, and tokenize each
conversation with the model's chat template and a loss mask on the assistant tokens only.

No third-party import: the tokenizer is passed in (any fast Hugging Face tokenizer).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ingestion.errors import TrainingError

ROLES = ("system", "user", "assistant")
SPLITS = ("train", "validation", "test")


@dataclass(frozen=True)
class Example:
    messages: list[dict[str, str]]
    split: str
    line: int
    fact_id: str | None = None
    kind: str | None = None
    answer: str | None = None  # the row's short gold answer ("EUR 49"), when the dataset gives one


def limit_paraphrases(examples: list[Example], limit: int) -> list[Example]:
    """Keep the first ``limit`` paraphrase rows of each fact (file order) and every other row."""
    if limit < 0:
        return examples
    seen: dict[str, int] = {}
    out = []
    for ex in examples:
        if ex.kind == "paraphrase" and ex.fact_id is not None:
            seen[ex.fact_id] = seen.get(ex.fact_id, 0) + 1
            if seen[ex.fact_id] > limit:
                continue
        out.append(ex)
    return out



def read_examples(path: Path) -> list[Example]:
    """Rows of the dataset, validated; errors name the file, the line and the field."""
    if not path.is_file():
        raise TrainingError(f"dataset {path} does not exist", fix="build one with `ragft dataset build PATH... --out FILE`")
    out: list[Example] = []
    with open(path, encoding="utf-8") as f:
        for n, raw in enumerate(f, 1):
            if not raw.strip():
                continue
            where = f"{path}:{n}"
            try:
                row = json.loads(raw)
            except json.JSONDecodeError as exc:
                raise TrainingError(f"{where} is not valid JSON ({exc.msg})", fix="one JSON object per line") from exc
            if not isinstance(row, dict):
                raise TrainingError(f"{where} is not a JSON object", fix='write {"messages": [...], "split": "train"}')
            split = row.get("split", "train")
            if split not in SPLITS:
                raise TrainingError(f"{where}: split is {split!r}", fix=f"use one of {', '.join(SPLITS)}")
            messages = row.get("messages")
            if not isinstance(messages, list) or not messages:
                raise TrainingError(f"{where}: messages is missing or empty", fix='give a list of {"role", "content"} objects')
            for i, msg in enumerate(messages):
                if not isinstance(msg, dict) or msg.get("role") not in ROLES:
                    role = msg.get("role") if isinstance(msg, dict) else msg
                    raise TrainingError(f"{where}: messages[{i}].role is {role!r}", fix=f"use one of {', '.join(ROLES)}")
                if not isinstance(msg.get("content"), str) or not msg["content"].strip():
                    raise TrainingError(f"{where}: messages[{i}].content is empty or not text")
            if messages[-1]["role"] != "assistant":
                raise TrainingError(f"{where}: the last message is not the assistant's", fix="end each conversation with the answer to learn")
            fact, kind, answer = row.get("fact_id"), row.get("kind"), row.get("answer")
            out.append(Example([{"role": m["role"], "content": m["content"]} for m in messages], split, n,
                               fact if isinstance(fact, str) and fact else None, kind if isinstance(kind, str) else None,
                               answer.strip() if isinstance(answer, str) and answer.strip() else None))
    if not out:
        raise TrainingError(f"dataset {path} has no rows", fix="build it with `ragft dataset build`")
    if not any(e.split == "train" for e in out):
        raise TrainingError(f"dataset {path} has no train rows", fix='mark training rows with "split": "train"')
    return out


def read_card(data: Path) -> dict | None:
    """The data card next to the dataset (``<stem>.card.json``), or None."""
    card = data.with_name(data.stem + ".card.json")
    if not card.is_file():
        return None
    try:
        value = json.loads(card.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise TrainingError(f"data card {card} is not valid JSON ({exc})", fix="rebuild the dataset with `ragft dataset build`") from exc
    return value if isinstance(value, dict) else None


def encode_conversation(tokenizer: Any, messages: list[dict[str, str]]) -> tuple[list[int], list[int]]:
    """Token ids of the templated conversation and a 0/1 mask of the assistant tokens.

    For each assistant turn, the text between ``template(messages[:i], generation prompt)`` and
    ``template(messages[:i+1])`` is that turn's answer with its end-of-turn token; token offsets
    map it onto the ids of the whole conversation.
    """
    def render(msgs: list[dict[str, str]], gen: bool) -> str:
        return tokenizer.apply_chat_template(msgs, tokenize=False, add_generation_prompt=gen)

    full = render(messages, False)
    spans: list[tuple[int, int]] = []
    for i, msg in enumerate(messages):
        if msg["role"] != "assistant":
            continue
        start, end = render(messages[:i], True), render(messages[: i + 1], False)
        if not (full.startswith(start) and full.startswith(end) and len(end) > len(start)):
            raise TrainingError(
                "the chat template does not render conversations prefix by prefix, so assistant tokens cannot be located",
                fix="use a base model whose chat template is prefix-preserving (most are), or single-turn rows",
            )
        spans.append((len(start), len(end)))
    enc = tokenizer(full, add_special_tokens=False, return_offsets_mapping=True)
    mask = [int(any(a < e and b > s for s, e in spans)) for a, b in enc["offset_mapping"]]
    return list(enc["input_ids"]), mask


def tokenize_examples(tokenizer: Any, examples: list[Example], max_length: int) -> tuple[list[dict], int]:
    """Rows for TRL (``input_ids`` + ``assistant_masks``); returns (rows, number truncated)."""
    rows, truncated = [], 0
    for ex in examples:
        ids, mask = encode_conversation(tokenizer, ex.messages)
        if len(ids) > max_length:
            truncated += 1
            ids, mask = ids[:max_length], mask[:max_length]
        if sum(mask) == 0:
            continue  # the answer fell off the end: nothing to learn from this row
        rows.append({"input_ids": ids, "assistant_masks": mask})
    return rows, truncated
