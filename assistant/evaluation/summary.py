"""From per-question answers to the figures ``ragft eval --json`` prints.

    summary = summarize(answers, routes=("naive", "finetuned", "auto"), meta=run.meta)
    summary["routes"]["naive"]["f1"]; summary["pairs"][0]["p"]; summary["router"]["regret"]

Every rate is in 0..1 and every mean comes with the number of questions it is over. ``correct`` is
the headline (contains-gold on answerable questions, declining on unanswerable ones; see
``grading``). Pairs compare two routes on the questions both answered: the paired bootstrap
interval of the difference and an exact test (McNemar on correct, the sign test on F1).

The router section needs ``auto`` and at least one fixed route: the per-question oracle is the best
fixed route (correct when any fixed route was), the router's regret is the oracle minus what auto
scored, and the confusion table counts, for each route auto chose, which fixed route was right
(the first right one in ``--routes`` order; "none" when none was).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from itertools import combinations
from typing import Any, Iterable, Sequence

import numpy as np

from assistant.evaluation.stats import mcnemar_p, mean_ci, paired_diff, sign_test_p

FIXED = ("base", "naive", "agentic", "finetuned", "hybrid")  # the routes the router chooses among (auto is not one)


def _mean(values: Iterable[float | None]) -> float | None:
    xs = [float(v) for v in values if v is not None]
    return round(sum(xs) / len(xs), 4) if xs else None


def _pct(values: Sequence[float], q: float) -> float | None:
    return round(float(np.percentile(values, q)), 3) if values else None


def route_figures(rows: list[dict[str, Any]], meta: dict[str, Any] | None = None) -> dict[str, Any]:
    qa = [r for r in rows if r["set"] == "qa"]
    answerable = [r for r in qa if r["kind"] != "unanswerable" and r.get("em") is not None]
    unanswerable = [r for r in qa if r not in answerable]
    latencies = [r["latency_s"] for r in rows]
    tokens = sum(r.get("completion_tokens", 0) for r in rows)
    correct, low, high = mean_ci([r["correct"] for r in qa]) if qa else (None, None, None)
    by_kind: dict[str, list[float]] = defaultdict(list)
    for r in qa:
        by_kind[r["kind"]].append(r["correct"])
    return {
        "n": len(qa),
        "correct": None if correct is None else round(correct, 4),
        "correct_ci": None if correct is None else [round(low, 4), round(high, 4)],
        "em": _mean(r["em"] for r in answerable),
        "f1": _mean(r["f1"] for r in answerable),
        "contains": _mean(r["contains"] for r in answerable),
        "faithfulness": _mean(r["scores"].get("faithfulness") for r in qa if not r["abstained"]),
        "answer_relevance": _mean(r["scores"].get("answer_relevance") for r in qa if not r["abstained"]),
        "abstain_answerable": _mean(float(r["abstained"]) for r in answerable),
        "abstain_unanswerable": _mean(float(r["abstained"]) for r in unanswerable),
        "citation_acc": _mean(r.get("citation_ok") for r in answerable),
        "latency_p50_s": _pct(latencies, 50),
        "latency_p95_s": _pct(latencies, 95),
        "tokens": round(tokens / len(rows), 1) if rows else None,
        "tokens_per_s": round(tokens / sum(latencies), 1) if latencies and sum(latencies) > 0 else None,
        "load_rss_mb": (meta or {}).get("load_rss_mb"),
        "peak_rss_mb": (meta or {}).get("peak_rss_mb"),
        "by_kind": {k: {"n": len(v), "correct": _mean(v)} for k, v in sorted(by_kind.items())},
    }


def freshness(rows: list[dict[str, Any]]) -> dict[str, Any] | None:
    changed = [r for r in rows if r["set"] == "fresh" and r["kind"] != "deleted"]
    if not changed:
        return None
    counts = Counter(r["outcome"] for r in changed)
    return {"n": len(changed), **{o: round(counts[o] / len(changed), 4) for o in ("new", "stale", "none")}}


def deletion(rows: list[dict[str, Any]]) -> dict[str, Any] | None:
    gone = [r for r in rows if r["set"] == "fresh" and r["kind"] == "deleted"]
    if not gone:
        return None
    return {"n": len(gone), "still_stated": _mean(r["still_stated"] for r in gone),
            "declined": _mean(float(r["abstained"]) for r in gone)}


def pairs(by_route: dict[str, dict[tuple[str, str], dict]], routes: Sequence[str]) -> list[dict[str, Any]]:
    out = []
    for a, b in combinations(routes, 2):
        common = sorted(k for k in by_route[a].keys() & by_route[b].keys() if k[0] == "qa")
        if not common:
            continue
        for metric, test in (("correct", mcnemar_p), ("f1", sign_test_p)):
            keys = [k for k in common if by_route[a][k].get(metric) is not None and by_route[b][k].get(metric) is not None]
            if not keys:
                continue
            xa = [by_route[a][k][metric] for k in keys]
            xb = [by_route[b][k][metric] for k in keys]
            diff, low, high = paired_diff(xa, xb)
            out.append({"a": a, "b": b, "metric": metric, "n": len(keys), "diff": round(diff, 4),
                        "ci_low": round(low, 4), "ci_high": round(high, 4), "p": round(test(xa, xb), 4)})
    return out


def router(by_route: dict[str, dict[tuple[str, str], dict]], routes: Sequence[str]) -> dict[str, Any] | None:
    fixed = [r for r in routes if r in FIXED]
    if "auto" not in by_route or not fixed:
        return None
    auto = by_route["auto"]
    rows, confusion = [], defaultdict(Counter)
    for key, answer in sorted(auto.items()):
        if key[0] != "qa" or not all(key in by_route[f] for f in fixed):
            continue
        scores = {f: by_route[f][key]["correct"] for f in fixed}
        oracle = max(scores.values())
        best = next((f for f in fixed if scores[f] == oracle), "none") if oracle > 0 else "none"
        chosen = answer.get("chosen", "auto")
        confusion[chosen][best] += 1
        rows.append({"id": key[1], "kind": answer["kind"], "chosen": chosen, "oracle": oracle, "auto": answer["correct"],
                     "regret": oracle - answer["correct"], "oracle_route": best})
    if not rows:
        return None
    by_kind = defaultdict(list)
    for r in rows:
        by_kind[r["kind"]].append(r)
    stale_picks = [a for k, a in auto.items() if k[0] == "fresh" and a["kind"] != "deleted"]
    return {
        "n": len(rows), "fixed_routes": fixed,
        "oracle": _mean(r["oracle"] for r in rows), "auto": _mean(r["auto"] for r in rows),
        "regret": _mean(r["regret"] for r in rows),
        "choices": dict(Counter(r["chosen"] for r in rows)),
        "confusion": {c: dict(v) for c, v in sorted(confusion.items())},
        "by_kind": {k: {"n": len(v), "oracle": _mean(r["oracle"] for r in v), "auto": _mean(r["auto"] for r in v),
                        "regret": _mean(r["regret"] for r in v)} for k, v in sorted(by_kind.items())},
        "changed_facts_to_finetuned": _mean(float(a.get("chosen") == "finetuned") for a in stale_picks),
        "questions": rows,
    }


def summarize(answers: list[dict[str, Any]], routes: Sequence[str], meta: dict[str, Any]) -> dict[str, Any]:
    by_route: dict[str, dict[tuple[str, str], dict]] = {r: {} for r in routes}
    for a in answers:
        if a["route"] in by_route:
            by_route[a["route"]][(a["set"], a["id"])] = a
    present = [r for r in routes if by_route[r]]
    route_meta = meta.get("routes", {})
    summary: dict[str, Any] = {
        "run_id": meta.get("run_id"),
        "collection": meta.get("collection"),
        "corpus_snapshot": meta.get("corpus_snapshot"),
        "settings": meta.get("settings"),
        "started_at": meta.get("started_at"), "finished_at": meta.get("finished_at"),
        "routes": {r: route_figures(list(by_route[r].values()), route_meta.get(r)) for r in present},
        "freshness": {r: f for r in present if (f := freshness(list(by_route[r].values())))},
        "deletion": {r: d for r in present if (d := deletion(list(by_route[r].values())))},
        "pairs": pairs(by_route, present),
        "router": router(by_route, present),
        "models": {r: sorted({a["model"] for a in by_route[r].values() if a.get("model")}) for r in present},
        "adapters": {r: sorted({a["adapter"] for a in by_route[r].values() if a.get("adapter")}) for r in present
                     if any(a.get("adapter") for a in by_route[r].values())},
    }
    loop = sum(m.get("loop_s", 0.0) for m in route_meta.values())
    own = sum(m.get("route_s", 0.0) for m in route_meta.values())
    summary["harness_overhead"] = round((loop - own) / own, 5) if own > 0 else None
    summary["quantization"] = quantization(answers, meta)
    return summary


def quantization(answers: list[dict[str, Any]], meta: dict[str, Any]) -> dict[str, Any]:
    """The fine-tuned adapter at each --quantization precision, on the --qa questions."""
    asked = (meta.get("settings") or {}).get("quantization") or []
    if not asked:
        return {}
    route_meta = meta.get("routes", {})
    variants = []
    for weights in asked:
        label = f"finetuned@{weights}"
        rows = [a for a in answers if a["route"] == label]
        info = route_meta.get(label, {})
        if not rows:
            variants.append({"variant": weights, "n": 0, "error": info.get("error") or "not answered yet"})
            continue
        f = route_figures(rows, info)
        variants.append({"variant": weights, "model": rows[0].get("model"),
                         **{k: f[k] for k in ("n", "correct", "correct_ci", "f1", "latency_p50_s", "tokens_per_s")},
                         "load_rss_mb": info.get("load_rss_mb"), "peak_rss_mb": info.get("peak_rss_mb"), "error": None})
    adapters = sorted({a["adapter"] for a in answers if a["route"].startswith("finetuned@") and a.get("adapter")})
    return {"adapter": adapters[0] if len(adapters) == 1 else adapters, "variants": variants}
