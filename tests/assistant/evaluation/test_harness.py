"""The whole ``ragft eval`` harness on a one-document corpus and a tiny random-weight model.

The model's answers are noise; what is asserted is the harness: every route answers every
question once, the JSON has the documented shape with rates in 0..1, the pairs and the router
section are there, a run killed mid-way resumes to the answers an uninterrupted run gives, and the
report's files are written and self-contained.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from itertools import combinations

import pytest

from assistant.evaluation import EvalSettings, evaluate
from assistant.llm.registry import clear_cache
from finetune.config import TrainConfig
from finetune.train import finetune
from ingestion.home import Home
from tests.assistant.cli.conftest import REPO, json_of, run_ragft
from tests.finetune.train_fixtures import write_dataset

ROUTES = ("base", "naive", "agentic", "finetuned", "hybrid", "auto")
DOC = ("# Marrowfield\n\nMarrowfield Instruments was founded in 2011 in Rotterdam.\n\n"
       "It had 612 employees at the start of 2025.\n\nThe Team plan costs EUR 59 per seat per month.\n")
QA = [
    {"id": "founded", "question": "In which year was Marrowfield founded?", "answers": ["2011"], "source": "docs/marrowfield.md"},
    {"id": "staff", "question": "How many employees did Marrowfield have?", "answers": ["612"], "source": "marrowfield.md"},
    {"id": "moon", "question": "What is the name of Marrowfield's moon base?", "answers": []},
]
FRESH = [
    {"id": "price", "question": "What does the Team plan cost?", "old_answers": ["EUR 49"], "new_answers": ["EUR 59"],
     "source": "marrowfield.md"},
    {"id": "oncall", "question": "How much is the on-call allowance?", "old_answers": ["EUR 350"], "new_answers": [],
     "source": "oncall.md", "deleted": True},
]
QUANT = ("fp32", "nf4", "q8_0")  # q8_0: not exported, so reported with the command that exports it
TOTAL = len(ROUTES) * (len(QA) + len(FRESH)) + 2 * len(QA)
RATES = ("correct", "em", "f1", "contains", "faithfulness", "abstain_answerable", "citation_acc")


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


@pytest.fixture(scope="module")
def eval_home(tmp_path_factory, tiny_llama_dir, embedder):
    import hashlib

    from rag.indexing import ingest_paths

    home = Home.resolve(tmp_path_factory.mktemp("eval-home"))
    doc = home.root / "docs" / "marrowfield.md"
    doc.parent.mkdir(parents=True)
    doc.write_text(DOC)
    assert ingest_paths(home, [str(doc)], embedder=embedder).added == 1
    data = write_dataset(home.root / "data" / "five.jsonl", source=str(doc), source_hash=hashlib.sha256(doc.read_bytes()).hexdigest())
    cfg = TrainConfig.from_preset("quick", data=data, name="tiny", base=str(tiny_llama_dir), max_steps=2, grad_accum=1,
                                  max_length=64, early_stopping_patience=0, save_steps=100)
    assert finetune(cfg, home).status == "complete"
    qa = write_jsonl(home.root / "qa.jsonl", QA)
    fresh = write_jsonl(home.root / "fresh.jsonl", FRESH)
    settings = EvalSettings(routes=ROUTES, qa=qa, fresh=fresh, model=str(tiny_llama_dir), max_tokens=6, quantization=QUANT)
    summary = evaluate(home, settings, report=home.root / "report")
    yield home, settings, summary
    clear_cache()


def test_every_route_answers_every_question_once_in_the_documented_shape(eval_home):
    home, settings, summary = eval_home
    answers = [json.loads(line) for line in (home.root / "evals" / summary["run_id"] / "answers.jsonl").read_text().splitlines()]
    keys = [(a["route"], a["set"], a["id"]) for a in answers]
    assert len(keys) == len(set(keys)) == TOTAL
    assert list(summary["routes"]) == list(ROUTES)
    fp32, nf4, q8 = summary["quantization"]["variants"]
    assert summary["quantization"]["adapter"] == "tiny"
    assert (fp32["variant"], fp32["n"], fp32["model"], nf4["n"], nf4["model"]) == ("fp32", len(QA), "tiny-peft-fp32", len(QA), "tiny-peft-nf4")
    assert q8["n"] == 0 and "run `ragft export tiny --format gguf --quant q8_0`" in q8["error"]
    for route, f in summary["routes"].items():
        assert f["n"] == len(QA)
        for key in (*RATES, "abstain_unanswerable", "latency_p50_s", "latency_p95_s"):
            assert key in f, (route, key)
        for key in RATES:
            assert f[key] is None or 0.0 <= f[key] <= 1.0, (route, key, f[key])
        assert f["abstain_unanswerable"] in (0.0, 1.0)  # one unanswerable question
        assert f["latency_p50_s"] <= f["latency_p95_s"]
        low, high = f["correct_ci"]
        assert low <= f["correct"] <= high
    assert summary["routes"]["base"]["citation_acc"] is None  # no retrieval, nothing cited
    assert summary["routes"]["naive"]["faithfulness"] is not None or summary["routes"]["naive"]["abstain_answerable"] == 1.0
    for route, f in summary["freshness"].items():
        assert f["n"] == 1 and f["new"] + f["stale"] + f["none"] == pytest.approx(1.0)
    assert set(summary["deletion"]) == set(ROUTES) and all(d["n"] == 1 for d in summary["deletion"].values())
    # every pair of routes, on both metrics; the interval holds its difference
    assert {(p["a"], p["b"]) for p in summary["pairs"]} == set(combinations(ROUTES, 2))
    for p in summary["pairs"]:
        assert p["ci_low"] <= p["diff"] <= p["ci_high"] and 0.0 <= p["p"] <= 1.0
    router = summary["router"]
    assert router["n"] == len(QA) and router["fixed_routes"] == list(ROUTES[:-1])
    assert router["regret"] == pytest.approx(router["oracle"] - router["auto"], abs=1e-3)
    assert sum(sum(row.values()) for row in router["confusion"].values()) == len(QA)
    assert summary["adapters"]["finetuned"] == ["tiny"]
    assert 0.0 <= summary["harness_overhead"] < 1.0


def test_pair_figures_are_the_hand_computed_difference_of_the_per_question_outcomes(eval_home):
    home, _, summary = eval_home
    answers = [json.loads(line) for line in (home.root / "evals" / summary["run_id"] / "answers.jsonl").read_text().splitlines()]
    correct = {(a["route"], a["id"]): a["correct"] for a in answers if a["set"] == "qa"}
    pair = next(p for p in summary["pairs"] if (p["a"], p["b"], p["metric"]) == ("base", "naive", "correct"))
    by_hand = sum(correct[("base", q["id"])] - correct[("naive", q["id"])] for q in QA) / len(QA)
    assert pair["n"] == len(QA) and pair["diff"] == pytest.approx(by_hand, abs=1e-4)


def test_the_report_files_are_written_and_the_html_stands_alone(eval_home):
    home, _, summary = eval_home
    report = home.root / "report"
    for name in ("report.md", "report.html", "results.csv", "results.jsonl", "summary.json", "quality.png",
                 "freshness.png", "router.png"):
        assert (report / name).is_file() and (report / name).stat().st_size > 0, name
    html = (report / "report.html").read_text()
    assert html.count("src='data:image/png;base64,") >= 3 and "src='quality.png'" not in html
    md = (report / "report.md").read_text()
    assert summary["run_id"] in md and "| naive |" in md and "![quality](quality.png)" in md
    assert len((report / "results.csv").read_text().splitlines()) == 1 + TOTAL
    assert "## Quantization" in md and "ragft export tiny" in md


def test_the_same_command_resumes_and_a_killed_run_finishes_with_the_uninterrupted_answers(eval_home, tiny_llama_dir):
    home, settings, summary = eval_home
    first = {(a["route"], a["set"], a["id"]): a["answer"]
             for a in map(json.loads, (home.root / "evals" / summary["run_id"] / "answers.jsonl").read_text().splitlines())}
    args = ["eval", "--qa", str(settings.qa), "--fresh", str(settings.fresh), "--routes", ",".join(ROUTES),
            "--model", str(tiny_llama_dir), "--max-tokens", "6", "--quantization", ",".join(QUANT), "--json"]
    env = {**os.environ, "RAGFT_HOME": str(home.root), "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(REPO)}
    answers = home.root / "evals" / summary["run_id"] / "answers.jsonl"
    answers.rename(answers.with_suffix(".before"))  # so that every line counted below is the new run's
    proc = subprocess.Popen([sys.executable, "-m", "assistant.cli", *args, "--restart"], env=env, cwd=REPO,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and proc.poll() is None:
        if answers.is_file() and len(answers.read_text().splitlines()) >= 4:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done = len(answers.read_text().splitlines())
    total = TOTAL
    assert 4 <= done < total, done  # killed mid-run
    with answers.open("a") as fh:  # a kill inside a write leaves a torn line; the next run cuts it off
        fh.write('{"route": "base", "set": "qa", "id": "tor')
    resumed = json_of(run_ragft(*args, home=home.root, check=True, timeout=600))
    assert resumed["run_id"] == summary["run_id"]
    rows = [json.loads(line) for line in answers.read_text().splitlines()]
    keys = [(a["route"], a["set"], a["id"]) for a in rows]
    assert len(keys) == len(set(keys)) == total
    assert {k: a["answer"] for k, a in zip(keys, rows)} == first  # deterministic: same answers as the uninterrupted run
    assert resumed["routes"]["naive"]["correct"] == summary["routes"]["naive"]["correct"]


def test_list_and_compare_runs(eval_home):
    home, _, summary = eval_home
    listed = json_of(run_ragft("eval", "--list", "--json", home=home.root, check=True))
    assert summary["run_id"] in [r["run_id"] for r in listed["runs"]]
    same = json_of(run_ragft("eval", "--compare", summary["run_id"][:6], summary["run_id"], "--json", home=home.root, check=True))
    assert same["compare"]["settings_changed"] == {}
    assert all(v["diff"] in (0, None) for m in same["compare"]["routes"].values() for v in m.values())
    bad = run_ragft("eval", "--compare", "zzzz", summary["run_id"], home=home.root)
    assert bad.returncode == 2 and "no evaluation run 'zzzz'" in bad.stderr and "ragft eval --list" in bad.stderr


def test_limit_answers_the_first_rows_as_a_run_of_its_own(eval_home, tiny_llama_dir):
    home, _, summary = eval_home
    out = json_of(run_ragft("eval", "--qa", str(home.root / "qa.jsonl"), "--fresh", str(home.root / "fresh.jsonl"),
                            "--routes", "naive", "--model", str(tiny_llama_dir), "--max-tokens", "6", "--limit", "1",
                            "--json", home=home.root, check=True))
    assert out["run_id"] != summary["run_id"] and out["routes"]["naive"]["n"] == 1
    rows = [json.loads(line) for line in (home.root / "evals" / out["run_id"] / "answers.jsonl").read_text().splitlines()]
    assert [(r["set"], r["id"]) for r in rows] == [("qa", "founded"), ("fresh", "price")]
    bad = run_ragft("eval", "--qa", str(home.root / "qa.jsonl"), "--limit", "0", home=home.root)
    assert bad.returncode == 2 and "--limit must be a positive integer" in bad.stderr
