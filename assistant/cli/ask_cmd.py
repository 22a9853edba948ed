"""``ragft ask``: answer one question (or a file of them) on a route, streaming to the terminal.

With ``--json`` it prints ``{"route", "reason", "answer", "abstained", "citations", "scores",
"latency_s", "tokens", "model", "steps", "adapter", "stale"}`` (citations: ``{"source", "chunk_id",
"span"}``; steps: what the route did, with timings; adapter / stale: on the finetuned and hybrid
routes, the fine-tuned adapter that answered and whether its documents changed in the index since) (``{"results": [...]}`` with ``--questions FILE``); models load once.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from assistant.cli import add_json_flag
from assistant.cli.common import add_collection_flags, profile_of
from assistant.routes import RouteContext, build_route, route_names
from assistant.scoring import describe
from ingestion.errors import ConfigError
from ingestion.home import Home
from rag.chat_model import GenerationOptions


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("ask", help="answer a question on a route (base: the bare model)")
    parser.add_argument("question", nargs="?", help="the question (or use --questions FILE)")
    parser.add_argument("--questions", metavar="FILE", help="answer each line of FILE; models load once")
    # Default stays "base" until the router exists; it will then become "auto".
    parser.add_argument("--route", default="auto", choices=route_names(),
                        help="which route answers (default: auto, which picks one per question and says why)")
    parser.add_argument("--budget-s", type=float, default=None, metavar="SECONDS",
                        help="auto route: latency budget; below what the agentic route costs, it is not chosen")
    parser.add_argument("--model", default=None, help="registry name, .gguf path, HF dir, hub id or openai:MODEL@URL")
    parser.add_argument("--max-tokens", type=int, default=256, help="most tokens to generate (default 256)")
    parser.add_argument("--temperature", type=float, default=0.0, help="0 = greedy, reproducible (default 0)")
    parser.add_argument("--top-p", type=float, default=1.0, help="nucleus sampling mass (default 1.0)")
    parser.add_argument("--stop", action="append", default=[], metavar="TEXT", help="stop sequence (repeatable)")
    parser.add_argument("--seed", type=int, default=None, help="sampling seed")
    add_collection_flags(parser, with_store=False)
    parser.add_argument("-k", type=int, default=None, help="chunks retrieved per query by the RAG routes (default 5)")
    parser.add_argument("--judge", default=None, metavar="MODEL", help="a stronger model (e.g. openai:MODEL@URL, or qwen2.5-1.5b once installed): votes on relevance and grounding in the RAG routes, and computes every answer's scores")
    parser.add_argument("--adapter", default=None, metavar="NAME",
                        help="finetuned/hybrid routes: the registered adapter that answers (default: the newest; see `ragft adapters`)")
    add_json_flag(parser)
    parser.set_defaults(handler=run, render=None)


def _questions(args: argparse.Namespace) -> list[str]:
    if bool(args.question) == bool(args.questions):
        raise ConfigError("pass either QUESTION or --questions FILE", fix="e.g. ragft ask 'What is X?'")
    if args.question:
        return [args.question]
    path = Path(args.questions).expanduser()
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"--questions {path}: cannot read ({exc})", fix="pass a UTF-8 text file, one question a line") from exc
    questions = [q.strip() for q in lines if q.strip()]
    if not questions:
        raise ConfigError(f"--questions {path} holds no questions", fix="write one question a line")
    return questions


def run(args: argparse.Namespace) -> dict | None:
    questions = _questions(args)
    options = GenerationOptions(
        max_tokens=args.max_tokens, temperature=args.temperature, top_p=args.top_p, stop=tuple(args.stop), seed=args.seed
    )
    home = Home.resolve(args.home)
    budget = _budget(args.budget_s)
    print(f"ragft ask: loading route {args.route}...", file=sys.stderr, flush=True)
    route = build_route(args.route, RouteContext(
        home=home, model=args.model, options=options, collection=args.collection, k=args.k, judge=args.judge,
        adapter=args.adapter, profile=profile_of(args), budget_s=budget,
    ))
    results = []
    for question in questions:
        if args.json:
            results.append(route.answer(question).to_dict())
            continue
        if len(questions) > 1:
            sys.stdout.write(f"Q: {question}\nA: ")
        result = route.answer(question, on_token=_echo)  # stream pieces as they come
        sys.stdout.write("\n")
        sys.stdout.flush()
        tokens = result.tokens.get("completion", 0)
        scores = describe(result.scores)
        print(f"[{result.route} · {result.model} · {tokens} tokens · {result.latency_s:.2f} s{' · ' + scores if scores else ''}]",
              file=sys.stderr)
    if not args.json:
        return None
    return results[0] if args.question else {"results": [dict(r, question=q) for r, q in zip(results, questions)]}


def _budget(value: float | None) -> float | None:
    if value is not None and value <= 0:
        raise ConfigError(f"--budget-s must be more than 0 seconds, not {value:g}", fix="pass e.g. --budget-s 2")
    return value


def _echo(piece: str) -> None:
    sys.stdout.write(piece)
    sys.stdout.flush()
