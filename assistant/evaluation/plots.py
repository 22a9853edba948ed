"""The evaluation's pictures (PNG): quality per route with its interval, quality against latency,
freshness as stacked bars, the router's confusion, and the quantization panel.

matplotlib (Agg, no display), the project's plotting library (as the leaderboard's plot). Each
function takes the summary ``ragft eval --json`` prints and returns a Figure, or None when the
run holds nothing to draw (no fresh set, no auto route, ...).
"""

from __future__ import annotations

from typing import Any

ROUTE_COLOURS = {"base": "#7f7f7f", "naive": "#1f77b4", "agentic": "#2ca02c", "finetuned": "#d62728",
                 "hybrid": "#9467bd", "auto": "#ff7f0e"}


def _figure(width: float, height: float):
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height))
    return fig, fig.subplots()


def quality(summary: dict[str, Any]):
    rows = [(r, f) for r, f in summary["routes"].items() if f.get("correct") is not None]
    if not rows:
        return None
    fig, ax = _figure(6.4, 0.8 + 0.5 * len(rows))
    ys = list(range(len(rows)))[::-1]
    for y, (route, f) in zip(ys, rows):
        low, high = f["correct_ci"]
        ax.errorbar([f["correct"]], [y], xerr=[[f["correct"] - low], [high - f["correct"]]], fmt="o", capsize=4,
                    color=ROUTE_COLOURS.get(route, "#333333"))
    ax.set_yticks(ys, [f"{r} (n={f['n']})" for r, f in rows])
    ax.set_xlim(0, 1)
    ax.set_xlabel("correct, with its 95% bootstrap interval")
    ax.set_title("Quality per route")
    fig.tight_layout()
    return fig


def quality_latency(summary: dict[str, Any]):
    rows = [(r, f) for r, f in summary["routes"].items() if f.get("correct") is not None and f.get("latency_p50_s")]
    if not rows:
        return None
    fig, ax = _figure(6.4, 4.2)
    for route, f in rows:
        ax.scatter([f["latency_p50_s"]], [f["correct"]], s=60, color=ROUTE_COLOURS.get(route, "#333333"))
        ax.annotate(route, (f["latency_p50_s"], f["correct"]), textcoords="offset points", xytext=(6, 4))
    ax.set_xlabel("latency p50 (s)")
    ax.set_ylabel("correct")
    ax.set_ylim(0, 1)
    ax.set_title("Quality against latency")
    fig.tight_layout()
    return fig


def freshness(summary: dict[str, Any]):
    rows = list(summary.get("freshness", {}).items())
    if not rows:
        return None
    fig, ax = _figure(6.4, 1.4 + 0.5 * len(rows))
    ys = list(range(len(rows)))[::-1]
    left = [0.0] * len(rows)
    for outcome, colour in (("new", "#2ca02c"), ("stale", "#d62728"), ("none", "#bbbbbb")):
        widths = [f[outcome] for _, f in rows]
        ax.barh(ys, widths, left=left, color=colour, label=outcome)
        left = [a + b for a, b in zip(left, widths)]
    ax.set_yticks(ys, [f"{r} (n={f['n']})" for r, f in rows])
    ax.set_xlim(0, 1)
    ax.set_xlabel("share of changed facts answered with the new value, the old one, or neither")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.35), ncol=3, fontsize=8, frameon=False)
    ax.set_title("Freshness after the documents changed")
    fig.tight_layout()
    return fig


def router_confusion(summary: dict[str, Any]):
    router = summary.get("router")
    if not router:
        return None
    chosen = sorted(router["confusion"])
    best = [*router["fixed_routes"], "none"]
    grid = [[router["confusion"][c].get(b, 0) for b in best] for c in chosen]
    fig, ax = _figure(1.6 + 0.9 * len(best), 1.2 + 0.5 * len(chosen))
    ax.imshow(grid, cmap="Blues")
    for i, row in enumerate(grid):
        for j, v in enumerate(row):
            ax.text(j, i, str(v), ha="center", va="center", fontsize=9)
    ax.set_xticks(range(len(best)), best)
    ax.set_yticks(range(len(chosen)), chosen)
    ax.set_xlabel("first fixed route that was right")
    ax.set_ylabel("auto chose")
    ax.set_title(f"Router: regret {router['regret']:.2f} (auto {router['auto']:.2f} vs oracle {router['oracle']:.2f})")
    fig.tight_layout()
    return fig


def quantization(summary: dict[str, Any]):
    variants = (summary.get("quantization") or {}).get("variants") or []
    rows = [v for v in variants if v.get("correct") is not None]
    if not rows:
        return None
    fig, ax = _figure(6.4, 4.0)
    for v in rows:
        ax.scatter([v["tokens_per_s"] or 0], [v["correct"]], s=20 + max(0.0, v.get("load_rss_mb") or 0) / 3, color="#d62728", alpha=0.7)
        ax.annotate(v["variant"], (v["tokens_per_s"] or 0, v["correct"]), textcoords="offset points", xytext=(6, 4))
    ax.set_xlabel("tokens/s (marker size: memory the model took)")
    ax.set_ylabel("correct")
    ax.set_ylim(0, 1)
    ax.set_title("Fine-tuned model by precision")
    fig.tight_layout()
    return fig


PLOTS = {"quality": quality, "quality_latency": quality_latency, "freshness": freshness,
         "router": router_confusion, "quantization": quantization}
