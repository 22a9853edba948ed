"""``ragft models [--json]``: the configured chat models, their backend, size and readiness."""

from __future__ import annotations

import argparse

from assistant.cli import add_json_flag
from ingestion.home import Home


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("models", help="list chat models (built in and from HOME/models.json)")
    add_json_flag(parser)
    parser.set_defaults(handler=run, render=render)


def run(args: argparse.Namespace) -> dict:
    from assistant.llm.registry import all_specs, describe

    home = Home.resolve(args.home)
    return {"models": [describe(spec, home) for spec in all_specs(home)]}


def render(payload: dict) -> str:
    rows = [("NAME", "BACKEND", "QUANT", "SIZE MB", "STATUS")]
    for m in payload["models"]:
        name = m["name"] + (" (default)" if m.get("default") else "")
        size = "-" if m.get("size_mb") is None else f"{m['size_mb']:.0f}"
        rows.append((name, m["backend"], m["quantization"], size, m["status"]))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r[:4], widths)) + "  " + r[4] for r in rows)
