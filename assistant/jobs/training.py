"""Background training jobs: a detached ``ragft finetune ... --json`` whose state lives under HOME.

    job = start_training(home, data=Path("data/train.jsonl"), preset="quick")
    status(home, job["name"])   # -> {"state": "running", "step": 12, "max_steps": 90, "losses": [...], ...}
    cancel(home, job["name"])   # SIGINT: the run saves a checkpoint; the same job started again resumes

The job is the CLI itself in a new session (``subprocess``, standard library; ``start_new_session``
so closing the browser tab or restarting the app does not stop it). Nothing is kept in the
starting process: ``HOME/jobs/NAME.json`` holds ``{name, pid, command, log, out, data, preset,
started_at}``, and the state is read back each time from three places that the run writes
anyway: whether the pid is alive, the adapter's registry entry (``finetune.registry``), and its
``metrics.jsonl`` (one row per log step: the loss curve). ``NAME.log`` is the run's stderr (the
"step a/b" progress lines, the one-line error on failure); ``NAME.out.json`` its stdout.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any, Sequence

from finetune import registry
from finetune.config import PRESETS, TrainConfig
from ingestion.errors import ConfigError, TrainingError
from ingestion.home import Home

REPO_ROOT = Path(__file__).resolve().parents[1]  # the folder that holds assistant/, finetune/, ...
_STEP_LINE = re.compile(r"step (\d+)/(\d+)")


def jobs_dir(home: Home) -> Path:
    path = home.root / "jobs"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _job_file(home: Home, name: str) -> Path:
    return jobs_dir(home) / f"{registry.validate_name(name)}.json"


def command_for(home: Home, config: TrainConfig, extra_args: Sequence[str] = ()) -> list[str]:
    """The ``ragft finetune`` command line for ``config`` (the CLI is the one place that trains)."""
    cmd = [sys.executable, "-m", "assistant.cli", "--home", str(home.root), "finetune",
           "--data", str(Path(config.data).resolve()), "--name", str(config.name), "--preset", config.preset]
    if config.base != TrainConfig.base:
        cmd += ["--base", str(config.base)]
    return cmd + [*extra_args, "--json"]


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
    current = read_job(home, name)
    if current is not None and _alive(current):
        raise TrainingError(f"a training job for {name} is already running (pid {current['pid']})",
                            fix="wait for it, or cancel it first")
    cmd = command_for(home, config, extra_args)
    folder = jobs_dir(home)
    log, out = folder / f"{name}.log", folder / f"{name}.out.json"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")]))}
    env.pop("RAGFT_PROGRESS", None)  # plain "step a/b" lines in the log, not a tqdm bar
    with open(log, "wb") as err_fh, open(out, "wb") as out_fh:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out_fh, stderr=err_fh, env=env,
                                cwd=str(REPO_ROOT), start_new_session=True)
    job = {"name": name, "pid": proc.pid, "command": cmd, "log": str(log), "out": str(out), "data": str(data.resolve()),
           "preset": preset, "base": config.base, "started_at": registry.now_iso()}
    _write_job(home, job)
    return job


def read_job(home: Home, name: str) -> dict[str, Any] | None:
    path = _job_file(home, name)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, json.JSONDecodeError) as exc:
        raise TrainingError(f"job file {path} is unreadable ({exc})", fix="delete it; the adapter itself is untouched") from exc


def _write_job(home: Home, job: dict[str, Any]) -> None:
    path = _job_file(home, job["name"])
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(job, indent=2), encoding="utf-8")
    os.replace(tmp, path)


def _alive(job: dict[str, Any]) -> bool:
    """Is the job's process still running? Reaps it if it is our own finished child."""
    pid = job.get("pid")
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)  # a finished child of this process is a zombie until reaped
        if done == pid:
            return False
    except ChildProcessError:
        pass  # started by another process (an earlier app run): ask the kernel instead
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    cmdline = Path(f"/proc/{pid}/cmdline")
    if cmdline.is_file():  # the pid may have been reused by an unrelated process
        try:
            return b"finetune" in cmdline.read_bytes()
        except OSError:
            return False
    return True


def _tail(path: Path, lines: int = 40) -> list[str]:
    try:
        with open(path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            fh.seek(max(0, fh.tell() - 16384))
            text = fh.read().decode("utf-8", "replace")
    except OSError:
        return []
    return [l.strip() for l in text.replace("\r", "\n").splitlines() if l.strip()][-lines:]


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
    try:
        entry = registry.read_entry(home, name)
    except TrainingError:
        entry = None
    rows = losses(home, name)
    tail = _tail(Path(job["log"]))
    step = max((r.get("step", 0) for r in rows), default=0)
    max_steps = None
    for line in reversed(tail):
        if m := _STEP_LINE.search(line):
            step, max_steps = max(step, int(m.group(1))), int(m.group(2))
            break
    hyper_steps = ((entry or {}).get("hyperparameters") or {}).get("max_steps")
    if max_steps is None and isinstance(hyper_steps, int) and hyper_steps > 0:
        max_steps = hyper_steps
    result, error = _result(Path(job["out"])), None
    entry_status = (entry or {}).get("status")
    if _alive(job):
        state = "running"
        phase = "merging" if entry_status == "complete" else ("training" if rows else "loading")
    else:
        phase = None
        if result is not None and result.get("status") == "complete":
            state = "complete"
        elif entry_status == "interrupted" or any("interrupted" in l for l in tail[-3:]):
            state = "interrupted"
        else:
            state = "failed"
            errors = [l for l in tail if ": error:" in l]
            error = errors[-1] if errors else (tail[-1] if tail else "the job stopped without output")
    if state == "complete" and result is not None:
        step, max_steps = result.get("global_step", step), result.get("max_steps", max_steps)
    progress = min(1.0, step / max_steps) if max_steps else (1.0 if state == "complete" else 0.0)
    return {"name": name, "state": state, "phase": phase, "pid": job["pid"], "preset": job.get("preset"),
            "started_at": job.get("started_at"), "step": step, "max_steps": max_steps, "progress": progress,
            "losses": rows, "error": error, "result": result, "entry_status": entry_status, "log_tail": tail[-5:],
            "command": job["command"]}


def _result(path: Path) -> dict[str, Any] | None:
    try:
        lines = [l for l in path.read_text(encoding="utf-8").splitlines() if l.strip()]
        return json.loads(lines[-1]) if lines else None
    except (OSError, json.JSONDecodeError):
        return None


def list_jobs(home: Home) -> list[dict[str, Any]]:
    """Every job's status, newest first."""
    out = []
    for path in jobs_dir(home).glob("*.json"):
        if path.name.endswith(".out.json"):
            continue
        try:
            out.append(status(home, path.stem))
        except (TrainingError, ConfigError, KeyError):
            continue
    return sorted(out, key=lambda j: j.get("started_at") or "", reverse=True)


def cancel(home: Home, name: str) -> bool:
    """Ask a running job to stop (SIGINT: it saves a checkpoint first). False if it was not running."""
    job = read_job(home, name)
    if job is None or not _alive(job):
        return False
    try:
        os.killpg(job["pid"], signal.SIGINT)  # its own session: the group is the job and its children
    except ProcessLookupError:
        return False
    return True
