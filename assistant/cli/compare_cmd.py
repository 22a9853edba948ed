"""``ragft compare QUESTION [--routes a,b,...] [--json]``: one question, several routes side by side.

With ``--json`` it prints ``{"comparison_id", "question", "results": [...]}``, one ``ragft ask
--json`` object per route in the order given (a route that failed: ``{"route", "error"}``). Routes
answer in parallel (see ``assistant.compare``); exit 1 when every route failed. Every comparison is
stored with its answers in the arena (``assistant.arena``), so ``ragft vote COMPARISON_ID --winner
a|b|tie|bad`` can judge it later (A is the first route) and ``ragft leaderboard`` counts the vote.
"""

from __future__ import annotations

import argparse
import sys

from assistant.arena.ratings import letter
from assistant.arena.store import record_comparison
from assistant.cli import add_json_flag
from assistant.cli.common import add_collection_flags, profile_of
from assistant.compare import DEFAULT_ROUTES, build_routes, compare, parse_routes
from assistant.routes import RouteContext
from ingestion.errors import RagftError
from ingestion.home import Home
from rag.chat_model import GenerationOptions


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("compare", help="answer one question on several routes side by side")
    parser.add_argument("question", help="the question")
    parser.add_argument("--routes", default=None, metavar="A,B",
                        help=f"comma-separated routes (default: {','.join(DEFAULT_ROUTES)})")
    parser.add_argument("--model", default=None, help="registry name, .gguf path, HF dir, hub id or openai:MODEL@URL")
    parser.add_argument("--adapter", default=None, help="adapter for the finetuned and hybrid routes (default: the newest)")
    parser.add_argument("--max-tokens", type=int, default=256, help="most tokens to generate (default 256)")
    add_collection_flags(parser, with_store=False)
    parser.add_argument("-k", type=int, default=None, help="chunks retrieved per query by the RAG routes (default 5)")
    parser.add_argument("--sequential", action="store_true", help="answer one route after the other instead of in parallel")
    add_json_flag(parser)
    parser.set_defaults(handler=run, render=render)


def run(args: argparse.Namespace) -> dict:
    names = parse_routes(args.routes)
    context = RouteContext(home=Home.resolve(args.home), model=args.model, options=GenerationOptions(max_tokens=args.max_tokens),
                           collection=args.collection, k=args.k, adapter=args.adapter, profile=profile_of(args))
    print(f"ragft compare: loading routes {', '.join(names)}...", file=sys.stderr, flush=True)
    outcomes = compare(args.question, build_routes(names, context), parallel=not args.sequential)
    if not any(o.ok for o in outcomes):
        first = outcomes[0].error or "no route answered"
        raise RagftError(f"every route failed; {names[0]}: {first}")
    results = [o.to_dict() for o in outcomes]
    try:
        cid = record_comparison(context.home, args.question, results, collection=args.collection, profile=profile_of(args))
    except RagftError as err:  # the answers are worth printing even when the arena cannot store them
        print(f"ragft compare: warning: not stored for voting: {err.one_line()}", file=sys.stderr)
        cid = None
    return {"comparison_id": cid, "question": args.question, "results": results}


def render(payload: dict) -> str:
    lines = []
    for n, r in enumerate(payload["results"]):
        mark = letter(n).upper()
        if "error" in r:
            lines += [f"== {mark} · {r['route']} (failed)", f"  {r['error']}", ""]
            continue
        tokens = r.get("tokens", {}).get("completion", 0)
        lines.append(f"== {mark} · {r['route']} · {r.get('model', '')} · {tokens} tokens · {r['latency_s']:.2f} s")
        lines.append(r["answer"] if not r.get("abstained") else f"(abstained) {r['answer']}")
        lines += [f"  [{i}] {c['source']}" for i, c in enumerate(r.get("citations") or [], 1)]
        lines.append("")
    if payload.get("comparison_id") and len(payload["results"]) > 1:
        lines.append(f"vote: ragft vote {payload['comparison_id']} --winner a|b|tie|bad")
    return "\n".join(lines)
