"""`ragft finetune / adapters / export`: JSON contracts, exit codes, Ctrl-C and resume (tiny Llama)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import pytest

from finetune.base_model import bundled_gguf
from tests.assistant.cli.conftest import REPO, json_of, run_ragft
from tests.finetune.train_fixtures import write_dataset

TINY = ("--max-length", "64", "--grad-accum", "1")


@pytest.fixture
def data(tmp_path):
    return write_dataset(tmp_path / "data" / "five.jsonl")


def test_finetune_adapters_export_round_trip(ragft, data, tiny_llama_dir):
    proc = ragft("finetune", "--data", str(data), "--base", str(tiny_llama_dir), "--max-steps", "3", *TINY, "--json")
    assert proc.returncode == 0, proc.stderr
    out = json_of(proc)
    assert out["name"] == "five" and out["status"] == "complete" and out["global_step"] == 3
    assert out["merged_dir"].endswith("five/merged") and out["train_loss"] > 0 and out["tokens_per_s"] > 0
    assert {"best_eval_loss", "early_stopped", "peak_rss_mb", "metrics_path", "examples"} <= set(out)

    listed = json_of(ragft("adapters", "--json"))["adapters"]
    assert [a["name"] for a in listed] == ["five"]
    row = listed[0]
    assert row["stale"] is False and row["status"] == "complete" and row["size_bytes"] > 0
    assert row["dataset"]["hash"] and row["corpus_snapshot"] and row["hyperparameters"]["max_steps"] == 3
    assert row["base"]["path"] == str(tiny_llama_dir) and row["merged_dir"] == out["merged_dir"]

    # Verification is covered in tests/finetune/test_merge_export.py; here the contract only.
    proc = ragft("export", "five", "--format", "gguf", "--quant", "f32", "--tokenizer-gguf", str(bundled_gguf()), "--no-verify", "--json")
    assert proc.returncode == 0, proc.stderr
    exported = json_of(proc)
    assert exported["path"].endswith("five-f32.gguf") and exported["verification"] is None
    assert json_of(ragft("adapters", "--json"))["adapters"][0]["exports"][0]["path"] == exported["path"]

    again = ragft("finetune", "--data", str(data), "--base", str(tiny_llama_dir), "--max-steps", "3", *TINY, "--json")
    assert again.returncode == 1 and "already exists" in again.stderr and again.stdout == ""


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("finetune", "--data", "{data}", "--lora-r", "0"), 2, "--lora-r must be a positive integer"),
        (("finetune", "--data", "{data}", "--preset", "huge"), 2, "invalid choice"),
        (("finetune", "--data", "{missing}"), 1, "does not exist"),
        (("finetune",), 2, "--data"),
        (("export", "nope", "--json"), 1, "no adapter named 'nope'"),
        (("export", "../x"), 2, "not a valid adapter name"),
    ],
)
def test_usage_and_failure_exit_codes(ragft, data, tmp_path, args, code, message):
    args = [a.format(data=data, missing=tmp_path / "missing.jsonl") for a in args]
    proc = ragft(*args)
    assert proc.returncode == code, proc.stderr
    assert message in proc.stderr and proc.stdout == ""
    if code == 1:
        assert len(proc.stderr.strip().splitlines()) == 1  # one line that says what to do


def test_help_shows_the_config_docstrings(ragft):
    proc = ragft("finetune", "--help")
    assert proc.returncode == 0
    text = " ".join(proc.stdout.split())  # argparse wraps help lines at the terminal width
    assert "QLoRA: load the base in 4-bit NF4" in text and "(quick: 1.0, full: 8.0)" in text
    assert "about 30% slower" in text and "option_strings" not in text  # a literal % in a docstring stays literal


def test_ctrl_c_saves_a_checkpoint_and_rerunning_resumes(home, data, tiny_llama_dir):
    import os

    args = ["finetune", "--data", str(data), "--base", str(tiny_llama_dir), "--max-steps", "6", "--save-steps", "100",
            "--no-merge", *TINY, "--json"]
    env = {**os.environ, "RAGFT_HOME": str(home.root), "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-m", "assistant.cli", *args], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    metrics = home.adapters_dir / "five" / "metrics.jsonl"
    deadline = time.monotonic() + 240
    while not (metrics.is_file() and metrics.read_text().strip()) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=240)
    assert proc.returncode == 130, stderr
    assert "saving a checkpoint" in stderr and "re-run the same command to resume" in stderr and stdout == ""
    entry = json.loads((home.adapters_dir / "five" / "ragft-adapter.json").read_text())
    stopped = max(json.loads(l)["step"] for l in metrics.read_text().splitlines())
    assert entry["status"] == "interrupted" and 1 <= stopped < 6

    resumed = run_ragft(*args, home=home.root)
    assert resumed.returncode == 0, resumed.stderr
    out = json_of(resumed)
    assert out["resumed_from_step"] == stopped and out["global_step"] == 6 and out["merged_dir"] is None
    assert "resuming five from checkpoint-" in resumed.stderr


def test_a_profile_sets_the_base_unless_base_is_given(monkeypatch, tmp_path):
    from assistant.cli import build_parser
    from assistant.cli.finetune_cmd import config_from_args

    monkeypatch.delenv("RAGFT_PROFILE", raising=False)
    parse = lambda *argv: config_from_args(build_parser().parse_args([*argv, "finetune", "--data", str(tmp_path / "d.jsonl")]))  # noqa: E731
    assert parse().base == "smollm2-135m"
    assert parse("--profile", "small").base == "qwen2.5-1.5b"
    monkeypatch.setenv("RAGFT_PROFILE", "small")
    assert parse().base == "qwen2.5-1.5b"
    assert config_from_args(build_parser().parse_args(["finetune", "--data", "d.jsonl", "--base", "org/other"])).base == "org/other"

