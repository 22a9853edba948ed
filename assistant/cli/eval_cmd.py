"""``ragft eval --qa FILE [--fresh FILE] [--routes ...] [--report DIR] [--json]``: RAG against
fine-tuning on the user's own documents (``assistant.evaluation``).

With ``--json`` it prints ``{"run_id", "routes": {ROUTE: {"n", "correct", "correct_ci", "em", "f1",
"contains", "faithfulness", "abstain_answerable", "abstain_unanswerable", "citation_acc",
"latency_p50_s", "latency_p95_s", ...}}, "freshness", "deletion", "pairs", "router",
"quantization", "harness_overhead"}`` (rates in 0..1). The same command again resumes the run it
started (same inputs, settings and corpus); ``--restart`` answers everything again. ``--list`` shows
earlier runs, ``--compare RUN_A RUN_B`` what changed between two.

Row formats: ``--qa``: ``{"id", "question", "answers": [...], "source"?, "kind"?}`` (empty answers:
unanswerable), or the rows ``ragft dataset build`` wrote (its test and validation splits);
``--fresh``: ``{"id", "question", "old_answers", "new_answers", "source", "deleted"?}``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from assistant.cli import add_json_flag
from assistant.cli.common import add_collection_flags, home_of, profile_of, progress_bar
from assistant.compare import parse_routes
from ingestion.errors import ConfigError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("eval", help="measure every route on a question set: quality with intervals, freshness, router regret")
    p.add_argument("--qa", metavar="FILE", help="JSONL question set (see --help of the module for the row format)")
    p.add_argument("--fresh", metavar="FILE", help="JSONL of facts that changed between two editions of the corpus")
    p.add_argument("--routes", default=None, metavar="A,B",
                   help="routes to measure (default: base,naive,agentic,auto, plus finetuned,hybrid when an adapter exists)")
    p.add_argument("--model", default=None, help="model of the base, naive, agentic (and auto) routes: registry name, .gguf path, "
                   "HF dir, hub id or openai:MODEL@URL; finetuned and hybrid answer on their adapter's base")
    p.add_argument("--adapter", default=None, metavar="NAME", help="adapter of the finetuned and hybrid routes (default: the newest)")
    p.add_argument("--judge", default=None, metavar="MODEL", help="a stronger model that computes the answer scores")
    add_collection_flags(p, with_store=False)
    p.add_argument("-k", type=int, default=None, help="chunks retrieved per query by the RAG routes (default 5)")
    p.add_argument("--quantization", default=None, metavar="P,Q",
                   help="also ask the --qa questions of the fine-tuned adapter served at these precisions: fp32, nf4, int8 "
                        "(transformers + PEFT) and f32, f16, q8_0, q4_k_m (its GGUF exports, `ragft export`)")
    p.add_argument("--max-tokens", type=int, default=64, help="most tokens per answer (default 64)")
    p.add_argument("--report", metavar="DIR", default=None, help="write report.md, report.html, results.csv/jsonl and plots here")
    p.add_argument("--limit", type=int, default=None, metavar="N", help="only the first N rows of each file (default: all)")
    p.add_argument("--restart", action="store_true", help="answer every question again instead of resuming")
    p.add_argument("--list", action="store_true", help="list earlier runs")
    p.add_argument("--compare", nargs=2, metavar=("RUN_A", "RUN_B"), help="what changed between two runs")
    add_json_flag(p)
    p.set_defaults(handler=run, render=render)


def run(args: argparse.Namespace) -> dict:
    from assistant.evaluation import EvalSettings, evaluate, history
    from assistant.evaluation.runner import default_routes

    home = home_of(args)
    if args.list:
        return {"runs": history.runs(home)}
    if args.compare:
        return {"compare": history.diff(history.load(home, args.compare[0]), history.load(home, args.compare[1]))}
    if not args.qa and not args.fresh:
        raise ConfigError("nothing to evaluate", fix="pass --qa FILE and/or --fresh FILE (ragft sample writes both for the sample corpus)")
    routes = tuple(parse_routes(args.routes)) if args.routes else default_routes(home)
    settings = EvalSettings(routes=routes, qa=Path(args.qa).expanduser().resolve() if args.qa else None,
                            fresh=Path(args.fresh).expanduser().resolve() if args.fresh else None,
                            model=args.model, adapter=args.adapter, judge=args.judge, collection=args.collection,
                            k=args.k, profile=profile_of(args), max_tokens=args.max_tokens, limit=args.limit,
                            quantization=tuple(w.strip() for w in args.quantization.split(",") if w.strip()) if args.quantization else ())
    print(f"ragft eval: routes {', '.join(routes)}", file=sys.stderr, flush=True)
    with progress_bar("eval", unit="answer") as update:
        return evaluate(home, settings, progress=update, restart=args.restart,
                        report=Path(args.report).expanduser() if args.report else None)


def render(payload: dict) -> str:
    if "runs" in payload:
        if not payload["runs"]:
            return "no evaluation runs yet (ragft eval --qa FILE)"
        return "\n".join(f"{r['run_id']}  {r['started_at']}  {','.join(r['routes'] or [])}  "
                         f"{(r['questions'] or {}).get('qa', 0)} qa + {(r['questions'] or {}).get('fresh', 0)} fresh"
                         f"{'' if r['finished_at'] else '  (unfinished)'}" for r in payload["runs"])
    if "compare" in payload:
        c = payload["compare"]
        lines = [f"run {c['a']} -> {c['b']}"]
        lines += [f"  {k}: {v[0]} -> {v[1]}" for k, v in c["settings_changed"].items()] or ["  same settings and corpus"]
        for route, metrics in c["routes"].items():
            moved = [f"{m} {v['a']:.2f}->{v['b']:.2f}" for m, v in metrics.items() if v["diff"] not in (None, 0)]
            lines.append(f"  {route}: {', '.join(moved) if moved else 'no change'}")
        return "\n".join(lines)
    lines = [f"run {payload['run_id']}  (collection {payload['collection']})",
             f"{'route':10} {'n':>4} {'correct':>8} {'95% CI':>13} {'F1':>5} {'abst.ans':>8} {'abst.unans':>10} {'p50 s':>6}"]
    for route, f in payload["routes"].items():
        ci = f"{f['correct_ci'][0]:.2f}-{f['correct_ci'][1]:.2f}" if f["correct_ci"] else "-"
        fmt = lambda v: "-" if v is None else f"{v:.2f}"  # noqa: E731
        lines.append(f"{route:10} {f['n']:>4} {fmt(f['correct']):>8} {ci:>13} {fmt(f['f1']):>5} {fmt(f['abstain_answerable']):>8} "
                     f"{fmt(f['abstain_unanswerable']):>10} {fmt(f['latency_p50_s']):>6}")
    for route, f in payload.get("freshness", {}).items():
        lines.append(f"fresh {route:10} new {f['new']:.2f}  stale {f['stale']:.2f}  none {f['none']:.2f}  (n={f['n']})")
    if payload.get("router"):
        r = payload["router"]
        lines.append(f"router: auto {r['auto']:.2f} vs oracle {r['oracle']:.2f} (regret {r['regret']:.2f})")
    if payload.get("report"):
        lines.append(f"report: {payload['report']['html']}")
    return "\n".join(lines)
