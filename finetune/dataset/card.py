"""The data card written next to the dataset, and the token counter it reports lengths with.

    counter = TokenCounter.default()      # SmolLM2's tokenizer + chat template, else whitespace
    card = make_card(rows=..., sources=..., ...); write_json_atomic(card_path(out), card)

``data.jsonl`` -> ``data.card.json``. ``sources`` lists each document's content hash (the
loader's ``Document.content_hash``): the adapter registry compares them with the index to mark
an adapter trained on older documents as stale. ``corpus_snapshot`` is one hash over all of them.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import time
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path


def card_path(out: Path) -> Path:
    return out.with_suffix(".card.json")


def corpus_snapshot(sources: Sequence[tuple[str, str]]) -> str:
    """sha256 over the sorted (source, content hash) pairs."""
    lines = "".join(f"{s}\t{h}\n" for s, h in sorted(sources))
    return hashlib.sha256(lines.encode()).hexdigest()


@dataclass
class TokenCounter:
    """Counts the tokens of a whole chat example as the default model would see it."""

    name: str
    count: Callable[[list[dict[str, str]]], int]

    @classmethod
    def whitespace(cls) -> "TokenCounter":
        return cls("whitespace words (the default model's tokenizer was not available)",
                   lambda msgs: sum(len(m["content"].split()) for m in msgs))

    @classmethod
    def default(cls) -> "TokenCounter":
        """SmolLM2-135M-Instruct's vocabulary (read from the bundled GGUF with llama.cpp, no
        weights loaded) and its chat template; whitespace words when either is unavailable."""
        try:
            import jinja2.sandbox
            import llama_cpp

            from finetune.base_model import bundled_gguf

            with _quiet_stderr():
                vocab = llama_cpp.Llama(model_path=str(bundled_gguf()), vocab_only=True, verbose=False)
            template = jinja2.sandbox.ImmutableSandboxedEnvironment().from_string(
                vocab.metadata.get("tokenizer.chat_template", ""))

            def count(msgs: list[dict[str, str]]) -> int:
                text = template.render(messages=msgs, add_generation_prompt=False)
                return len(vocab.tokenize(text.encode(), add_bos=False, special=True))

            count([{"role": "user", "content": "ok"}])
            return cls("SmolLM2-135M-Instruct tokenizer, chat template applied", count)
        except Exception:  # noqa: BLE001 - any failure here only changes the unit of a statistic
            return cls.whitespace()


@contextmanager
def _quiet_stderr():
    """llama.cpp prints context warnings straight to fd 2; keep them off the progress bar."""
    try:
        saved = os.dup(2)
    except OSError:
        yield
        return
    with open(os.devnull, "w") as null:
        os.dup2(null.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)


def token_stats(rows: Sequence[dict], counter: TokenCounter) -> dict:
    lengths = sorted(counter.count(r["messages"]) for r in rows)
    if not lengths:
        return {"p50": 0, "p95": 0, "max": 0, "tokenizer": counter.name}

    def pct(p: float) -> int:
        return lengths[min(len(lengths) - 1, math.ceil(p * len(lengths)) - 1)]

    return {"p50": pct(0.5), "p95": pct(0.95), "max": lengths[-1], "tokenizer": counter.name}


def make_card(*, inputs: Sequence[str], rows: Sequence[dict], facts: int, sources: Sequence[tuple[str, str]],
              seed: int, generator: dict, counter: TokenCounter, data_sha256: str, skipped: dict) -> dict:
    counts = {s: 0 for s in ("train", "validation", "test")}
    by_kind: dict[str, int] = {}
    per_source: dict[str, int] = {}
    for row in rows:
        counts[row["split"]] += 1
        by_kind[row["kind"]] = by_kind.get(row["kind"], 0) + 1
        if row.get("source"):
            per_source[row["source"]] = per_source.get(row["source"], 0) + 1
    return {
        "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "inputs": list(inputs),
        "counts": counts,
        "by_kind": dict(sorted(by_kind.items())),
        "facts": facts,
        "examples": len(rows),
        "sources": [{"source": s, "hash": h, "examples": per_source.get(s, 0)} for s, h in sorted(sources)],
        "corpus_snapshot": corpus_snapshot(sources),
        "token_lengths": token_stats(rows, counter),
        "leakage_check": "passed",
        "seed": seed,
        "generator": generator,
        "skipped": skipped,
        "data_sha256": data_sha256,
    }


def dumps_card(card: dict) -> bytes:
    return (json.dumps(card, indent=2, ensure_ascii=False) + "\n").encode()
