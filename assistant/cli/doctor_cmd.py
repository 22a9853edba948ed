"""``ragft doctor [--repair] [--json]`` -> ``{"ok": bool, "problems": [...]}``."""

from __future__ import annotations

import argparse

from assistant.cli.common import home_of
from rag.health import check


def register(sub: argparse._SubParsersAction) -> None:
    from assistant.cli import add_json_flag

    p = sub.add_parser("doctor", help="check (and with --repair, fix) the data dir")
    p.add_argument("--repair", action="store_true", help="finish interrupted writes and re-sync vectors with the records")
    add_json_flag(p)
    p.set_defaults(handler=run, render=render)


def run(args: argparse.Namespace) -> dict:
    return check(home_of(args), repair=args.repair).as_json()


def render(payload: dict) -> str:
    lines = [f"{c['name']}: {c['documents']} documents, {c['chunks']} chunks ({c['store']})" for c in payload["collections"]]
    for p in payload["problems"]:
        state = "repaired" if p.get("repaired") else "PROBLEM"
        lines.append(f"{state}: {p['kind']}: {p['message']}")
    lines.append("ok" if payload["ok"] else "problems found: run `ragft doctor --repair`")
    return "\n".join(lines)
