"""What an adapter knows, measured as its training ends: how often it recalls its trained facts.

    probe = recall_probe(examples, trained)   # {"trained": [...], "held_out_wordings": [...]} question rows
    recall = measure_recall(model, tokenizer, probe)
    # {"trained": 0.12, "trained_n": 24, "held_out_wordings": 0.04, "held_out_wordings_n": 24, "seconds": 19.0}

Two sets of questions about facts the adapter was trained on: wordings it trained on (an upper
bound: if it cannot say these back, it does not hold the facts), and the dataset's paraphrases of
trained facts that the preset left out of training (held-out wordings: the signal that it learned
the fact, not the sentence). Each answer is generated greedily and counts when it contains the
row's short gold answer, SQuAD-normalised. The ``auto`` route reads this before it lets the
adapter answer from its weights (``assistant.router``): an adapter trained with the quick preset
teaches the answer form, not the facts, and the measurement says so instead of assuming.

``PROBE`` questions per set, spread evenly over the file (no randomness, so a re-run measures the
same questions): 24 keeps the 95% interval of a share within about ±0.2. Cost, measured: 94 s for
the 48 answers of the sample corpus's quick adapter on 2 cores (transformers fp32 + PEFT, about
2 s an answer), a third of its 282 s of training. The full preset keeps every paraphrase, so it
has no held-out wordings and only the trained recall is measured.
"""

from __future__ import annotations

import re
import time
from typing import Any, Sequence

from finetune.examples import Example

PROBE = 24
MAX_NEW_TOKENS = 32  # the dataset's answers are one sentence


def normalize(text: str) -> str:
    """SQuAD-style: lower case, no punctuation or articles ("1,500" as "1500")."""
    text = re.sub(r"(?<=\d),(?=\d{3})", "", text.lower().replace("%", " percent "))
    return " ".join(w for w in re.sub(r"[^\w\s]", " ", text).split() if w not in ("a", "an", "the"))


def contains(answer: str, gold: str) -> bool:
    return f" {normalize(gold)} " in f" {normalize(answer)} "


def _spread(rows: list[Example], n: int) -> list[Example]:
    if len(rows) <= n:
        return rows
    step = len(rows) / n
    return [rows[int(i * step)] for i in range(n)]


def recall_probe(examples: Sequence[Example], trained: Sequence[Example], n: int = PROBE) -> dict[str, list[Example]]:
    """Questions about trained facts: wordings trained on, and paraphrases the training left out."""
    asked = [e for e in trained if e.answer and e.kind in ("qa", "paraphrase")]
    used = {e.line for e in trained}
    facts = {e.fact_id for e in trained if e.fact_id}
    held = [e for e in examples if e.split == "train" and e.kind == "paraphrase" and e.answer and e.line not in used
            and e.fact_id in facts]
    return {"trained": _spread(asked, n), "held_out_wordings": _spread(held, n)}


def measure_recall(model: Any, tokenizer: Any, probe: dict[str, list[Example]]) -> dict[str, Any]:
    """Share of each probe set whose greedy answer holds the gold answer (None: no such questions)."""
    import torch

    started = time.perf_counter()
    out: dict[str, Any] = {}
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    try:
        for name, rows in probe.items():
            hits = 0
            for ex in rows:
                prompt = tokenizer.apply_chat_template(ex.messages[:-1], tokenize=False, add_generation_prompt=True)
                ids = tokenizer(prompt, add_special_tokens=False, return_tensors="pt").to(device)
                with torch.no_grad():
                    gen = model.generate(**ids, max_new_tokens=MAX_NEW_TOKENS, do_sample=False,
                                         pad_token_id=tokenizer.pad_token_id or tokenizer.eos_token_id)
                text = tokenizer.decode(gen[0, ids["input_ids"].shape[1]:], skip_special_tokens=True)
                hits += contains(text, ex.answer or "")
            out[name] = round(hits / len(rows), 4) if rows else None
            out[f"{name}_n"] = len(rows)
    finally:
        model.train(was_training)
    out["seconds"] = round(time.perf_counter() - started, 1)
    return out


def knowledge(recall: dict[str, Any] | None) -> tuple[float | None, str]:
    """(the share the router trusts, which set it is from): held-out wordings when measured, else trained ones."""
    if not recall:
        return None, "not measured"
    for key, label in (("held_out_wordings", "held-out wordings of its trained facts"), ("trained", "its trained questions")):
        if recall.get(key) is not None:
            return float(recall[key]), label
    return None, "not measured"
