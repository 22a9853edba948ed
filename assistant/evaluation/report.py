"""The evaluation as files a person can read and show: ``ragft eval --report DIR``.

    write_report(summary, answers, Path("report/"))
    # report.md, report.html (self-contained: plots inlined), results.jsonl, results.csv, summary.json, *.png

The report is built once as a list of blocks (headings, paragraphs, tables, images) and rendered
twice, to Markdown and to HTML, so the two never disagree. The HTML inlines its PNGs as data URIs
and carries its own few lines of CSS, so it opens from a mail attachment or a CI artifact.
"""

from __future__ import annotations

import base64
import csv
import html
import json
from pathlib import Path
from typing import Any, Sequence

from assistant.evaluation.plots import PLOTS

Block = tuple  # ("h1"|"h2"|"p", text) | ("table", headers, rows) | ("img", file name, caption)

KIND_NOTES = {
    "held_out_fact": "facts of the dataset's test split: never trained on",
    "validation": "the dataset's validation wordings: used only to pick the checkpoint",
    "fact": "facts the documents state",
    "paraphrase": "the same facts asked in other words",
    "multi_doc": "questions that need two documents",
    "unanswerable": "the documents do not say; the right answer is to decline",
    "changed": "facts whose value changed in the new edition",
}


def _f(value: Any, digits: int = 2) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def blocks(summary: dict[str, Any], images: Sequence[str]) -> list[Block]:
    s = summary.get("settings") or {}
    out: list[Block] = [("h1", f"ragft eval · run {summary['run_id']}"),
                        ("p", f"Collection `{summary.get('collection')}` (corpus snapshot `{summary.get('corpus_snapshot') or 'empty'}`), "
                              f"routes {', '.join(summary['routes'])}, greedy decoding, at most {s.get('max_tokens')} tokens, "
                              f"started {summary.get('started_at')}, finished {summary.get('finished_at') or 'not yet'}.")]
    models = "; ".join(f"{r}: {', '.join(m)}" for r, m in summary.get("models", {}).items() if m)
    if models:
        out.append(("p", f"Models: {models}."))
    if summary.get("adapters"):
        out.append(("p", "Adapters: " + "; ".join(f"{r}: {', '.join(a)}" for r, a in summary["adapters"].items()) + "."))
    out.append(("h2", "Quality per route"))
    out.append(("table", ["route", "n", "correct", "95% CI", "EM", "F1", "contains", "faithful", "abstain (answerable)",
                          "abstain (unanswerable)", "citation", "p50 s", "p95 s", "tokens/s", "load MB"],
                [[r, f["n"], _f(f["correct"]), f"{_f(f['correct_ci'][0])}–{_f(f['correct_ci'][1])}" if f["correct_ci"] else "–",
                  _f(f["em"]), _f(f["f1"]), _f(f["contains"]), _f(f["faithfulness"]), _f(f["abstain_answerable"]),
                  _f(f["abstain_unanswerable"]), _f(f["citation_acc"]), _f(f["latency_p50_s"]), _f(f["latency_p95_s"]),
                  _f(f["tokens_per_s"], 1), _f(f.get("load_rss_mb"), 0)] for r, f in summary["routes"].items()]))
    kinds = sorted({k for f in summary["routes"].values() for k in f["by_kind"]})
    if kinds:
        out.append(("h2", "Correct by kind of question"))
        out.append(("table", ["route", *[f"{k} (n={next(f['by_kind'][k]['n'] for f in summary['routes'].values() if k in f['by_kind'])})" for k in kinds]],
                    [[r, *[_f(f["by_kind"].get(k, {}).get("correct")) for k in kinds]] for r, f in summary["routes"].items()]))
        out.append(("p", "; ".join(f"**{k}**: {KIND_NOTES[k]}" for k in kinds if k in KIND_NOTES) + "."))
    for name in ("quality", "quality_latency"):
        if name in images:
            out.append(("img", f"{name}.png", name.replace("_", " ")))
    if summary.get("pairs"):
        out.append(("h2", "Route against route (same questions)"))
        out.append(("p", "diff = a − b; interval: paired bootstrap over questions (2,000 resamples, 95%); "
                         "p: exact McNemar test on correct, sign test on F1."))
        out.append(("table", ["a", "b", "metric", "n", "diff", "95% CI", "p"],
                    [[p["a"], p["b"], p["metric"], p["n"], f"{p['diff']:+.3f}", f"{p['ci_low']:+.3f} to {p['ci_high']:+.3f}",
                      _f(p["p"], 4)] for p in summary["pairs"]]))
    if summary.get("freshness"):
        out.append(("h2", "Freshness: changed facts"))
        out.append(("table", ["route", "n", "new value", "old (stale) value", "neither / declined"],
                    [[r, f["n"], _f(f["new"]), _f(f["stale"]), _f(f["none"])] for r, f in summary["freshness"].items()]))
        if "freshness" in images:
            out.append(("img", "freshness.png", "freshness"))
    if summary.get("deletion"):
        out.append(("h2", "Deletion: facts only a deleted document held"))
        out.append(("table", ["route", "n", "still stated", "declined"],
                    [[r, d["n"], _f(d["still_stated"]), _f(d["declined"])] for r, d in summary["deletion"].items()]))
    router = summary.get("router")
    if router:
        out.append(("h2", "Router"))
        out.append(("p", f"On {router['n']} questions: auto {_f(router['auto'])} correct, the per-question oracle over "
                         f"{', '.join(router['fixed_routes'])} {_f(router['oracle'])}, regret {_f(router['regret'])}. "
                         f"Choices: {', '.join(f'{k} {v}' for k, v in router['choices'].items())}."
                         + (f" Changed facts sent to the fine-tuned model alone: {_f(router['changed_facts_to_finetuned'])}."
                            if router.get("changed_facts_to_finetuned") is not None else "")))
        out.append(("table", ["kind", "n", "oracle", "auto", "regret"],
                    [[k, v["n"], _f(v["oracle"]), _f(v["auto"]), _f(v["regret"])] for k, v in router["by_kind"].items()]))
        if "router" in images:
            out.append(("img", "router.png", "router confusion"))
    quant = summary.get("quantization") or {}
    if quant.get("variants"):
        out.append(("h2", "Quantization: the fine-tuned model by precision"))
        out.append(("p", f"Adapter {quant.get('adapter')}, the same --qa questions at each precision; memory: what loading "
                         "the model added to the process (weights, less what an earlier route had already loaded)."))
        out.append(("table", ["precision", "model", "n", "correct", "F1", "p50 s", "tokens/s", "load MB", "note"],
                    [[v["variant"], v.get("model") or "–", v.get("n"), _f(v.get("correct")), _f(v.get("f1")),
                      _f(v.get("latency_p50_s")), _f(v.get("tokens_per_s"), 1), _f(v.get("load_rss_mb"), 0),
                      v.get("error") or ""] for v in quant["variants"]]))
        if "quantization" in images:
            out.append(("img", "quantization.png", "quantization"))
    if summary.get("harness_overhead") is not None:
        out.append(("p", f"Harness overhead beyond the routes' own answer time: {summary['harness_overhead'] * 100:.2f}%."))
    return out


def _markdown(items: list[Block]) -> str:
    lines: list[str] = []
    for b in items:
        if b[0] == "h1":
            lines += [f"# {b[1]}", ""]
        elif b[0] == "h2":
            lines += [f"## {b[1]}", ""]
        elif b[0] == "p":
            lines += [b[1], ""]
        elif b[0] == "table":
            lines += ["| " + " | ".join(map(str, b[1])) + " |", "|" + "---|" * len(b[1])]
            lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in b[2]] + [""]
        elif b[0] == "img":
            lines += [f"![{b[2]}]({b[1]})", ""]
    return "\n".join(lines)


def _inline_md(text: str) -> str:
    import re

    text = html.escape(text)
    text = re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", text)
    return re.sub(r"`(.+?)`", r"<code>\1</code>", text)


CSS = ("body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}"
       "table{border-collapse:collapse;margin:1em 0;font-size:0.9em}td,th{border:1px solid #ccc;padding:3px 7px;text-align:right}"
       "td:first-child,th:first-child{text-align:left}th{background:#f3f3f3}img{max-width:100%}code{background:#f3f3f3}")


def _html(items: list[Block], directory: Path) -> str:
    parts = ["<!doctype html><html><head><meta charset='utf-8'><title>ragft eval</title>", f"<style>{CSS}</style></head><body>"]
    for b in items:
        if b[0] in ("h1", "h2", "p"):
            parts.append(f"<{b[0]}>{_inline_md(b[1])}</{b[0]}>")
        elif b[0] == "table":
            parts.append("<table><tr>" + "".join(f"<th>{html.escape(str(h))}</th>" for h in b[1]) + "</tr>")
            parts += ["<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in b[2]]
            parts.append("</table>")
        elif b[0] == "img":
            data = base64.b64encode((directory / b[1]).read_bytes()).decode()
            parts.append(f"<p><img alt='{html.escape(b[2])}' src='data:image/png;base64,{data}'></p>")
    parts.append("</body></html>")
    return "\n".join(parts)


CSV_FIELDS = ("route", "set", "id", "kind", "question", "answer", "abstained", "correct", "em", "f1", "contains",
              "citation_ok", "outcome", "still_stated", "chosen", "latency_s", "completion_tokens", "sources")


def write_report(summary: dict[str, Any], answers: list[dict[str, Any]], directory: Path) -> dict[str, str]:
    """Write every report file into ``directory``; {kind: path}."""
    directory = Path(directory).expanduser()
    directory.mkdir(parents=True, exist_ok=True)
    images = []
    for name, draw in PLOTS.items():
        fig = draw(summary)
        if fig is not None:
            fig.savefig(directory / f"{name}.png", dpi=110)
            images.append(name)
    with (directory / "results.jsonl").open("w", encoding="utf-8") as fh:
        for a in answers:
            fh.write(json.dumps(a, ensure_ascii=False) + "\n")
    with (directory / "results.csv").open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=CSV_FIELDS, extrasaction="ignore")
        writer.writeheader()
        for a in answers:
            writer.writerow({**a, "sources": ";".join(a.get("sources") or [])})
    (directory / "summary.json").write_text(json.dumps(summary, indent=1, ensure_ascii=False, default=str))
    items = blocks(summary, images)
    (directory / "report.md").write_text(_markdown(items), encoding="utf-8")
    (directory / "report.html").write_text(_html(items, directory), encoding="utf-8")
    return {"markdown": str(directory / "report.md"), "html": str(directory / "report.html"),
            "csv": str(directory / "results.csv"), "jsonl": str(directory / "results.jsonl"),
            **{f"plot_{n}": str(directory / f"{n}.png") for n in images}}
