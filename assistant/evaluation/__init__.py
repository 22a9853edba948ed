"""``ragft eval``: RAG against fine-tuning, measured on the user's own documents.

A run reads top to bottom through these modules:

    inputs   --qa / --fresh JSONL, checked line by line before anything loads
    runner   every route answers every question once (greedy), appended to HOME/evals/RUN_ID/answers.jsonl;
             a stopped run resumes where it stopped
    grading  each answer against its reference: correct, EM, F1, contains, citation; new/stale/none
    summary  per-route figures, paired intervals and tests, freshness, deletion, the router's regret
    stats    paired bootstrap and exact tests (numpy, scipy)
    report   report.md / report.html / results.jsonl / results.csv, with the plots of ``plots``
    history  earlier runs: list them, load one, and say what changed between two

    from assistant.evaluation import EvalSettings, evaluate
    summary = evaluate(home, EvalSettings(routes=("naive", "finetuned"), qa=Path("qa.jsonl")))
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from assistant.evaluation.runner import DEFAULT_ROUTES, EvalRun, EvalSettings, Progress
from assistant.evaluation.summary import summarize
from ingestion.home import Home

__all__ = ["DEFAULT_ROUTES", "EvalRun", "EvalSettings", "evaluate", "summarize"]


def evaluate(home: Home, settings: EvalSettings, *, progress: Progress | None = None, restart: bool = False,
             report: Path | None = None) -> dict[str, Any]:
    """Run (or resume) the evaluation; its summary, also saved as HOME/evals/RUN_ID/summary.json."""
    run = EvalRun.open(home, settings, restart=restart)
    run.answer_all(progress)
    answers = run.answers()
    summary = summarize(answers, settings.routes, run.meta)
    (run.directory / "summary.json").write_text(json.dumps(summary, indent=1, ensure_ascii=False, default=str))
    if report is not None:
        from assistant.evaluation.report import write_report

        summary["report"] = write_report(summary, answers, report)
    return summary
