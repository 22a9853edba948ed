"""Dataset rows -> training rows: validation, the paraphrase cap, and the assistant-only loss mask."""

from __future__ import annotations

import json

import pytest

from finetune.examples import Example, encode_conversation, limit_paraphrases, read_examples
from ingestion.errors import TrainingError
from tests.finetune.train_fixtures import write_dataset


def _row(fact: str, kind: str, text: str, split: str = "train") -> dict:
    return {"split": split, "fact_id": fact, "kind": kind,
            "messages": [{"role": "user", "content": text + "?"}, {"role": "assistant", "content": text + "."}]}


def test_bad_rows_are_reported_with_file_line_and_field(tmp_path):
    path = write_dataset(tmp_path / "d.jsonl")
    lines = path.read_text().splitlines()
    bad = json.loads(lines[1])
    bad["messages"][1]["role"] = "bot"
    path.write_text("\n".join([lines[0], json.dumps(bad), *lines[2:]]) + "\n")
    with pytest.raises(TrainingError, match=r"d\.jsonl:2: messages\[1\]\.role is 'bot'"):
        read_examples(path)
    path.write_text(lines[0] + "\n{not json\n")
    with pytest.raises(TrainingError, match=r"d\.jsonl:2 is not valid JSON"):
        read_examples(path)
    with pytest.raises(TrainingError, match="does not exist"):
        read_examples(tmp_path / "missing.jsonl")


def test_rows_keep_their_fact_and_kind(tmp_path):
    path = tmp_path / "d.jsonl"
    rows = [_row("f1", "qa", "a"), _row("f1", "paraphrase", "b"), {**_row("", "qa", "c"), "fact_id": None}]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    examples = read_examples(path)
    assert [(e.fact_id, e.kind, e.line) for e in examples] == [("f1", "qa", 1), ("f1", "paraphrase", 2), (None, "qa", 3)]


def test_limit_paraphrases_keeps_the_first_n_per_fact_and_every_other_row():
    def ex(line: int, fact: str | None, kind: str | None) -> Example:
        return Example([{"role": "assistant", "content": "x"}], "train", line, fact, kind)

    rows = [ex(1, "f1", "qa"), ex(2, "f1", "paraphrase"), ex(3, "f2", "paraphrase"), ex(4, "f1", "paraphrase"),
            ex(5, "f1", "raft"), ex(6, "f2", "paraphrase"), ex(7, "f1", "paraphrase"), ex(8, None, "paraphrase"), ex(9, None, None)]
    lines = lambda kept: [e.line for e in kept]  # noqa: E731
    assert lines(limit_paraphrases(rows, 1)) == [1, 2, 3, 5, 8, 9]  # a paraphrase without a fact is never capped
    assert lines(limit_paraphrases(rows, 2)) == [1, 2, 3, 4, 5, 6, 8, 9]
    assert lines(limit_paraphrases(rows, 0)) == [1, 5, 8, 9]
    assert limit_paraphrases(rows, -1) == rows


def test_loss_mask_covers_exactly_the_assistant_turns(tiny_llama_dir):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_llama_dir)
    messages = [
        {"role": "system", "content": "Answer briefly."},
        {"role": "user", "content": "When was Marrowfield founded?"},
        {"role": "assistant", "content": "In 2011."},
        {"role": "user", "content": "Where?"},
        {"role": "assistant", "content": "In Rotterdam."},
    ]
    ids, mask = encode_conversation(tok, messages)
    assert ids == tok.apply_chat_template(messages, tokenize=True, return_dict=False)
    learned = tok.decode([t for t, m in zip(ids, mask) if m])
    # Both answers with their end-of-turn token (so the model learns to stop); no prompt text.
    assert learned.replace("\n", "") == "In 2011.<|im_end|>In Rotterdam.<|im_end|>"
