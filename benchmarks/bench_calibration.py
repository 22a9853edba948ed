"""How well a gate fit on questions made from a collection transfers to real questions about it.

    .venv/bin/python benchmarks/bench_calibration.py [--sets sample,sqlite,git,httpd] [--homes DIR] [--json]

For each corpus (the bundled sample corpus v1 and the real documentation sets of ``realdocs.py``)
the collection is ingested, questions are made from its own chunks (``assistant.calibration``),
and the gate's three features (best sentence score, unknown-term share, focus coverage) are
measured for the made questions and for the corpus's real questions (the sample corpus's
shipped v1 questions; the frozen ``benchmarks/data/qa_*.jsonl`` sets). No model call: only the
retriever, the sentence scorer and the gate, so a run takes a few minutes.

Then each way of turning the made questions into a gate is scored on the real questions
(abstention on real answerable / real unanswerable). The ways with one free parameter (how far
below the made-question fit the threshold sits, or the share of made answerable questions the
fit may decline) are fit *leave one corpus out*: the parameter is picked on the other corpora
(most unanswerable abstention while no training corpus abstains on more than 10% of its real
answerable questions) and reported on the corpus left out, which it never saw. The ``DEFAULTS``
gate (for collections too small to calibrate) is fit the same way across corpora.
"""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

import argparse
import contextlib
import json
import platform
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from assistant.runtime import apply_defaults  # noqa: E402

apply_defaults()

OUT = REPO / "benchmarks" / "out" / "calibration.json"
TARGET = 0.10  # the ceiling on answerable abstention
MARGINS = tuple(round(0.02 * i, 2) for i in range(16))  # threshold below the made-question fit
CAPS = (0.0, 0.02, 0.05, 0.10, 0.15, 0.20)  # made answerable share the fit may decline
FIXED = [(w, t / 100) for w in (0.25, 0.5, 0.75) for t in range(20, 52, 2)]  # (unknown weight, threshold), focus 0


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def features_of(name: str, homes: str | None) -> dict:
    from assistant.calibration import MadeQuestion, collection_questions, measure
    from ingestion.home import Home
    from rag.index import Index

    keep = Path(homes) / name if homes else None
    with (contextlib.nullcontext(str(keep)) if keep else tempfile.TemporaryDirectory(prefix=f"bench-cal-{name}-")) as tmp:
        home = Home.resolve(tmp)
        if name == "sample":
            from bench_rag import ingest_sample
            from ingestion.sample import questions

            ingest_sample(home)
            real = [(q["question"], q["kind"] != "unanswerable") for q in questions() if "v1" in q["editions"]]
        else:
            import realdocs

            ds = realdocs.doc_sets()[name]
            realdocs.ingest(home, ds)
            real = [(q["question"], q["kind"] == "answerable") for q in realdocs.load_questions(ds)]
        index = Index.open(home, create=False)
        try:
            start = time.perf_counter()
            made = collection_questions(index, "default")
            m_pos, m_neg, _ = measure(index, made)
            r_pos, r_neg, _ = measure(index, [MadeQuestion(q, a) for q, a in real])
            log(f"{name}: {len(m_pos)}+{len(m_neg)} made, {len(r_pos)}+{len(r_neg)} real questions "
                f"measured in {time.perf_counter() - start:.0f} s")
        finally:
            index.close()
    return {"made_pos": m_pos, "made_neg": m_neg, "real_pos": r_pos, "real_neg": r_neg}


def rates(gate: dict, pos: list, neg: list) -> tuple[float, float]:
    from rag.abstain import declined_share

    constants = {k: gate[k] for k in ("threshold", "unknown_weight", "focus_weight")}
    return declined_share(pos, **constants), declined_share(neg, **constants)


def gates(feats: dict) -> dict[str, dict]:
    """Every candidate gate for one corpus, keyed by rule and parameter."""
    from rag import abstain

    out = {}
    base = abstain.calibrate(feats["made_pos"], feats["made_neg"], max_answerable_rate=0.05)
    for m in MARGINS:
        out[f"margin={m}"] = {**base, "threshold": round(base["threshold"] - m, 3)}
    for cap in CAPS:
        out[f"cap={cap}"] = abstain.calibrate(feats["made_pos"], feats["made_neg"], max_answerable_rate=cap)
    for w, t in FIXED:
        out[f"fixed w={w} t={t}"] = {"unknown_weight": w, "focus_weight": 0.0, "threshold": t}
    return out


def pick(family: str, train: list[str], table: dict) -> str:
    """The family's parameter that declines the most unanswerable on ``train`` within the target."""
    keys = [k for k in next(iter(table.values())) if k.startswith(family)]
    ok = [k for k in keys if all(table[c][k][0] <= TARGET for c in train)]
    if not ok:  # nothing keeps every corpus within the target: the least answerable abstention
        return min(keys, key=lambda k: max(table[c][k][0] for c in train))
    return max(ok, key=lambda k: (sum(table[c][k][1] for c in train), -sum(table[c][k][0] for c in train)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sets", default="sample,sqlite,git,httpd")
    parser.add_argument("--homes", default=None, metavar="DIR", help="keep each corpus's data dir under DIR")
    parser.add_argument("--features", default=None, metavar="FILE", help="re-score stored features instead of measuring")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    names = args.sets.split(",")
    if args.features:
        feats = json.loads(Path(args.features).read_text())["features"]
    else:
        feats = {n: features_of(n, args.homes) for n in names}
    table = {c: {k: rates(g, feats[c]["real_pos"], feats[c]["real_neg"]) for k, g in gates(feats[c]).items()} for c in names}
    made = {c: {k: rates(g, feats[c]["made_pos"], feats[c]["made_neg"]) for k, g in gates(feats[c]).items()} for c in names}
    report: dict = {"benchmark": "bench_calibration", "date": date.today().isoformat(), "machine": platform.processor()
                    or platform.machine(), "target_answerable_abstain": TARGET, "held_out": {}}
    lines = [f"{'held out':8} {'rule':6} {'picked on the others':22} {'real ans.':>9} {'real unans.':>11}"]
    for c in names:
        others = [o for o in names if o != c]
        for family in ("margin", "cap", "fixed"):
            k = pick(family, others, table)
            report["held_out"].setdefault(c, {})[family] = {"picked": k, "answerable_abstain": table[c][k][0],
                                                          "unanswerable_abstain": table[c][k][1]}
            lines.append(f"{c:8} {family:6} {k:22} {table[c][k][0]:9.3f} {table[c][k][1]:11.3f}")
    overall = {f: pick(f, names, table) for f in ("margin", "cap", "fixed")}
    report["fit_on_all"] = {f: {"picked": k, "per_corpus": {c: table[c][k] for c in names}} for f, k in overall.items()}
    lines.append("fit on all corpora: " + ", ".join(f"{f}: {k}" for f, k in overall.items()))
    for f, k in overall.items():
        lines.append(f"  {k:22} " + "  ".join(f"{c} {table[c][k][0]:.3f}/{table[c][k][1]:.3f}" for c in names)
                     + "   (made: " + "  ".join(f"{made[c][k][0]:.3f}/{made[c][k][1]:.3f}" for c in names) + ")")
    report["features"] = feats
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(report, indent=1))
    log("\n".join(lines))
    if args.json:
        print(json.dumps({k: v for k, v in report.items() if k != "features"}))


if __name__ == "__main__":
    main()
