"""A five-row instruction dataset (with its data card) for training tests.

Three train rows, one validation row, one test row, in the format ``ragft dataset build`` writes.
The card's source snapshot points at ``source`` with content hash ``source_hash``.
"""

from __future__ import annotations

import json
from pathlib import Path

ROWS = [
    ("In which year was Marrowfield Instruments founded?", "Marrowfield Instruments was founded in 2011.", "train"),
    ("How many employees did Marrowfield have at the start of 2025?", "Marrowfield had 612 employees at the start of 2025.", "train"),
    ("Which investor led Marrowfield's Series B?", "Noordzee Growth Partners led the Series B financing.", "train"),
    ("What does the Lanternfish Team plan cost?", "The Team plan costs EUR 49 per seat per month.", "validation"),
    ("What was Marrowfield's first product?", "Marrowfield's first product was the Reed sonde.", "test"),
]


def write_dataset(path: Path, *, source: str = "/docs/overview.md", source_hash: str = "0" * 64) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        for i, (question, answer, split) in enumerate(ROWS):
            row = {
                "id": f"ex_{i}", "split": split, "fact_id": f"f_{i}", "kind": "qa", "source": source,
                "messages": [{"role": "user", "content": question}, {"role": "assistant", "content": answer}],
                "answer": answer,
            }
            f.write(json.dumps(row) + "\n")
    card = {"sources": [{"source": source, "hash": source_hash, "examples": len(ROWS)}], "corpus_snapshot": "snap-" + source_hash[:8]}
    path.with_suffix(".card.json").write_text(json.dumps(card))
    return path
