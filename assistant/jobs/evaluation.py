"""Background evaluations: a detached ``ragft eval ... --report HOME/evals/RUN_ID/report --json``.

    job = start_eval(home, EvalSettings(routes=("naive", "finetuned"), qa=Path("qa.jsonl")))
    eval_status(home, job["name"])  # {"state": "running", "done": 40, "total": 120, ...} | "complete" | "failed"

An evaluation takes minutes to tens of minutes, so the Evaluate page runs it like training: the
process and its record are ``assistant.jobs.process``'s (``HOME/jobs/eval/RUN_ID.json``), keyed by the
run id, which is known before anything starts (``assistant.evaluation.runner.identify``). Progress
is read from the run's own answers.jsonl, so a run that was stopped and started again shows what it
had already answered; starting the same evaluation again resumes it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from assistant.evaluation.runner import EvalSettings, identify, run_dir
from assistant.jobs import process
from ingestion.errors import ConfigError, TrainingError
from ingestion.home import Home

KIND = "eval"


def command_args(settings: EvalSettings, report: Path) -> list[str]:
    args = ["--routes", ",".join(settings.routes), "--collection", settings.collection, "--max-tokens", str(settings.max_tokens),
            "--report", str(report)]
    if settings.quantization:
        args += ["--quantization", ",".join(settings.quantization)]
    for flag, value in (("--qa", settings.qa), ("--fresh", settings.fresh), ("--model", settings.model),
                        ("--adapter", settings.adapter), ("--judge", settings.judge), ("-k", settings.k)):
        if value is not None:
            args += [flag, str(value)]
    return args


def start_eval(home: Home, settings: EvalSettings) -> dict[str, Any]:
    """Start (or resume) the evaluation in the background; its job record (name = run id).

    The inputs are read and checked here first, so a malformed file is refused before anything starts."""
    run_id, _, qa, fresh = identify(home, settings)
    report = run_dir(home, run_id) / "report"
    cmd = process.cli_command(home, KIND, command_args(settings, report))
    if settings.profile:
        cmd[3:3] = ["--profile", settings.profile]  # a global flag: before the subcommand
    return process.spawn(home, KIND, run_id, cmd, total=len(settings.routes) * (len(qa) + len(fresh)),
                         routes=list(settings.routes), report=str(report))


def eval_status(home: Home, name: str) -> dict[str, Any]:
    """``{kind, name, state, done, total, progress, report, error, started_at, log_tail}``."""
    job = process.read_job(home, name, KIND)
    if job is None:
        raise TrainingError(f"no evaluation job named {name!r}", fix="start one on the Evaluate page or with `ragft eval`")
    running = process.alive(job)
    tail = process.tail(Path(job["log"]))
    answers = run_dir(home, name) / "answers.jsonl"
    done = sum(1 for line in answers.read_text(encoding="utf-8").splitlines() if line.strip()) if answers.is_file() else 0
    result = process.result(Path(job["out"]))
    state, error = ("running", None) if running else ("complete", None) if result and result.get("run_id") else \
        ("failed", process.one_line_error(tail))
    total = int(job.get("total") or 0)
    return {"kind": KIND, "name": name, "state": state, "done": done, "total": total,
            "progress": min(1.0, done / total) if total else 0.0, "routes": job.get("routes"), "report": job.get("report"),
            "error": error, "started_at": job.get("started_at"), "log_tail": tail[-5:], "pid": job["pid"]}


def list_evals(home: Home) -> list[dict[str, Any]]:
    """Every evaluation job's status, newest first."""
    out = []
    for name in process.job_names(home, KIND):
        try:
            out.append(eval_status(home, name))
        except (TrainingError, ConfigError, KeyError):
            continue
    return sorted(out, key=lambda j: j.get("started_at") or "", reverse=True)
