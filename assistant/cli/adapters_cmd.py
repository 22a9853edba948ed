"""``ragft adapters [--json] [--delete NAME]``: the adapter registry, with staleness.

Each row: name, status, stale (a source document changed or disappeared in the index since
training), stale_sources, base, dataset {path, hash}, corpus_snapshot, hyperparameters, metrics,
size_bytes, adapter_dir, merged_dir and exports (see ``finetune.registry``).
"""

from __future__ import annotations

import argparse

from assistant.cli.common import home_of
from finetune import registry


def register(sub: argparse._SubParsersAction) -> None:
    from assistant.cli import add_json_flag

    p = sub.add_parser("adapters", help="list fine-tuned adapters (lineage, metrics, exports, staleness)")
    p.add_argument("--delete", metavar="NAME", default=None, help="delete this adapter and everything under it")
    add_json_flag(p)
    p.set_defaults(handler=run, render=render)


def run(args: argparse.Namespace) -> dict:
    home = home_of(args)
    if args.delete:
        registry.validate_name(args.delete, flag="--delete")
        registry.remove_adapter(home, args.delete)
        return {"deleted": args.delete}
    return {"adapters": registry.list_adapters(home)}


def render(payload: dict) -> str:
    if "deleted" in payload:
        return f"deleted adapter {payload['deleted']}"
    rows = payload["adapters"]
    if not rows:
        return "no adapters yet (train one with `ragft finetune --data FILE`)"
    lines = []
    for a in rows:
        if a.get("status") == "broken":
            lines.append(f"{a['name']:<24} broken: {a.get('error')}")
            continue
        metrics = a.get("metrics") or {}
        loss = metrics.get("best_eval_loss") or metrics.get("train_loss")
        flag = "STALE" if a.get("stale") else "fresh"
        lines.append(
            f"{a['name']:<24} {a.get('status', '?'):<11} {flag:<5} base {a.get('base', {}).get('ref', '?')}"
            + (f"  loss {loss:.3f}" if isinstance(loss, (int, float)) else "")
            + (f"  {a['size_bytes'] / 2**20:.1f} MB" if a.get("size_bytes") else "")
        )
        for s in a.get("stale_sources") or []:
            lines.append(f"    {s['reason']}: {s['source']}")
        for e in a.get("exports") or []:
            v = e.get("verification") or {}
            check = f"top-1 {v['top1_agreement']:.1%}" if "top1_agreement" in v else "unverified"
            lines.append(f"    export {e['quant']}: {e['path']} ({check})")
    return "\n".join(lines)
