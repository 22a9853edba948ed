"""Background training jobs: a real detached `ragft finetune` on a tiny random Llama, read back from HOME."""

from __future__ import annotations

import time

import pytest

from assistant import jobs
from finetune import registry
from ingestion.errors import ConfigError, TrainingError
from tests.finetune.train_fixtures import write_dataset

TINY = ("--max-steps", "3", "--max-length", "64", "--grad-accum", "1", "--no-merge")


def wait_until_done(home, name, timeout=240.0):
    deadline = time.monotonic() + timeout
    seen_running = False
    while time.monotonic() < deadline:
        state = jobs.status(home, name)
        seen_running |= state["state"] == "running"
        if state["state"] != "running":
            return state, seen_running
        time.sleep(0.5)
    raise AssertionError(f"job {name} still running after {timeout} s: {jobs.status(home, name)['log_tail']}")


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
