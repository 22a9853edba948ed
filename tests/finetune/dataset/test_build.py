"""End-to-end builds: the row contract, determinism, the data card, atomic writes, LLM generation."""

from __future__ import annotations

import hashlib
import json

import pytest

from finetune.dataset.build import DatasetConfig, build_dataset
from finetune.dataset.card import TokenCounter, card_path, corpus_snapshot
from finetune.dataset.llm import parse_blocks
from finetune.dataset.text import Passage
from ingestion.errors import ConfigError, TrainingError
from ingestion.loaders import iter_files, load_document
from rag.chat_model import FakeChatModel

ROW_KEYS = ["id", "split", "fact_id", "kind", "source", "messages", "answer"]


def test_rows_follow_the_contract(built):
    _, rows, _ = built
    assert len(rows) > 1500
    assert len({r["id"] for r in rows}) == len(rows)
    for r in rows:
        assert list(r) == ROW_KEYS
        assert r["split"] in {"train", "validation", "test"} and r["kind"] in {"qa", "paraphrase", "raft"}
        roles = [m["role"] for m in r["messages"]]
        assert roles[-2:] == ["user", "assistant"] and set(roles) <= {"system", "user", "assistant"}
        assert r["answer"] and r["source"].startswith("/")
        assert r["answer"].lower() in r["messages"][-1]["content"].lower() or r["kind"] != "qa" or ";" in r["answer"]


def test_sample_corpus_gives_hundreds_of_real_training_facts(built):
    result, rows, _ = built
    train_qa = [r for r in rows if r["split"] == "train" and r["kind"] in {"qa", "paraphrase"}]
    assert result.facts > 400 and len(train_qa) > 1000
    pairs = {(r["messages"][-2]["content"], r["answer"]) for r in rows}
    assert ("How much does the Team plan cost per seat per month?", "EUR 49") in pairs
    assert ("Who is the site lead of the Lisbon office?", "Beatriz Antunes") in pairs
    assert result.by_kind["raft"] == result.facts


def test_same_inputs_and_seed_give_identical_bytes(built, v1, tmp_path):
    result, _, _ = built
    again = build_dataset([v1], tmp_path / "again.jsonl", DatasetConfig(raft=True), counter=TokenCounter.whitespace())
    assert again.out.read_bytes() == result.out.read_bytes()
    other = build_dataset([v1], tmp_path / "seed1.jsonl", DatasetConfig(seed=1), counter=TokenCounter.whitespace())
    assert other.out.read_bytes() != result.out.read_bytes()


def test_card_describes_the_file(built, v1):
    result, rows, card = built
    assert result.card == card_path(result.out) and result.card.name == "data.card.json"
    for key in ("created_at", "inputs", "counts", "by_kind", "facts", "sources", "corpus_snapshot", "token_lengths",
                "leakage_check", "seed", "generator"):
        assert key in card
    assert card["counts"] == result.counts and sum(card["counts"].values()) == len(rows)
    assert card["leakage_check"] == "passed" and card["seed"] == 0 and card["generator"]["name"] == "rules"
    assert card["generator"]["paraphrases"] == 3 and card["generator"]["raft"] is True
    docs = [load_document(p) for p in iter_files(v1)]
    assert [(s["source"], s["hash"]) for s in card["sources"]] == sorted((d.source, d.content_hash) for d in docs)
    assert card["corpus_snapshot"] == corpus_snapshot([(d.source, d.content_hash) for d in docs])
    assert sum(s["examples"] for s in card["sources"]) == len(rows)
    t = card["token_lengths"]
    assert 0 < t["p50"] <= t["p95"] <= t["max"] and t["tokenizer"].startswith("whitespace")
    assert card["data_sha256"] == hashlib.sha256(result.out.read_bytes()).hexdigest()


def test_default_token_counter_uses_the_model_tokenizer():
    counter = TokenCounter.default()
    msgs = [{"role": "user", "content": "How much does the Team plan cost?"},
            {"role": "assistant", "content": "The Team plan costs EUR 49 per seat per month."}]
    if counter.name.startswith("whitespace"):
        pytest.skip("llama-cpp-python or the bundled model is not installed")
    assert "SmolLM2" in counter.name and counter.count(msgs) > 25  # chat template tokens included


def test_a_failed_build_leaves_the_previous_files(tmp_path, small_corpus):
    out = tmp_path / "data.jsonl"
    build_dataset([small_corpus], out, DatasetConfig(), counter=TokenCounter.whitespace())
    before = out.read_bytes(), card_path(out).read_bytes()
    with pytest.raises(TrainingError, match="nothing to build a dataset from"):
        build_dataset([tmp_path / "missing"], out, DatasetConfig(), counter=TokenCounter.whitespace())
    assert (out.read_bytes(), card_path(out).read_bytes()) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["corpus", "data.card.json", "data.jsonl"]  # no temp files


def test_unreadable_files_are_listed_and_the_build_goes_on(tmp_path, small_corpus):
    (small_corpus / "empty.md").write_bytes(b"")
    (small_corpus / "broken.pdf").write_bytes(b"%PDF-1.4 not really")
    result = build_dataset([small_corpus], tmp_path / "d.jsonl", DatasetConfig(), counter=TokenCounter.whitespace())
    assert sorted(f["path"].rsplit("/", 1)[1] for f in result.failed) == ["broken.pdf", "empty.md"]
    assert all(f["error"] for f in result.failed) and result.examples > 50


@pytest.mark.parametrize("kwargs, flag", [({"paraphrases": -1}, "--paraphrases"), ({"val_frac": 1.5}, "--val-frac"),
                                          ({"val_frac": 0.5, "test_frac": 0.45}, "--test-frac"), ({"generator": "gpt"}, "rules or llm")])
def test_settings_are_validated_naming_the_flag(kwargs, flag):
    with pytest.raises(ConfigError, match=flag):
        DatasetConfig(**kwargs)


def test_llm_blocks_are_kept_only_when_grounded():
    text = "The Keel crew is led by Oskar Lindahl. Logs are kept for 400 days in line with the policy."
    passage = Passage("/doc.md", "Quarry", "", "prose", text)
    reply = ("FACT: Logs are kept for 400 days in line with the policy.\nANSWER: 400 days\n"
             "Q: How long are logs retained?\nQ: For how many days do logs stay?\n\n"
             "FACT: Logs are kept for ten years.\nANSWER: ten years\nQ: How long are logs kept?\n\n"  # invented
             "FACT: The Keel crew is led by Oskar Lindahl.\nANSWER: Anna Smith\nQ: Who leads Keel?")  # wrong answer
    facts = parse_blocks(reply, passage)
    assert [(f.answer, f.questions) for f in facts] == [
        ("400 days", ("How long are logs retained?", "For how many days do logs stay?"))]
    assert facts[0].sentence == "Logs are kept for 400 days in line with the policy." and facts[0].kind == "llm"


def test_llm_generator_adds_model_written_questions(tmp_path, small_corpus):
    model = FakeChatModel(default_reply="FACT: The Team plan costs EUR 49 per seat per month.\nANSWER: EUR 49\n"
                                        "Q: What is the monthly per-seat price of Team?\nQ: Team costs what per seat?")
    with pytest.raises(ConfigError, match="needs a model"):
        build_dataset([small_corpus], tmp_path / "x.jsonl", DatasetConfig(generator="llm"))
    result = build_dataset([small_corpus], tmp_path / "d.jsonl", DatasetConfig(generator="llm"), model=model,
                           counter=TokenCounter.whitespace())
    rows = [json.loads(line) for line in result.out.read_text().splitlines()]
    questions = {r["messages"][-2]["content"] for r in rows if r["answer"] == "EUR 49"}
    assert "What is the monthly per-seat price of Team?" in questions and model.calls
    card = json.loads(result.card.read_text())
    assert card["generator"]["name"] == "llm" and card["generator"]["model"] == "fake"
