"""Earlier evaluation runs: list them, load one, and say what changed between two.

    runs(home)                        # [{"run_id", "started_at", "finished_at", "routes", "questions"}], newest first
    load(home, "3fa2c0d1e9ab")        # its summary.json
    diff(load(home, a), load(home, b))  # settings that differ and every route figure side by side

A run id may be given by any unique prefix, as with git.
"""

from __future__ import annotations

import json
from typing import Any

from ingestion.errors import ConfigError
from ingestion.home import Home

COMPARED = ("correct", "em", "f1", "contains", "faithfulness", "abstain_answerable", "abstain_unanswerable",
            "citation_acc", "latency_p50_s", "latency_p95_s", "tokens_per_s")


def runs(home: Home) -> list[dict[str, Any]]:
    root = home.root / "evals"
    out = []
    for meta_path in root.glob("*/run.json") if root.is_dir() else []:
        try:
            meta = json.loads(meta_path.read_text())
        except (OSError, json.JSONDecodeError):
            continue
        out.append({"run_id": meta.get("run_id", meta_path.parent.name), "started_at": meta.get("started_at"),
                    "finished_at": meta.get("finished_at"), "routes": (meta.get("settings") or {}).get("routes"),
                    "questions": meta.get("questions"), "collection": meta.get("collection"),
                    "summary": (meta_path.parent / "summary.json").is_file()})
    return sorted(out, key=lambda r: r["started_at"] or "", reverse=True)


def resolve(home: Home, run_id: str) -> str:
    ids = [r["run_id"] for r in runs(home)]
    matches = [i for i in ids if i.startswith(run_id)] if run_id else []
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise ConfigError(f"no evaluation run {run_id!r} in {home.root / 'evals'}", fix="see `ragft eval --list`")
    raise ConfigError(f"run id {run_id!r} is ambiguous ({', '.join(matches[:4])})", fix="give more of the id")


def load(home: Home, run_id: str) -> dict[str, Any]:
    rid = resolve(home, run_id)
    path = home.root / "evals" / rid / "summary.json"
    if not path.is_file():
        raise ConfigError(f"evaluation run {rid} has no summary yet (it was stopped before the end)",
                          fix="re-run its `ragft eval` command to finish it")
    return json.loads(path.read_text())


def diff(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    sa, sb = a.get("settings") or {}, b.get("settings") or {}
    changed = {k: [sa.get(k), sb.get(k)] for k in sorted(sa.keys() | sb.keys()) if sa.get(k) != sb.get(k)}
    if a.get("corpus_snapshot") != b.get("corpus_snapshot"):
        changed["corpus_snapshot"] = [a.get("corpus_snapshot"), b.get("corpus_snapshot")]
    routes: dict[str, Any] = {}
    for route in [*a["routes"], *[r for r in b["routes"] if r not in a["routes"]]]:
        fa, fb = a["routes"].get(route, {}), b["routes"].get(route, {})
        routes[route] = {m: {"a": fa.get(m), "b": fb.get(m),
                             "diff": round(fb[m] - fa[m], 4) if fa.get(m) is not None and fb.get(m) is not None else None}
                         for m in COMPARED}
    fresh = {}
    for route in sorted(a.get("freshness", {}).keys() | b.get("freshness", {}).keys()):
        fa, fb = a.get("freshness", {}).get(route, {}), b.get("freshness", {}).get(route, {})
        fresh[route] = {o: {"a": fa.get(o), "b": fb.get(o)} for o in ("new", "stale", "none")}
    return {"a": a["run_id"], "b": b["run_id"], "settings_changed": changed, "routes": routes, "freshness": fresh}
