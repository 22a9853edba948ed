"""Train / validation / test by source fact, and the check that no fact leaks across splits.

    groups = Grouper(); groups.link("f_1", "q:how much ..."); ...
    split_of = assign_splits(groups.components(), seed=0, val_frac=0.1, test_frac=0.1)
    check_leakage(rows)   # raises LeakageError: "example ex_.. (fact f_..) in train shares ..."

Examples that share a fact id, a normalised question, or an answer-bearing sentence are one
group (union-find), and a group's split follows a seeded hash of its smallest fact id: every
paraphrase of a fact lands in the same split, and a fact keeps its split when other documents
are added. The check re-derives all of this from the rows alone, so it also guards files that
were edited or merged by hand.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence

from finetune.dataset.text import normalize, split_sentences
from ingestion.errors import TrainingError

SPLITS = ("train", "validation", "test")
KINDS = ("qa", "paraphrase", "raft", "instruction")
MIN_SENTENCE_WORDS = 5  # shorter replies ("Yes.") are too common to mark a fact
QUESTION_MARK = "Question:"


class LeakageError(TrainingError):
    """A fact, question or answer-bearing sentence appears in two splits."""


class Grouper:
    """Union-find over string keys."""

    def __init__(self) -> None:
        self._parent: dict[str, str] = {}

    def find(self, key: str) -> str:
        parent = self._parent.setdefault(key, key)
        if parent != key:
            parent = self._parent[key] = self.find(parent)
        return parent

    def link(self, *keys: str) -> None:
        roots = sorted({self.find(k) for k in keys})
        for root in roots[1:]:
            self._parent[root] = roots[0]

    def components(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for key in sorted(self._parent):
            out.setdefault(self.find(key), []).append(key)
        return out


def assign_splits(components: dict[str, list[str]], *, seed: int, val_frac: float, test_frac: float) -> dict[str, str]:
    """{key: split} for every key; each component goes to one split by a seeded hash.

    With at least three components and a non-zero fraction, validation and test get at least one
    component each (the lowest-hash train components are moved), so a small corpus still tests.
    """
    scored = []
    for root, keys in components.items():
        anchor = min(k for k in keys if k.startswith("f_")) if any(k.startswith("f_") for k in keys) else min(keys)
        digest = hashlib.sha256(f"{seed}:{anchor}".encode()).digest()
        scored.append((int.from_bytes(digest[:8], "big") / 2**64, anchor, root))
    scored.sort()
    split = {}
    for u, _, root in scored:
        split[root] = "test" if u < test_frac else "validation" if u < test_frac + val_frac else "train"
    if len(scored) >= 3:
        for name, frac in (("test", test_frac), ("validation", val_frac)):
            if frac > 0 and name not in split.values():
                train = [root for _, _, root in scored if split[root] == "train"]
                if len(train) > 1:
                    split[train[0]] = name
    return {key: split[root] for root, keys in components.items() for key in keys}


def question_of(row: dict) -> str:
    """The question a row asks: the last user turn (after 'Question:' for RAFT rows)."""
    users = [m["content"] for m in row["messages"] if m.get("role") == "user"]
    text = users[-1] if users else ""
    if row.get("kind") == "raft" and QUESTION_MARK in text:
        text = text.rsplit(QUESTION_MARK, 1)[1]
    return normalize(text)


def reply_of(row: dict) -> str:
    """The normalised answer-bearing sentence (the final assistant turn), or '' when too short."""
    replies = [m["content"] for m in row["messages"] if m.get("role") == "assistant"]
    text = normalize(replies[-1]) if replies else ""
    return text if len(text.split()) >= MIN_SENTENCE_WORDS else ""


def context_sentences(row: dict) -> set[str]:
    """Normalised sentences of the documents inside a RAFT row's prompt."""
    if row.get("kind") != "raft":
        return set()
    text = " ".join(m["content"] for m in row["messages"] if m.get("role") == "user")
    text = text.rsplit(QUESTION_MARK, 1)[0]
    return {normalize(s) for s in split_sentences(re.sub(r"^\[\d+\][^\n]*$", "", text, flags=re.M))}


def validate_row(row: object, where: str) -> dict:
    """The row itself when it has the dataset fields; TrainingError naming the field otherwise."""
    if not isinstance(row, dict):
        raise TrainingError(f"{where} is not a JSON object", fix="regenerate the file with `ragft dataset build`")
    for field, kind in (("id", str), ("split", str), ("fact_id", str), ("kind", str), ("messages", list), ("answer", str)):
        if not isinstance(row.get(field), kind):
            raise TrainingError(f"{where} has no valid {field!r} field", fix="regenerate the file with `ragft dataset build`")
    if row["split"] not in SPLITS:
        raise TrainingError(f"{where} has split {row['split']!r}", fix=f"use one of {', '.join(SPLITS)}")
    for i, msg in enumerate(row["messages"]):
        if not isinstance(msg, dict) or msg.get("role") not in ("system", "user", "assistant") or not isinstance(msg.get("content"), str):
            raise TrainingError(f"{where} messages[{i}] is not a role/content turn", fix="regenerate the file")
    return row


def check_leakage(rows: Sequence[dict] | Iterable[dict]) -> dict[str, int]:
    """Raise ``LeakageError`` at the first fact, question or sentence seen in two splits.

    Checks, in order: fact ids; normalised questions; answer-bearing sentences (replies of at
    least five words); and RAFT prompts, whose context documents must not contain the
    answer-bearing sentence of a later split (train < validation < test). Returns split counts.
    """
    rows = list(rows)
    counts = {s: 0 for s in SPLITS}
    for keyname, key_of in (("fact", lambda r: r["fact_id"]), ("question", question_of), ("answer sentence", reply_of)):
        seen: dict[str, dict] = {}
        for row in rows:
            key = key_of(row)
            if not key:
                continue
            first = seen.setdefault(key, row)
            if first["split"] != row["split"]:
                raise _leak(row, first, keyname, key)
    order = {s: i for i, s in enumerate(SPLITS)}
    sentence_split: dict[str, dict] = {}
    for row in rows:
        counts[row["split"]] += 1
        reply = reply_of(row)
        if reply:
            sentence_split.setdefault(reply, row)
    for row in rows:
        for sentence in context_sentences(row):
            owner = sentence_split.get(sentence)
            if owner is not None and order[owner["split"]] > order[row["split"]]:
                raise LeakageError(
                    f"example {row['id']} (fact {row['fact_id']}) in {row['split']} shows, in its context, the answer "
                    f"sentence of example {owner['id']} (fact {owner['fact_id']}) in {owner['split']}",
                    fix="rebuild with `ragft dataset build` (RAFT contexts are scrubbed of later splits' facts)")
    return counts


def _leak(row: dict, first: dict, keyname: str, key: str) -> LeakageError:
    shown = key if len(key) <= 60 else key[:57] + "..."
    return LeakageError(
        f"example {row['id']} (fact {row['fact_id']}) in {row['split']} shares its {keyname} "
        f"'{shown}' with example {first['id']} (fact {first['fact_id']}) in {first['split']}",
        fix="rebuild with `ragft dataset build`, or move both examples into one split")


def check_file(path) -> dict:
    """Re-run the leakage check on a dataset file; a summary dict, or TrainingError/LeakageError."""
    import json
    from pathlib import Path

    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise TrainingError(f"{path} does not exist", fix="pass the JSONL written by `ragft dataset build`") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise TrainingError(f"cannot read {path}: {exc}", fix="pass the JSONL written by `ragft dataset build`") from None
    rows = []
    for number, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise TrainingError(f"{path} line {number} is not valid JSON: {exc.msg}", fix="regenerate the file") from None
        rows.append(validate_row(row, f"{path} line {number}"))
    if not rows:
        raise TrainingError(f"{path} holds no examples", fix="build it with `ragft dataset build`")
    counts = check_leakage(rows)
    by_kind: dict[str, int] = {}
    for row in rows:
        by_kind[row["kind"]] = by_kind.get(row["kind"], 0) + 1
    return {"file": str(path.resolve()), "examples": len(rows), "counts": counts,
            "facts": len({r["fact_id"] for r in rows}), "by_kind": dict(sorted(by_kind.items())), "leakage": "passed"}
