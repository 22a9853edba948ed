"""The ``ragft`` command line: one console script, subcommands in sibling modules.

Each command module exposes ``register(subparsers)``, which adds its parser and sets
``handler=run``. ``run(args) -> dict`` returns the JSON payload; an optional
``render(payload) -> str`` gives the human form. Domain errors become one line on stderr and
exit code 1 here, at the edge; usage errors (argparse, bad option values) exit 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Callable

from assistant.runtime import apply_defaults
from ingestion.errors import ConfigError, RagftError

apply_defaults()  # before any command module loads torch (see assistant/runtime.py)

# Command modules, in the order `ragft --help` lists them.
_COMMAND_MODULES = (
    "assistant.cli.ingest_cmd",
    "assistant.cli.docs_cmd",
    "assistant.cli.search_cmd",
    "assistant.cli.sample_cmd",
    "assistant.cli.doctor_cmd",
    "assistant.cli.calibrate_cmd",
    "assistant.cli.models_cmd",
    "assistant.cli.ask_cmd",
    "assistant.cli.compare_cmd",
    "assistant.cli.vote_cmd",
    "assistant.cli.leaderboard_cmd",
    "assistant.cli.eval_cmd",
    "assistant.cli.chat_cmd",
    "assistant.cli.dataset_cmd",
    "assistant.cli.finetune_cmd",
    "assistant.cli.adapters_cmd",
    "assistant.cli.export_cmd",
    "assistant.cli.ui_cmd",
    "assistant.cli.serve_cmd",
)


def add_json_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout")


def build_parser() -> argparse.ArgumentParser:
    import importlib

    from assistant.profiles import PROFILES

    parser = argparse.ArgumentParser(
        prog="ragft",
        description="RAG vs fine-tuning on your own documents.",
    )
    parser.add_argument(
        "--home",
        default=None,
        help="data directory for all state (default: $RAGFT_HOME or ~/.local/share/ragft)",
    )
    parser.add_argument(
        "--profile",
        default=None,
        choices=tuple(PROFILES),
        help="base model of every route: tiny (bundled SmolLM2-135M) or small (Qwen2.5-1.5B, after "
        "`ragft models install qwen2.5-1.5b`) (default: $RAGFT_PROFILE or tiny)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in _COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def _emit(args: argparse.Namespace, payload: dict, render: Callable[[dict], str] | None) -> None:
    if getattr(args, "json", False) or render is None:
        sys.stdout.write(json.dumps(payload, ensure_ascii=False, default=str) + "\n")
    else:
        text = render(payload)
        if text:
            sys.stdout.write(text.rstrip("\n") + "\n")
    sys.stdout.flush()


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)  # exits 2 on usage errors
    if extra:
        # Only a command that passes flags on to another program (`ragft ui`) takes extras.
        take_extra = getattr(args, "take_extra", None)
        if take_extra is None:
            parser.error(f"unrecognized arguments: {' '.join(extra)}")
        take_extra(args, extra)  # exits 2 on flags it does not pass on
    try:
        payload = args.handler(args)
        if payload is not None:
            _emit(args, payload, getattr(args, "render", None))
        return 0
    except ConfigError as err:
        print(f"ragft {args.command}: error: {err.one_line()}", file=sys.stderr)
        return 2
    except RagftError as err:
        print(f"ragft {args.command}: error: {err.one_line()}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"ragft {args.command}: interrupted; re-run the same command to resume", file=sys.stderr)
        return 130


def entrypoint() -> None:
    try:
        code = main()
    except KeyboardInterrupt:  # Ctrl-C before a command runs (parsing, imports): no traceback
        print("ragft: interrupted", file=sys.stderr)
        code = 130
    sys.exit(code)
