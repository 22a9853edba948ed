"""The reference result: the whole RAG-versus-fine-tuning protocol on the bundled sample corpus.

    .venv/bin/python benchmarks/reference_eval.py [--preset quick] [--out docs/results/sample-v1-v2]

On a fresh data dir, with the default model, the exact commands a user would type:

1. ``ragft sample --edition v1 --ingest``: the v1 corpus, ingested and calibrated;
2. ``ragft dataset build HOME/sample-corpus --out HOME/data.jsonl``, then
   ``ragft finetune --data HOME/data.jsonl --name sample-v1 --preset PRESET``: an adapter on v1;
3. ``ragft export sample-v1 --format gguf --quant Q`` for f16, q8_0 and q4_k_m (the finetuned and
   hybrid routes serve the closest export that passed its check);
   ``ragft sample --edition v2 --ingest``: the documents change (a quarter of the files edited,
   one removed, one added), re-ingested incrementally; then ``ragft ask`` on a changed fact, to
   time an edit's way to a fresh answer against the time the adapter took to train;
4. ``ragft eval --qa HOME/sample-eval/qa-stable.jsonl --fresh HOME/sample-eval/fresh.jsonl
   --report OUT``: every route on the questions whose answer both editions share and on the
   facts that changed, were added or were deleted; then the fine-tuned adapter at every precision
   (``--quantization fp32,nf4,int8,f16,q8_0,q4_k_m``) on every third of those questions.

It writes OUT/ (the eval report, its plots and per-question results) and OUT/protocol.json
(commands, seconds per step, the machine), and prints the eval summary. Nothing in the data was
tuned to make a finding appear.
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
sys.path.insert(0, str(REPO / "benchmarks"))

from bench_generate import cpu_model  # noqa: E402

CHANGED_QUESTION = "How much does the Lanternfish Team plan cost per seat?"  # q110: EUR 49 in v1, EUR 59 in v2
NEW_VALUE = "59"


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def ragft(home: Path, *args: str) -> tuple[dict, float]:
    env = {**os.environ, "PYTHONPATH": str(REPO), "RAGFT_HOME": str(home), "HF_HUB_OFFLINE": "1"}
    log("$ ragft " + " ".join(a.replace(str(home), "$RAGFT_HOME") for a in args))
    t = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "assistant.cli", *args, "--json"], stdout=subprocess.PIPE, text=True,
                          env=env, cwd=REPO)
    seconds = time.perf_counter() - t
    if proc.returncode != 0:
        raise SystemExit(f"reference_eval: `ragft {' '.join(args[:2])}` failed (exit {proc.returncode})")
    return json.loads(proc.stdout.strip().splitlines()[-1]), seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="quick", choices=("quick", "full"))
    parser.add_argument("--out", default=str(REPO / "docs" / "results" / "sample-v1-v2"))
    parser.add_argument("--home", default=None, help="data dir to use (default: a fresh temporary one)")
    args = parser.parse_args()
    out = Path(args.out).resolve()
    home = Path(args.home) if args.home else Path(tempfile.mkdtemp(prefix="ragft-reference-"))
    steps: list[dict] = []

    def step(name: str, *cmd: str) -> dict:
        payload, seconds = ragft(home, *cmd)
        steps.append({"step": name, "command": "ragft " + " ".join(c.replace(str(home), "$RAGFT_HOME") for c in cmd),
                      "seconds": round(seconds, 1)})
        return payload

    step("ingest v1", "sample", "--edition", "v1", "--ingest")
    built = step("build dataset", "dataset", "build", str(home / "sample-corpus"), "--out", str(home / "data.jsonl"))
    trained = step("train adapter", "finetune", "--data", str(home / "data.jsonl"), "--name", "sample-v1", "--preset", args.preset)
    exports = {}
    for quant in ("f16", "q8_0", "q4_k_m"):  # GGUF exports: the finetuned route serves the best that passed its check
        try:
            exports[quant] = step(f"export {quant}", "export", "sample-v1", "--format", "gguf", "--quant", quant).get("verification")
        except SystemExit as exc:  # a quant whose check fails is refused; the eval reports it as not exported
            exports[quant] = {"error": str(exc)}
    t_edit = time.perf_counter()
    ingest = step("edit: ingest v2", "sample", "--edition", "v2", "--ingest")
    answer = step("ask a changed fact", "ask", CHANGED_QUESTION, "--route", "naive")
    fresh_s = time.perf_counter() - t_edit
    sets = home / "sample-eval"
    summary = step("evaluate", "eval", "--qa", str(sets / "qa-stable.jsonl"), "--fresh", str(sets / "fresh.jsonl"),
                   "--routes", "base,naive,agentic,finetuned,hybrid,auto", "--report", str(out))
    subset = sets / "qa-quantization.jsonl"  # every third stable question: the precisions compared on the same ones
    subset.write_text("".join(line + "\n" for i, line in enumerate((sets / "qa-stable.jsonl").read_text().splitlines()) if i % 3 == 0))
    quant = step("quantization", "eval", "--qa", str(subset), "--routes", "finetuned",
                 "--quantization", "fp32,nf4,int8,f16,q8_0,q4_k_m", "--report", str(out / "quantization"))
    train_s = next(s["seconds"] for s in steps if s["step"] == "train adapter")
    protocol = {
        "date": date.today().isoformat(), "cpu": cpu_model(), "cores": os.cpu_count(), "preset": args.preset,
        "steps": steps,
        "dataset_rows": built.get("rows") or built.get("counts"),
        "train": {k: trained.get(k) for k in ("global_step", "tokens_per_s", "train_loss", "seconds", "recall")},
        "exports": exports, "quantization": quant.get("quantization"),
        "ingest_v2": {k: ingest.get("ingest", {}).get(k) for k in ("added", "updated", "unchanged", "deleted", "seconds")},
        "time_to_fresh": {"edit_to_fresh_answer_s": round(fresh_s, 1), "fresh_answer": answer.get("answer"),
                          "answer_has_new_value": NEW_VALUE in (answer.get("answer") or ""), "retrain_s": train_s},
    }
    (out / "protocol.json").write_text(json.dumps(protocol, indent=1))
    log(json.dumps(protocol, indent=1))
    print(json.dumps({k: summary[k] for k in ("run_id", "routes", "freshness", "deletion", "router", "harness_overhead")}, indent=1))


if __name__ == "__main__":
    main()
