"""Background GGUF exports: a detached ``ragft export NAME --format gguf --quant Q --json``.

    start_export(home, "docs", quant="q4_k_m")
    export_status(home, "docs")   # -> {"state": "running", "stage": "ragft export: merging ...", ...}
                                  #    {"state": "complete", "path": ".../docs-q4_k_m.gguf", ...}
                                  #    {"state": "failed", "error": "ragft export: error: ...", ...}

Merging, writing, quantizing and verifying take minutes on a laptop CPU, so the Fine-tune page
runs the export like training: the process and its record are ``assistant.jobs.process``'s
(``HOME/jobs/export/NAME.json``). The export records itself in the adapter's registry entry when
it succeeds, which is where the finetuned route looks for a GGUF; this module only reads the
run's stdout (the ``--json`` payload) and the ``ragft export: ...`` lines of its log.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

from assistant.jobs import process
from finetune import registry
from finetune.export_gguf import QUANTS  # a constant; the module imports torch only inside its functions
from ingestion.errors import ConfigError, TrainingError
from ingestion.home import Home

KIND = "export"


def start_export(home: Home, name: str, *, quant: str = "q8_0", extra_args: Sequence[str] = ()) -> dict[str, Any]:
    """Start a detached GGUF export of adapter ``name``; returns the job record.

    Refuses an unknown quant, an adapter that is not there or not complete, and a second live
    export of the same adapter, before anything starts.
    """
    if quant not in QUANTS:
        raise ConfigError(f"--quant must be one of {', '.join(QUANTS)}, got {quant!r}")
    registry.validate_name(name, flag="NAME")
    entry = registry.read_entry(home, name)  # a missing adapter raises TrainingError with its fix
    if entry.get("status") != "complete":
        raise TrainingError(f"adapter {name} is {entry.get('status') or 'unfinished'}, not complete",
                            fix="finish its training first (start it again to resume)")
    cmd = process.cli_command(home, KIND, [name, "--format", "gguf", "--quant", quant, *extra_args])
    return process.spawn(home, KIND, name, cmd, quant=quant)


def export_status(home: Home, name: str) -> dict[str, Any]:
    """``{kind, name, quant, state, stage, pid, path, error, result, started_at, log_tail, command}``.

    state: running | complete | failed. While running, ``stage`` is the last progress line
    (merging, writing, quantizing, verifying); once complete, ``path`` is the GGUF file.
    """
    job = process.read_job(home, name, KIND)
    if job is None:
        raise TrainingError(f"no export job named {name!r}", fix="start one with start_export / the Fine-tune page")
    running = process.alive(job)  # first: a run that ends after this has still written its log when read below
    tail = process.tail(Path(job["log"]))
    result = process.result(Path(job["out"]))
    state, stage, error = "failed", None, None
    if running:
        state, stage = "running", (tail[-1] if tail else "starting")
    elif result is not None and result.get("path"):
        state = "complete"
    else:
        error = process.one_line_error(tail)
    return {"kind": KIND, "name": name, "quant": job.get("quant"), "state": state, "stage": stage, "pid": job["pid"],
            "path": (result or {}).get("path") if state == "complete" else None, "error": error, "result": result,
            "started_at": job.get("started_at"), "log_tail": tail[-5:], "command": job["command"]}


def list_exports(home: Home) -> list[dict[str, Any]]:
    """Every export job's status, newest first."""
    out = []
    for name in process.job_names(home, KIND):
        try:
            out.append(export_status(home, name))
        except (TrainingError, ConfigError, KeyError):
            continue
    return sorted(out, key=lambda j: j.get("started_at") or "", reverse=True)
