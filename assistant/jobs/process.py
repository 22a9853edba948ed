"""What every background job shares: a detached ``ragft KIND ... --json`` and its record under HOME.

A job is the CLI itself in a new session (``subprocess``, standard library; ``start_new_session``
so closing the browser tab or restarting the app does not stop it). Nothing is kept in the
starting process: the record ``{kind, name, pid, command, log, out, started_at, ...}`` is a JSON
file under the kind's folder, ``NAME.log`` next to it is the run's stderr (progress lines, the
one-line error on failure) and ``NAME.out.json`` its stdout (the ``--json`` payload). Each kind
reads its state back from these files plus whatever the run writes anyway (the adapter registry).

Layout: training jobs in ``HOME/jobs/NAME.json`` (where they have always been), export jobs in
``HOME/jobs/export/NAME.json``; both are keyed by the adapter name, so an adapter can have one of
each at a time. Evaluations in ``HOME/jobs/eval/RUN_ID.json``, keyed by their run id.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Sequence

from finetune import registry
from ingestion.errors import TrainingError
from ingestion.files import write_atomic
from ingestion.home import Home

REPO_ROOT = Path(__file__).resolve().parents[2]  # the folder that holds assistant/, finetune/, ...
KINDS = ("finetune", "export", "eval")  # the CLI subcommand each kind runs


def jobs_dir(home: Home, kind: str = "finetune") -> Path:
    if kind not in KINDS:
        raise ValueError(f"unknown job kind {kind!r}")
    path = home.root / "jobs" / ("" if kind == "finetune" else kind)
    path.mkdir(parents=True, exist_ok=True)
    return path


def job_file(home: Home, name: str, kind: str = "finetune") -> Path:
    return jobs_dir(home, kind) / f"{registry.validate_name(name)}.json"


def cli_command(home: Home, kind: str, args: Sequence[str]) -> list[str]:
    """``python -m assistant.cli --home HOME KIND ARGS... --json``: the CLI is the one place that does the work."""
    return [sys.executable, "-m", "assistant.cli", "--home", str(home.root), kind, *args, "--json"]


def spawn(home: Home, kind: str, name: str, cmd: list[str], **fields: Any) -> dict[str, Any]:
    """Start ``cmd`` detached, write and return its record (``fields`` are kept in it as they are)."""
    current = read_job(home, name, kind)
    if current is not None and alive(current):
        raise TrainingError(f"a {kind} job for {name} is already running (pid {current['pid']})",
                            fix="wait for it, or cancel it first")
    folder = jobs_dir(home, kind)
    log, out = folder / f"{name}.log", folder / f"{name}.out.json"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")]))}
    env.pop("RAGFT_PROGRESS", None)  # plain progress lines in the log, not a tqdm bar
    with open(log, "wb") as err_fh, open(out, "wb") as out_fh:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out_fh, stderr=err_fh, env=env,
                                cwd=str(REPO_ROOT), start_new_session=True)
    job = {"kind": kind, "name": name, "pid": proc.pid, "command": cmd, "log": str(log), "out": str(out),
           **fields, "started_at": registry.now_iso()}
    write_atomic(job_file(home, name, kind), json.dumps(job, indent=2).encode("utf-8"))
    return job


def read_job(home: Home, name: str, kind: str = "finetune") -> dict[str, Any] | None:
    path = job_file(home, name, kind)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, json.JSONDecodeError) as exc:
        raise TrainingError(f"job file {path} is unreadable ({exc})", fix="delete it; the adapter itself is untouched") from exc


def job_names(home: Home, kind: str = "finetune") -> list[str]:
    return [p.stem for p in jobs_dir(home, kind).glob("*.json") if not p.name.endswith(".out.json")]


def alive(job: dict[str, Any]) -> bool:
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
            args = cmdline.read_bytes()
        except OSError:
            return False
        # Empty while exec is still setting up the new program (Popen returns before that ends) or
        # while the process exits: both are our job, and the next look decides.
        return not args or job.get("kind", "finetune").encode() in args
    return True


def tail(path: Path, lines: int = 40) -> list[str]:
    """The last non-empty lines of a log (tqdm's carriage returns count as line ends)."""
    try:
        with open(path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            fh.seek(max(0, fh.tell() - 16384))
            text = fh.read().decode("utf-8", "replace")
    except OSError:
        return []
    return [l.strip() for l in text.replace("\r", "\n").splitlines() if l.strip()][-lines:]


def result(path: Path) -> dict[str, Any] | None:
    """The ``--json`` payload: the last line of stdout, or None (still running, or it failed)."""
    try:
        lines = [l for l in path.read_text(encoding="utf-8").splitlines() if l.strip()]
        return json.loads(lines[-1]) if lines else None
    except (OSError, json.JSONDecodeError):
        return None


def one_line_error(log_tail: list[str]) -> str:
    """The CLI's ``ragft KIND: error: message (fix)`` line, else the log's last line."""
    errors = [l for l in log_tail if ": error:" in l]
    return errors[-1] if errors else (log_tail[-1] if log_tail else "the job stopped without output")
