"""``ragft sample [--edition v1|v2] [--to DIR] [--ingest] [--json]``: the bundled demo corpus.

Writes the chosen edition into a working copy (default ``HOME/sample-corpus``), so switching
from v1 to v2 and re-ingesting shows exactly the edition's changes, and its questions as
``ragft eval`` inputs into ``HOME/sample-eval/`` (``qa-EDITION.jsonl``, ``fresh.jsonl``).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from assistant.cli.common import home_of, progress_bar
from ingestion.sample import EDITIONS, eval_sets, materialize
from rag.indexing import ingest_paths


def register(sub: argparse._SubParsersAction) -> None:
    from assistant.cli import add_json_flag

    p = sub.add_parser("sample", help="write the bundled sample corpus (and optionally ingest it)")
    p.add_argument("--edition", choices=EDITIONS, default="v1", help="v1 (default) or v2, the changed edition")
    p.add_argument("--to", metavar="DIR", default=None, help="working copy (default: HOME/sample-corpus)")
    p.add_argument("--ingest", action="store_true", help="ingest the working copy into --collection")
    p.add_argument("--collection", default="default", help="collection for --ingest (default: default)")
    add_json_flag(p)
    p.set_defaults(handler=run, render=render)


def run(args: argparse.Namespace) -> dict:
    home = home_of(args)
    target = Path(args.to).expanduser().resolve() if args.to else home.root / "sample-corpus"
    files = materialize(args.edition, target)
    sets = eval_sets(args.edition, home.root / "sample-eval")  # the corpus's questions, as `ragft eval` inputs
    payload: dict = {"edition": args.edition, "path": str(target), "files": len(files),
                     "eval_sets": {k: str(v) for k, v in sets.items()}}
    if args.ingest:
        with progress_bar("ingest") as update:
            report = ingest_paths(home, [str(target)], collection=args.collection, progress=update)
        payload["ingest"] = report.as_json()
        if report.added or report.updated or report.deleted:  # as `ragft ingest` does after a change
            from assistant.cli.ingest_cmd import _calibrate

            args.no_calibrate = False
            payload["ingest"]["calibration"] = _calibrate(args)
    return payload


def render(payload: dict) -> str:
    line = f"sample corpus {payload['edition']}: {payload['files']} files in {payload['path']}"
    if "ingest" in payload:
        i = payload["ingest"]
        line += f"\ningested: {i['added']} added, {i['updated']} updated, {i['unchanged']} unchanged, {i['deleted']} deleted"
    sets = payload.get("eval_sets") or {}
    if sets:
        line += f"\nquestions for `ragft eval`: --qa {sets['qa']} --fresh {sets['fresh']}"
    return line
