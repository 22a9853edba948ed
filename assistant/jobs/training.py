"""Background training jobs: a detached ``ragft finetune ... --json`` whose state lives under HOME.

    job = start_training(home, data=Path("data/train.jsonl"), preset="quick")
    status(home, job["name"])   # -> {"state": "running", "step": 12, "max_steps": 90, "losses": [...], ...}
    cancel(home, job["name"])   # SIGINT: the run saves a checkpoint; the same job started again resumes

The process and its record are ``assistant.jobs.process``'s (``HOME/jobs/NAME.json``, plus the
dataset and preset). The state is read back each time from three places that the run writes
anyway: whether the pid is alive, the adapter's registry entry (``finetune.registry``), and its
``metrics.jsonl`` (one row per log step: the loss curve). The log holds the "step a/b" lines.
"""

from __future__ import annotations

import json
import os
import re
import signal
from pathlib import Path
from typing import Any, Sequence

from assistant.jobs import process
from assistant.jobs.process import alive, read_job
from finetune import registry
from finetune.config import PRESETS, TrainConfig
from ingestion.errors import ConfigError, TrainingError
from ingestion.home import Home

_STEP_LINE = re.compile(r"step (\d+)/(\d+)")


def command_for(home: Home, config: TrainConfig, extra_args: Sequence[str] = ()) -> list[str]:
    """The ``ragft finetune`` command line for ``config`` (the CLI is the one place that trains)."""
    args = ["--data", str(Path(config.data).resolve()), "--name", str(config.name), "--preset", config.preset]
    if config.base != TrainConfig.base:
        args += ["--base", str(config.base)]
    return process.cli_command(home, "finetune", [*args, *extra_args])


def start_training(home: Home, *, data: Path, name: str | None = None, preset: str = "quick", base: str | None = None,
                   extra_args: Sequence[str] = ()) -> dict[str, Any]:
    """Start a detached training run; returns the job record. Refuses a second live run of ``name``."""
    if preset not in PRESETS:
        raise ConfigError(f"preset {preset!r} is unknown", fix=f"use one of {', '.join(PRESETS)}")
    data = Path(data).expanduser()
    if not data.is_file():
        raise ConfigError(f"--data {data} does not exist", fix="build a dataset first (`ragft dataset build`)")
    config = TrainConfig.from_preset(preset, data=data, name=name, base=base)  # validates before anything starts
    name = str(config.name)
    return process.spawn(home, "finetune", name, command_for(home, config, extra_args), data=str(data.resolve()),
                         preset=preset, base=config.base)


def losses(home: Home, name: str) -> list[dict[str, Any]]:
    """The adapter's metrics.jsonl rows (``{"step", "epoch", "loss" | "eval_loss", ...}``); a half-written last line is skipped."""
    path = registry.adapter_dir(home, name) / "metrics.jsonl"
    rows = []
    try:
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    except OSError:
        return []
    return rows


def status(home: Home, name: str) -> dict[str, Any]:
    """``{name, state, phase, pid, step, max_steps, progress, losses, error, result, entry_status, log_tail}``.

    state: running | complete | interrupted | failed. While running, phase says what it is doing:
    loading (no metrics row yet), training, merging (the adapter is saved, the merge runs).
    """
    job = read_job(home, name)
    if job is None:
        raise TrainingError(f"no training job named {name!r}", fix="start one with start_training / the Fine-tune page")
    running = alive(job)  # first: a run that ends after this has still written its files when read below
    try:
        entry = registry.read_entry(home, name)
    except TrainingError:
        entry = None
    rows = losses(home, name)
    tail = process.tail(Path(job["log"]))
    step = max((r.get("step", 0) for r in rows), default=0)
    max_steps = None
    for line in reversed(tail):
        if m := _STEP_LINE.search(line):
            step, max_steps = max(step, int(m.group(1))), int(m.group(2))
            break
    hyper_steps = ((entry or {}).get("hyperparameters") or {}).get("max_steps")
    if max_steps is None and isinstance(hyper_steps, int) and hyper_steps > 0:
        max_steps = hyper_steps
    result, error = process.result(Path(job["out"])), None
    entry_status = (entry or {}).get("status")
    if running:
        state = "running"
        phase = "merging" if entry_status == "complete" else ("training" if rows else "loading")
    else:
        phase = None
        if result is not None and result.get("status") == "complete":
            state = "complete"
        elif entry_status == "interrupted" or any("interrupted" in l for l in tail[-3:]):
            state = "interrupted"
        else:
            state, error = "failed", process.one_line_error(tail)
    if state == "complete" and result is not None:
        step, max_steps = result.get("global_step", step), result.get("max_steps", max_steps)
    progress = min(1.0, step / max_steps) if max_steps else (1.0 if state == "complete" else 0.0)
    return {"kind": "finetune", "name": name, "state": state, "phase": phase, "pid": job["pid"], "preset": job.get("preset"),
            "started_at": job.get("started_at"), "step": step, "max_steps": max_steps, "progress": progress,
            "losses": rows, "error": error, "result": result, "entry_status": entry_status, "log_tail": tail[-5:],
            "command": job["command"]}


def list_jobs(home: Home) -> list[dict[str, Any]]:
    """Every job's status, newest first."""
    out = []
    for name in process.job_names(home, "finetune"):
        try:
            out.append(status(home, name))
        except (TrainingError, ConfigError, KeyError):
            continue
    return sorted(out, key=lambda j: j.get("started_at") or "", reverse=True)


def cancel(home: Home, name: str) -> bool:
    """Ask a running job to stop (SIGINT: it saves a checkpoint first). False if it was not running."""
    job = read_job(home, name)
    if job is None or not alive(job):
        return False
    try:
        os.killpg(job["pid"], signal.SIGINT)  # its own session: the group is the job and its children
    except ProcessLookupError:
        return False
    return True
