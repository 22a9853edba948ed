"""``ragft models [--json]``: the chat models, their backend, size and readiness;
``ragft models install NAME [--json]`` / ``ragft models remove NAME [--json]``: a model installed
on request (``assistant/llm/install.py``).

install -> ``{"name", "path", "sha256", "bytes", "installed", "seconds", "gguf_name"}``
(``installed`` is false when it was already there); remove -> ``{"name", "removed"}``.
"""

from __future__ import annotations

import argparse

from assistant.cli import add_json_flag
from assistant.cli.common import home_of, progress_bar


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("models", help="list chat models; install or remove the ones installed on request")
    add_json_flag(parser)
    parser.set_defaults(handler=run, render=render)
    from assistant.llm.install import CATALOG

    actions = parser.add_subparsers(dest="models_action", metavar="ACTION")
    for action, help_text in (("install", "fetch, assemble, verify and register a model (e.g. qwen2.5-1.5b)"),
                              ("remove", "delete an installed model and its record")):
        p = actions.add_parser(action, help=help_text)
        p.add_argument("name", metavar="NAME", choices=sorted(CATALOG), help=f"one of: {', '.join(sorted(CATALOG))}")
        add_json_flag(p)
        p.set_defaults(handler=install if action == "install" else remove, render=render_action)


def run(args: argparse.Namespace) -> dict:
    from assistant.llm.install import CATALOG
    from assistant.llm.registry import all_specs, describe

    home = home_of(args)
    rows = [describe(spec, home) for spec in all_specs(home)]
    listed = {r["name"] for r in rows}
    for name, entry in CATALOG.items():
        if name not in listed:
            rows.append({"name": name, "backend": "llamacpp", "quantization": "unknown", "default": False,
                         "description": entry.description, "ready": False, "size_mb": None, "path": None,
                         "status": f"not installed: ragft models install {name} ({entry.size / 2**30:.1f} GB)"})
    return {"models": rows}


def install(args: argparse.Namespace) -> dict:
    from assistant.llm.install import as_json, catalog_entry, install as install_model

    entry, home = catalog_entry(args.name), home_of(args)
    with progress_bar(f"fetch {entry.name}", unit="part") as fetch, progress_bar(f"assemble {entry.name}", unit="B") as put:
        def progress(stage: str, done: int, total: int) -> None:
            (fetch if stage == "fetch" else put)(done, total, "")

        return as_json(install_model(entry, home, progress=progress))


def remove(args: argparse.Namespace) -> dict:
    from assistant.llm.install import catalog_entry, remove as remove_model

    catalog_entry(args.name)  # an unknown name is an error, not "nothing to remove"
    return {"name": args.name, "removed": remove_model(args.name, home_of(args))}


def render(payload: dict) -> str:
    rows = [("NAME", "BACKEND", "QUANT", "SIZE MB", "STATUS")]
    for m in payload["models"]:
        name = m["name"] + (" (default)" if m.get("default") else "")
        size = "-" if m.get("size_mb") is None else f"{m['size_mb']:.0f}"
        rows.append((name, m["backend"], m["quantization"], size, m["status"]))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r[:4], widths)) + "  " + r[4] for r in rows)


def render_action(payload: dict) -> str:
    if "removed" in payload:
        return f"{payload['name']}: {'removed' if payload['removed'] else 'was not installed'}"
    if not payload["installed"]:
        return f"{payload['name']}: already installed at {payload['path']}"
    return (f"{payload['name']}: installed at {payload['path']} ({payload['bytes'] / 2**20:.0f} MB, sha256 verified, "
            f"{payload['seconds']:.0f} s); use --model {payload['name']}")
