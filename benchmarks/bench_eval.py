"""``ragft eval`` on real documentation: what each route gets right, and what the harness costs.

    .venv/bin/python benchmarks/bench_eval.py [--sets git] [--routes base,naive,agentic,auto] [--home DIR]

For each set (``realdocs``: pages a Debian package installs, a frozen question file none of the
routes was tuned on), a fresh data dir ingests the pages and calibrates the collection (with the
default model's answer mode, as ``ragft ingest`` does the first time), then the
real command runs: ``ragft eval --qa benchmarks/data/qa_SET.jsonl --routes ... --report
benchmarks/out/eval-SET``. The harness overhead is the eval loop's wall time beyond the routes' own
answer time, both measured in the same run (target <= 5%); the whole command's wall time is
printed beside the sum of the routes' answer times.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
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

from bench_generate import cpu_model  # noqa: E402
from ingestion.home import Home  # noqa: E402
from realdocs import doc_sets, ingest  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", default="git")
    parser.add_argument("--routes", default="base,naive,agentic,auto")
    parser.add_argument("--home", default=None, help="parent of the data dirs (default: a temporary folder)")
    args = parser.parse_args()
    parent = Path(args.home or tempfile.mkdtemp(prefix="bench-eval-"))
    out = {"date": date.today().isoformat(), "cpu": cpu_model(), "cores": os.cpu_count(), "sets": {}}
    for name in args.sets.split(","):
        ds = doc_sets()[name]
        home = Home.resolve(parent / name)
        if not home.records_db.is_file():
            ingest(home, ds)
            from assistant.calibration import calibrate_collection
            from assistant.llm import DEFAULT_MODEL, get_model

            # as `ragft ingest` does on a collection's first ingest: the gate and the model's answer mode
            calibrate_collection(home, model=get_model(DEFAULT_MODEL, home=home))
        env = {**os.environ, "PYTHONPATH": str(REPO), "RAGFT_HOME": str(home.root), "HF_HUB_OFFLINE": "1"}
        report = REPO / "benchmarks" / "out" / f"eval-{name}"
        t = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "assistant.cli", "eval", "--qa", str(ds.questions), "--routes", args.routes,
                               "--report", str(report), "--json"], stdout=subprocess.PIPE, text=True, env=env, cwd=REPO)
        wall = time.perf_counter() - t
        if proc.returncode != 0:
            raise SystemExit(f"bench_eval: ragft eval on {name} failed (exit {proc.returncode})")
        summary = json.loads(proc.stdout.strip().splitlines()[-1])
        meta = json.loads((home.root / "evals" / summary["run_id"] / "run.json").read_text())
        own = sum(m.get("route_s", 0.0) for m in meta["routes"].values())
        out["sets"][name] = {
            "questions": meta["questions"], "wall_s": round(wall, 1), "routes_answer_s": round(own, 1),
            "harness_overhead": summary["harness_overhead"],
            "routes": {r: {k: f[k] for k in ("n", "correct", "correct_ci", "f1", "abstain_answerable", "abstain_unanswerable",
                                             "citation_acc", "latency_p50_s")} for r, f in summary["routes"].items()},
            "pairs": [p for p in summary["pairs"] if p["metric"] == "correct"],
            "router": {k: (summary["router"] or {}).get(k) for k in ("oracle", "auto", "regret", "choices")},
        }
        print(f"{name}: {wall:.0f} s, overhead {summary['harness_overhead']:.4%}", file=sys.stderr)
    (REPO / "benchmarks" / "out").mkdir(exist_ok=True)
    (REPO / "benchmarks" / "out" / "eval.json").write_text(json.dumps(out, indent=1))
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
