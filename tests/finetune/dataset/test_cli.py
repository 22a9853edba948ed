"""`ragft dataset build|check` through the real console entry point (subprocesses)."""

from __future__ import annotations

import copy
import json

from tests.assistant.cli.conftest import json_of, run_ragft


def test_build_prints_the_json_contract_and_check_agrees(tmp_path, home, small_corpus):
    out = tmp_path / "out" / "data.jsonl"
    proc = run_ragft("dataset", "build", str(small_corpus), "--out", str(out), "--raft", "--seed", "3", "--json", home=home.root)
    assert proc.returncode == 0, proc.stderr
    payload = json_of(proc)
    assert {"out", "card", "counts", "facts", "leakage"} <= payload.keys()
    assert payload["out"] == str(out) and payload["card"] == str(tmp_path / "out" / "data.card.json")
    assert payload["leakage"] == "passed" and payload["facts"] > 30 and set(payload["counts"]) == {"train", "validation", "test"}
    assert sum(payload["counts"].values()) == len(out.read_text().splitlines())
    card = json.loads((tmp_path / "out" / "data.card.json").read_text())
    assert card["seed"] == 3 and card["counts"] == payload["counts"]

    check = run_ragft("dataset", "check", str(out), "--json", home=home.root)
    assert check.returncode == 0, check.stderr
    assert json_of(check)["counts"] == payload["counts"]

    rows = [json.loads(line) for line in out.read_text().splitlines()]
    test_row = next(r for r in rows if r["split"] == "test")
    leaky = tmp_path / "leaky.jsonl"
    planted = dict(copy.deepcopy(test_row), id="ex_planted", split="train")
    leaky.write_text(out.read_text() + json.dumps(planted) + "\n")
    bad = run_ragft("dataset", "check", str(leaky), home=home.root)
    assert bad.returncode == 1 and bad.stdout == ""
    lines = bad.stderr.strip().splitlines()
    assert len(lines) == 1 and "ex_planted" in lines[0] and test_row["fact_id"] in lines[0]


def test_usage_errors_exit_2(tmp_path, home, small_corpus):
    out = str(tmp_path / "d.jsonl")
    for args in (["--paraphrases", "lots"], ["--val-frac", "1.5"], ["--generator", "gpt"], ["--generator", "llm"],
                 ["--model", "smollm2-135m"]):
        proc = run_ragft("dataset", "build", str(small_corpus), "--out", out, *args, home=home.root)
        assert proc.returncode == 2, (args, proc.stderr)
        assert proc.stderr.strip() and proc.stdout == ""
    assert run_ragft("dataset", "build", str(small_corpus), home=home.root).returncode == 2  # --out is required


def test_unreadable_inputs_are_listed_or_fail_in_one_line(tmp_path, home, small_corpus):
    (small_corpus / "empty.txt").write_bytes(b"")
    out = tmp_path / "d.jsonl"
    proc = run_ragft("dataset", "build", str(small_corpus), str(tmp_path / "nope.md"), "--out", str(out), "--json", home=home.root)
    assert proc.returncode == 0, proc.stderr
    failed = {f["path"].rsplit("/", 1)[1]: f["error"] for f in json_of(proc)["failed"]}
    assert set(failed) == {"empty.txt", "nope.md"} and "does not exist" in failed["nope.md"]

    proc = run_ragft("dataset", "build", str(tmp_path / "nope.md"), "--out", str(tmp_path / "x.jsonl"), home=home.root)
    assert proc.returncode == 1 and len(proc.stderr.strip().splitlines()) == 1
    assert "nope.md does not exist" in proc.stderr and not (tmp_path / "x.jsonl").exists()

    missing = run_ragft("dataset", "check", str(tmp_path / "none.jsonl"), home=home.root)
    assert missing.returncode == 1 and "does not exist" in missing.stderr
