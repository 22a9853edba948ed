"""Background jobs: a real detached `ragft finetune` / `ragft export` on a tiny random Llama, read back from HOME."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from assistant import jobs
from finetune import registry
from finetune.base_model import bundled_gguf
from finetune.config import TrainConfig
from finetune.train import finetune
from ingestion.errors import ConfigError, TrainingError
from tests.finetune.train_fixtures import write_dataset

TINY = ("--max-steps", "3", "--max-length", "64", "--grad-accum", "1", "--no-merge")


def wait_until_done(home, name, timeout=240.0, read=jobs.status):
    deadline = time.monotonic() + timeout
    seen_running = False
    while time.monotonic() < deadline:
        state = read(home, name)
        seen_running |= state["state"] == "running"
        if state["state"] != "running":
            return state, seen_running
        time.sleep(0.5)
    raise AssertionError(f"job {name} still running after {timeout} s: {read(home, name)['log_tail']}")


def test_a_job_runs_detached_to_completion_and_is_read_back(home, tmp_path, tiny_llama_dir):
    data = write_dataset(tmp_path / "data" / "five.jsonl")
    job = jobs.start_training(home, data=data, base=str(tiny_llama_dir), extra_args=TINY)
    assert job["name"] == "five" and job["command"][-1] == "--json" and "--base" in job["command"]
    assert jobs.read_job(home, "five")["pid"] == job["pid"]  # the state lives under HOME, not in this process
    with pytest.raises(TrainingError, match="already running"):
        jobs.start_training(home, data=data, base=str(tiny_llama_dir), extra_args=TINY)

    state, seen_running = wait_until_done(home, "five")
    assert seen_running
    assert state["state"] == "complete", state["log_tail"]
    assert state["step"] == state["max_steps"] == 3 and state["progress"] == 1.0
    assert state["result"]["status"] == "complete" and state["entry_status"] == "complete"
    assert [r["step"] for r in state["losses"] if "loss" in r] == [1, 2, 3]  # the loss curve, one row a step
    assert registry.get_adapter(home, "five")["adapter_dir"]
    assert [j["name"] for j in jobs.list_jobs(home)] == ["five"]
    assert jobs.cancel(home, "five") is False  # nothing left to stop


def test_cancel_interrupts_a_running_job(home, tmp_path, tiny_llama_dir):
    data = write_dataset(tmp_path / "data" / "slow.jsonl")
    jobs.start_training(home, data=data, base=str(tiny_llama_dir),
                        extra_args=("--max-steps", "2000", "--max-length", "64", "--grad-accum", "1", "--no-merge"))
    deadline = time.monotonic() + 180
    while jobs.status(home, "slow")["phase"] != "training":  # past the imports: Ctrl-C now saves a checkpoint
        assert time.monotonic() < deadline and jobs.status(home, "slow")["state"] == "running"
        time.sleep(0.5)
    assert jobs.cancel(home, "slow") is True
    state, _ = wait_until_done(home, "slow", timeout=120)
    assert state["state"] == "interrupted" and 0 < state["step"] < 2000
    assert registry.read_entry(home, "slow")["status"] == "interrupted"


def test_start_refuses_bad_settings_before_spawning(home, tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        jobs.start_training(home, data=tmp_path / "missing.jsonl")
    data = write_dataset(tmp_path / "five.jsonl")
    with pytest.raises(ConfigError, match="preset"):
        jobs.start_training(home, data=data, preset="huge")
    with pytest.raises(ConfigError, match="not a valid adapter name"):
        jobs.start_training(home, data=data, name="../escape")
    assert jobs.list_jobs(home) == []
    with pytest.raises(TrainingError, match="no training job"):
        jobs.status(home, "five")


def test_a_job_that_fails_reports_its_one_line_error(home, tmp_path):
    data = write_dataset(tmp_path / "five.jsonl")
    jobs.start_training(home, data=data, base=str(tmp_path / "no-such-model"), extra_args=("--no-merge",))
    state, _ = wait_until_done(home, "five", timeout=120)
    assert state["state"] == "failed" and "ragft finetune: error:" in state["error"]


def test_an_export_job_runs_detached_and_registers_the_gguf(home, tmp_path, tiny_llama_dir):
    data = write_dataset(tmp_path / "data" / "five.jsonl")
    # Trained in-process (the job above covers detached training); a high learning rate as in
    # tests/finetune/test_merge_export.py, whose q8_0 export of this model passes verification.
    finetune(TrainConfig.from_preset("quick", data=data, base=str(tiny_llama_dir), max_steps=4, grad_accum=1, max_length=64,
                                     learning_rate=0.05, lora_dropout=0.0, early_stopping_patience=0), home)
    with pytest.raises(ConfigError, match="--quant"):
        jobs.start_export(home, "five", quant="q3")
    with pytest.raises(TrainingError, match="no adapter named 'nope'"):
        jobs.start_export(home, "nope")

    # A local base has no known GGUF tokenizer: the job fails with the CLI's one-line error.
    jobs.start_export(home, "five", quant="q8_0")
    state, _ = wait_until_done(home, "five", timeout=120, read=jobs.export_status)
    assert state["state"] == "failed" and state["path"] is None
    assert state["error"].startswith("ragft export: error:") and "--tokenizer-gguf" in state["error"]

    job = jobs.start_export(home, "five", quant="q8_0", extra_args=("--tokenizer-gguf", str(bundled_gguf())))
    assert job["kind"] == "export" and jobs.read_job(home, "five", kind="export")["pid"] == job["pid"]
    assert jobs.read_job(home, "five") is None  # an export is not a training job of the same adapter
    with pytest.raises(TrainingError, match="already running"):
        jobs.start_export(home, "five", quant="q4_k_m")
    state, seen_running = wait_until_done(home, "five", timeout=300, read=jobs.export_status)
    assert seen_running
    assert state["state"] == "complete" and state["error"] is None, state["log_tail"]
    assert state["path"].endswith("five-q8_0.gguf") and Path(state["path"]).is_file()
    assert state["result"]["verification"]["passed"] is True
    exports = registry.get_adapter(home, "five")["exports"]
    assert [(e["quant"], e["path"], e["exists"]) for e in exports] == [("q8_0", state["path"], True)]
    assert [j["name"] for j in jobs.list_exports(home)] == ["five"] and jobs.list_jobs(home) == []
