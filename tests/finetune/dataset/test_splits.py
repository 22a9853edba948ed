"""Splits by source fact, and the leakage check catching planted leaks."""

from __future__ import annotations

import copy
import json

import pytest

from finetune.dataset.splits import Grouper, LeakageError, assign_splits, check_file, check_leakage
from finetune.dataset.text import normalize


def test_no_fact_question_or_sentence_in_two_splits(built):
    _, rows, _ = built
    for key in ("fact_id",):
        splits: dict[str, set[str]] = {}
        for r in rows:
            splits.setdefault(r[key], set()).add(r["split"])
        assert all(len(s) == 1 for s in splits.values())
    by_reply: dict[str, set[str]] = {}
    for r in rows:
        by_reply.setdefault(normalize(r["messages"][-1]["content"]), set()).add(r["split"])
    assert all(len(s) == 1 for s in by_reply.values())
    assert check_leakage(rows) == {s: sum(r["split"] == s for r in rows) for s in ("train", "validation", "test")}


def test_every_split_is_used_and_train_dominates(built):
    result, _, _ = built
    c = result.counts
    assert c["train"] > 5 * c["test"] > 0 and c["validation"] > 0


def _test_and_train(rows):
    test = next(r for r in rows if r["split"] == "test" and r["kind"] == "qa")
    train = next(r for r in rows if r["split"] == "train" and r["kind"] == "qa")
    return test, train


def test_planted_copy_with_the_same_fact_is_caught(built):
    _, rows, _ = built
    test, _ = _test_and_train(rows)
    leak = dict(copy.deepcopy(test), id="ex_planted_copy", split="train")
    with pytest.raises(LeakageError) as err:
        check_leakage(rows + [leak])
    message = str(err.value)
    assert "ex_planted_copy" in message and test["fact_id"] in message and "\n" not in message


def test_planted_paraphrase_under_another_fact_id_is_caught(built):
    _, rows, _ = built
    test, _ = _test_and_train(rows)
    paraphrase = copy.deepcopy(test)
    paraphrase.update(id="ex_planted_paraphrase", split="train", fact_id="f_0000000000000000", kind="paraphrase")
    paraphrase["messages"][-2]["content"] = "Quick one, in your own words: " + test["messages"][-2]["content"]
    with pytest.raises(LeakageError, match="ex_planted_paraphrase.*answer sentence"):
        check_leakage(rows + [paraphrase])


def test_planted_question_with_a_new_reply_is_caught(built):
    _, rows, _ = built
    test, train = _test_and_train(rows)
    moved = copy.deepcopy(train)
    moved["messages"][-2]["content"] = test["messages"][-2]["content"].upper() + "  "
    with pytest.raises(LeakageError, match="shares its question"):
        check_leakage(rows + [dict(moved, id="ex_planted_q")])


def test_raft_context_showing_a_test_answer_is_caught(built):
    _, rows, _ = built
    test = next(r for r in rows if r["split"] == "test" and r["kind"] == "qa" and len(r["messages"][-1]["content"].split()) >= 6)
    raft = copy.deepcopy(next(r for r in rows if r["split"] == "train" and r["kind"] == "raft"))
    user = raft["messages"][-2]
    user["content"] = user["content"].replace("\n\nQuestion:", f"\n\n[9] Leak\n{test['messages'][-1]['content']}\n\nQuestion:")
    with pytest.raises(LeakageError, match="in its context"):
        check_leakage(rows + [dict(raft, id="ex_planted_ctx")])


def test_raft_contexts_of_the_real_build_are_clean(built):
    _, rows, _ = built
    raft = [r for r in rows if r["kind"] == "raft"]
    assert raft and all(r["messages"][-2]["content"].rstrip().split("Question:")[-1].strip() for r in raft)
    with_gold = [r for r in raft if r["answer"] in r["messages"][-2]["content"]]
    assert 0.6 < len(with_gold) / len(raft) < 0.95  # ~80% oracle, the rest distractors only


def test_check_file_reports_a_leak_in_one_line(built, tmp_path):
    _, rows, _ = built
    test, _ = _test_and_train(rows)
    path = tmp_path / "leaky.jsonl"
    planted = dict(copy.deepcopy(test), id="ex_leaky", split="train")
    path.write_text("".join(json.dumps(r) + "\n" for r in rows + [planted]), encoding="utf-8")
    with pytest.raises(LeakageError, match="ex_leaky"):
        check_file(path)
    clean = tmp_path / "clean.jsonl"
    clean.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    assert check_file(clean)["leakage"] == "passed"


def test_assign_splits_is_seeded_stable_and_fills_small_splits():
    groups = Grouper()
    for i in range(40):
        groups.link(f"f_{i:04d}", f"s:sentence {i}")
    groups.link("f_0001", "f_0002")
    a = assign_splits(groups.components(), seed=0, val_frac=0.1, test_frac=0.1)
    assert a == assign_splits(groups.components(), seed=0, val_frac=0.1, test_frac=0.1)
    assert a != assign_splits(groups.components(), seed=1, val_frac=0.1, test_frac=0.1)
    assert a["f_0001"] == a["f_0002"] == a["s:sentence 1"]
    tiny = Grouper()
    for i in range(3):
        tiny.link(f"f_{i}")
    assert set(assign_splits(tiny.components(), seed=0, val_frac=0.1, test_frac=0.1).values()) == {"train", "validation", "test"}
