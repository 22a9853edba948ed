"""Instruction datasets for fine-tuning, built from the user's documents (``ragft dataset``).

    from finetune.dataset import DatasetConfig, build_dataset, check_file
    result = build_dataset(["docs/"], Path("data.jsonl"), DatasetConfig(paraphrases=3, raft=True))
    check_file("data.jsonl")   # LeakageError when a fact appears in two splits

Output rows (one JSON object per line)::

    {"id", "split": "train"|"validation"|"test", "fact_id", "kind": "qa"|"paraphrase"|"raft"|"instruction",
     "source": "/abs/doc.md" | null, "messages": [{"role", "content"}, ...], "answer": "EUR 49"}

and ``data.card.json`` beside it (counts, sources with content hashes, corpus snapshot, token
lengths, the leakage check, the seed and the generator settings).
"""

from finetune.dataset.build import DatasetConfig, DatasetResult, build_dataset
from finetune.dataset.card import card_path
from finetune.dataset.splits import LeakageError, check_file, check_leakage

__all__ = ["DatasetConfig", "DatasetResult", "LeakageError", "build_dataset", "card_path", "check_file", "check_leakage"]
