"""The auto route against every fixed route and the per-question oracle, and what it does once the
adapter goes stale.

    .venv/bin/python benchmarks/bench_router.py [--routes naive,agentic,finetuned,hybrid] [--epochs 1] [--json]

On a fresh data dir: the sample corpus v1 is ingested and calibrated (`ragft sample --edition v1
--ingest`), an instruction dataset is built from it and an adapter trained on it with the quick
preset (`ragft dataset build`, `ragft finetune`). Every fixed route and ``auto`` answer every v1
question (113 answerable and unanswerable, plus the 10 whose fact changes in v2), greedy, 64
tokens. Per question the oracle is the best contains-gold of the fixed routes (an unanswerable
question counts as right when the route declines); the router's regret is the oracle minus what
its choice scored, reported per question kind. Then v2 is ingested, which changes the adapter's
training documents, and the changed-fact questions are asked again: the share the router sends to
the fine-tuned model alone (target 0) and the share answered with the new value.

None of the router's rules was fitted on these questions: its threshold is each collection's own
calibrated gate, and its one constant (the agentic route's typical cost) comes from bench_rag.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from assistant.runtime import apply_defaults  # noqa: E402

apply_defaults()

from assistant.routes import RouteContext, build_route  # noqa: E402
from assistant.scoring import contains  # noqa: E402
from bench_generate import cpu_model  # noqa: E402
from ingestion.home import Home  # noqa: E402
from rag.chat_model import GenerationOptions  # noqa: E402

OUT = REPO / "benchmarks" / "out" / "router.json"


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def cli(home: Path, *args: str) -> dict:
    env = {**os.environ, "PYTHONPATH": str(REPO), "RAGFT_HOME": str(home), "HF_HUB_OFFLINE": "1"}
    proc = subprocess.run([sys.executable, "-m", "assistant.cli", *args, "--json"], capture_output=True, text=True, env=env, cwd=REPO)
    if proc.returncode != 0:
        raise SystemExit(f"bench_router: `ragft {' '.join(args[:2])}` failed: {proc.stderr.strip()[-1500:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def questions(edition: str) -> list[dict]:
    rows = [json.loads(line) for line in (REPO / "ingestion" / "sample_corpus" / "questions.jsonl").read_text().splitlines() if line.strip()]
    return [r for r in rows if edition in r["editions"]]


def right(q: dict, answer: str, abstained: bool, gold_key: str = "answer") -> float:
    if q["kind"] == "unanswerable":
        return float(abstained)
    return 0.0 if abstained else contains(answer, q[gold_key])


def ask_all(home: Home, name: str, qs: list[dict], gold_key: str = "answer") -> dict[str, dict]:
    route = build_route(name, RouteContext(home=home, options=GenerationOptions(max_tokens=64, deterministic=True)))
    out = {}
    for q in qs:
        t = time.perf_counter()
        res = route.answer(q["question"])
        chosen = res.steps[0].get("chosen") if res.steps and res.steps[0].get("step") == "router" else name
        out[q["id"]] = {"right": right(q, res.answer, res.abstained, gold_key), "chosen": chosen,
                        "seconds": round(time.perf_counter() - t, 3), "answer": res.answer[:200]}
    if hasattr(route, "close"):
        route.close()
    log(f"{name}: {statistics.fmean(r['right'] for r in out.values()):.3f} right on {len(qs)}")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--routes", default="naive,agentic,finetuned,hybrid")
    parser.add_argument("--epochs", type=float, default=1.0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    fixed = args.routes.split(",")
    with tempfile.TemporaryDirectory(prefix="bench-router-") as tmp:
        root = Path(tmp)
        cli(root, "sample", "--edition", "v1", "--ingest")
        built = cli(root, "dataset", "build", str(root / "sample-corpus"), "--out", str(root / "data.jsonl"))
        t = time.perf_counter()
        trained = cli(root, "finetune", "--data", str(root / "data.jsonl"), "--name", "sample-v1", "--preset", "quick",
                      "--epochs", str(args.epochs))
        train_s = time.perf_counter() - t
        log(f"dataset {built.get('rows')} rows; adapter trained in {train_s:.0f} s")
        home = Home.resolve(root)
        qs = questions("v1")
        runs = {name: ask_all(home, name, qs) for name in [*fixed, "auto"]}
        rows, by_kind = [], defaultdict(list)
        for q in qs:
            oracle = max(runs[n][q["id"]]["right"] for n in fixed)
            auto = runs["auto"][q["id"]]
            picked = runs[auto["chosen"]][q["id"]]["right"] if auto["chosen"] in runs else auto["right"]
            row = {"id": q["id"], "kind": q["kind"], "oracle": oracle, "auto": auto["right"], "chosen": auto["chosen"],
                   "regret": oracle - auto["right"], "best_routes": [n for n in fixed if runs[n][q["id"]]["right"] == oracle],
                   "chosen_fixed_score": picked}
            rows.append(row)
            by_kind[q["kind"]].append(row)
        mean = lambda xs: round(statistics.fmean(xs), 3) if xs else None  # noqa: E731
        summary = {"n": len(rows), "oracle": mean([r["oracle"] for r in rows]), "auto": mean([r["auto"] for r in rows]),
                   **{name: mean([runs[name][q["id"]]["right"] for q in qs]) for name in fixed},
                   "choices": dict(Counter(r["chosen"] for r in rows)),
                   "latency_p50_s": {name: round(statistics.median(v["seconds"] for v in runs[name].values()), 3) for name in runs},
                   "regret_by_kind": {k: {"n": len(v), "oracle": mean([r["oracle"] for r in v]), "auto": mean([r["auto"] for r in v]),
                                          "regret": mean([r["regret"] for r in v]),
                                          "choices": dict(Counter(r["chosen"] for r in v))} for k, v in sorted(by_kind.items())}}
        # v2: the adapter's documents change; the changed-fact questions again
        cli(root, "sample", "--edition", "v2", "--ingest")
        changed = [q for q in questions("v2") if q["kind"] == "changed"]
        after = ask_all(home, "auto", changed, gold_key="answer_v2")
        stale = {"n": len(changed), "to_finetuned_alone": mean([after[q["id"]]["chosen"] == "finetuned" for q in changed]),
                 "to_hybrid": mean([after[q["id"]]["chosen"] == "hybrid" for q in changed]),
                 "new_value": mean([after[q["id"]]["right"] for q in changed]),
                 "old_value": mean([contains(after[q["id"]]["answer"], q["answer"]) for q in changed]),
                 "choices": dict(Counter(after[q["id"]]["chosen"] for q in changed))}
    result = {"date": date.today().isoformat(), "cpu": cpu_model(), "train_s": round(train_s, 1),
              "train": {k: trained.get(k) for k in ("global_step", "tokens_per_s", "train_loss")}, "v1": summary, "after_v2": stale}
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps({**result, "rows": rows}, indent=1))
    print(json.dumps(result, indent=None if args.json else 1))


if __name__ == "__main__":
    main()
