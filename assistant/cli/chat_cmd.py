"""``ragft chat [--route R] [--model M]``: an interactive chat in the terminal.

Reads questions from stdin (a prompt when it is a terminal, plain lines otherwise), streams each
answer, then prints its citations and timing. ``/route NAME`` switches routes, ``/routes`` lists
them, ``/quit`` (or end of input) leaves. Every answer goes through the same routes as ``ask``.
"""

from __future__ import annotations

import argparse
import sys

from assistant.cli.common import home_of, profile_of
from assistant.routes import ROUTES, Route, RouteContext, build_route, route_names
from ingestion.errors import RagftError
from rag.chat_model import GenerationOptions

HELP = "commands: /route NAME, /routes, /help, /quit"


def default_route() -> str:
    return "auto" if "auto" in ROUTES else "base"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("chat", help="chat in the terminal (answers stream; citations follow)")
    p.add_argument("--route", default=None, choices=route_names(), help="route to start with (default: auto)")
    p.add_argument("--model", default=None, help="registry name, .gguf path, HF dir, hub id or openai:MODEL@URL")
    p.add_argument("--max-tokens", type=int, default=256, help="most tokens per answer (default 256)")
    p.set_defaults(handler=run, render=None)


def _write(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


def run(args: argparse.Namespace) -> None:
    home = home_of(args)
    context = RouteContext(home=home, model=args.model, options=GenerationOptions(max_tokens=args.max_tokens, temperature=0.0),
                           profile=profile_of(args))
    routes: dict[str, Route] = {}
    current = args.route or default_route()
    interactive = sys.stdin.isatty()
    print(f"ragft chat · route {current} · {HELP}", file=sys.stderr, flush=True)
    while True:
        if interactive:
            _write(f"\n[{current}] you> ")
        line = sys.stdin.readline()
        if not line:
            break
        question = line.strip()
        if not question:
            continue
        if question in ("/quit", "/exit"):
            break
        if question in ("/help", "/routes"):
            print(HELP if question == "/help" else " ".join(route_names()), file=sys.stderr)
            continue
        if question.startswith("/route"):
            name = question.partition(" ")[2].strip()
            if name in ROUTES:
                current = name
                print(f"route: {current}", file=sys.stderr)
            else:
                print(f"unknown route {name!r}; routes: {' '.join(route_names())}", file=sys.stderr)
            continue
        try:
            if current not in routes:
                print(f"loading route {current}...", file=sys.stderr, flush=True)
                routes[current] = build_route(current, context)
            _write("assistant> ")
            result = routes[current].answer(question, on_token=_write)
        except RagftError as err:  # one bad turn must not end the conversation
            print(f"\nerror: {err.one_line()}", file=sys.stderr, flush=True)
            continue
        _write("\n")
        for n, c in enumerate(result.citations, start=1):
            _write(f"  [{n}] {c.get('source', '')}\n")
        print(f"  ({result.route} · {result.latency_s:.2f} s · {result.tokens.get('completion', 0)} tokens)", file=sys.stderr, flush=True)
    return None
