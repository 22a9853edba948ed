"""Training throughput: the ragft recipe vs a plain transformers Trainer + PEFT baseline.

    .venv/bin/python benchmarks/bench_train.py [--examples 128] [--reps 1] [--threads N] [--no-raft] [--quick] [--no-throughput] [--json]

Writes the report to benchmarks/out/train.json too.

Same model (the bundled SmolLM2-135M-Instruct, converted to an HF checkpoint), same LoRA (r=16,
alpha=32, all linear layers, no dropout), same objective (loss on assistant tokens only), same
examples (N train rows drawn with a fixed seed from the sample corpus's instruction dataset built
with ``ragft dataset build --raft``: short QA and paraphrase rows mixed with long RAFT rows that
carry retrieved passages, 75 tokens median, 424 at p95; ``--no-raft`` for the QA rows alone, 67 /
99), one pass each, same precision (``--precision``, fp32 by default), same learning rate:

- recipe:   ``finetune.train`` (TRL SFTTrainer): packed best-fit into 512-token rows, padding-free,
            LM head only on the positions that carry a loss.
- baseline: ``transformers.Trainer`` + ``peft.get_peft_model``: batches of 8 examples padded to
            the longest (``DataCollatorForSeq2Seq``), full logits, cross-entropy with -100 labels.

Tokens/s counts real (non-pad) tokens and leaves out the first optimizer step (warm-up). Each arm
runs in its own process, so peak RSS is per arm; with ``--reps`` > 1 the arms alternate and the
median is kept (robust to other load on the machine). FLOP limit: the best fp32 matmul GFLOP/s
measured here, against 6 * params * tokens/s (the usual dense-training estimate; LoRA skips the
frozen weights' gradients, so about 4/6 of that is really needed).

``--quick`` also times the quick preset end to end on the sample corpus: ``ragft dataset build``
of sample v1, then ``ragft finetune --preset quick`` (base conversion cached beforehand), wall
clock and CPU seconds (user + system) of each command, since on a shared machine wall time
inflates with the other load while CPU seconds barely do; then the knowledge check on that adapter
(``--per-group``, ``--max-new``).

The knowledge check (``bench_knowledge.py --adapter NAME`` alone; ``bench_knowledge.py --inject``
for the several-epoch experiment on a small corpus) is described in ``benchmarks/bench_knowledge.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "benchmarks" / "out" / "train.json"
sys.path.insert(0, str(REPO))

from assistant.runtime import apply_defaults  # noqa: E402

apply_defaults()  # OpenMP threads must not spin on a shared machine: see assistant/runtime.py

SAMPLE_V1 = REPO / "ingestion" / "sample_corpus" / "v1"
LORA = dict(r=16, lora_alpha=32, lora_dropout=0.0)
LEARNING_RATE = 1e-3
BASELINE_BATCH = 8
PACKED_LENGTH = 1024  # holds the longest RAFT row (659 tokens), so neither arm truncates


def log(msg: str) -> None:
    print(f"bench_train: {msg}", file=sys.stderr, flush=True)


def _children_cpu() -> float:
    """User + system CPU seconds of finished child processes. On a machine shared with other work,
    wall time inflates but CPU seconds do not (much): cpu_s / cores is the wall time it would take alone."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def build_dataset(out: Path, env: dict, raft: bool = False) -> float:
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "assistant.cli", "dataset", "build", str(SAMPLE_V1), "--out", str(out), "--json"]
                          + (["--raft"] if raft else []),
                          capture_output=True, text=True, env=env, cwd=REPO)
    if proc.returncode != 0:
        raise SystemExit(f"dataset build failed: {proc.stderr.strip()}")
    return time.perf_counter() - start


def subset(data: Path, out: Path, n: int) -> Path:
    """``n`` train rows drawn with a fixed seed (the builder writes RAFT rows last, so a prefix would miss them)."""
    import random

    rows = [l for l in data.read_text().splitlines() if l.strip() and json.loads(l).get("split") == "train"]
    rows = random.Random(0).sample(rows, min(n, len(rows)))
    out.write_text("".join(r + "\n" for r in rows))
    return out


# -- the two arms (each runs in a child process) ------------------------------------------------
def arm_recipe(data: Path, home_dir: Path, base_path: str, threads: int | None, precision: str) -> dict:
    from finetune.config import TrainConfig
    from finetune.train import finetune
    from ingestion.home import Home

    home = Home.resolve(home_dir)
    cfg = TrainConfig.from_preset(
        "quick", data=data, name="bench-recipe", base=base_path, epochs=1, batch_size=1, grad_accum=1, max_length=PACKED_LENGTH,
        learning_rate=LEARNING_RATE, lora_r=LORA["r"], lora_alpha=LORA["lora_alpha"], lora_dropout=LORA["lora_dropout"],
        early_stopping_patience=0, save_steps=10**6, warmup_ratio=0.05, precision=precision, paraphrases_per_fact=-1,
    )
    result = finetune(cfg, home, overwrite=True, threads=threads)
    rows = [json.loads(l) for l in (home.adapters_dir / "bench-recipe" / "metrics.jsonl").read_text().splitlines()]
    steps = [r for r in rows if "loss" in r and "num_tokens" in r]
    window_tokens = steps[-1]["num_tokens"] - steps[0]["num_tokens"]
    window_s = steps[-1]["time"] - steps[0]["time"]
    return {"steps": result.global_step, "examples": result.examples["train"], "real_tokens": int(steps[-1]["num_tokens"]),
            "padded_tokens": int(steps[-1]["num_tokens"]), "window_tokens": window_tokens, "window_s": round(window_s, 2),
            "tokens_per_s": round(window_tokens / window_s, 1), "final_loss": round(steps[-1]["loss"], 4)}


def arm_baseline(data: Path, base_path: str, threads: int | None, precision: str) -> dict:
    import torch
    from datasets import Dataset
    from peft import LoraConfig, get_peft_model
    from transformers import (AutoModelForCausalLM, AutoTokenizer, DataCollatorForSeq2Seq, Trainer, TrainerCallback,
                              TrainingArguments)

    from finetune.examples import encode_conversation, read_examples

    if threads:
        torch.set_num_threads(threads)
    tok = AutoTokenizer.from_pretrained(base_path)
    feats = []
    for ex in read_examples(data):
        ids, mask = encode_conversation(tok, ex.messages)
        ids, mask = ids[:PACKED_LENGTH], mask[:PACKED_LENGTH]
        feats.append({"input_ids": ids, "attention_mask": [1] * len(ids), "labels": [t if m else -100 for t, m in zip(ids, mask)]})
    model = AutoModelForCausalLM.from_pretrained(base_path, dtype=torch.float32)
    model = get_peft_model(model, LoraConfig(target_modules="all-linear", task_type="CAUSAL_LM", bias="none", **LORA))
    padder = DataCollatorForSeq2Seq(tok, padding="longest", label_pad_token_id=-100)
    seen = {"real": 0, "padded": 0}

    def count(module, args, kwargs):  # tokens that reach the model (the loader may run a batch ahead)
        mask = kwargs.get("attention_mask")
        if mask is not None and module.training:
            seen["real"] += int(mask.sum())
            seen["padded"] += int(mask.numel())

    model.register_forward_pre_hook(count, with_kwargs=True)
    marks: list[tuple[float, int]] = []

    class Mark(TrainerCallback):
        def on_step_end(self, args, state, control, **kwargs):
            marks.append((time.perf_counter(), seen["real"]))

    with tempfile.TemporaryDirectory() as tmp:
        args = TrainingArguments(
            output_dir=tmp, per_device_train_batch_size=BASELINE_BATCH, num_train_epochs=1, learning_rate=LEARNING_RATE,
            lr_scheduler_type="cosine", warmup_steps=0.05, logging_steps=1, save_strategy="no", report_to="none",
            seed=0, disable_tqdm=True, dataloader_pin_memory=False, remove_unused_columns=False,
            bf16=precision == "bf16", use_cpu=precision == "bf16" and not torch.cuda.is_available(),
        )
        trainer = Trainer(model=model, args=args, train_dataset=Dataset.from_list(feats), data_collator=padder, callbacks=[Mark()])
        trainer.train()
    losses = [h["loss"] for h in trainer.state.log_history if "loss" in h]
    window_tokens = marks[-1][1] - marks[0][1]
    window_s = marks[-1][0] - marks[0][0]
    return {"steps": trainer.state.global_step, "examples": len(feats), "real_tokens": seen["real"], "padded_tokens": seen["padded"],
            "window_tokens": window_tokens, "window_s": round(window_s, 2), "tokens_per_s": round(window_tokens / window_s, 1),
            "final_loss": round(losses[-1], 4)}


def run_arm(name: str, data: Path, home_dir: Path, base_path: str, threads: int | None, precision: str) -> dict:
    """One arm in a fresh process; returns its JSON plus peak RSS."""
    cmd = [sys.executable, __file__, "--arm", name, "--data", str(data), "--home", str(home_dir), "--base", base_path,
           "--precision", precision]
    if threads:
        cmd += ["--threads", str(threads)]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)})
    if proc.returncode != 0:
        raise SystemExit(f"arm {name} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# -- machine limits ------------------------------------------------------------------------------
def matmul_gflops(threads: int | None, n: int = 2048, reps: int = 5) -> float:
    import torch

    if threads:
        torch.set_num_threads(threads)
    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b
    best = 0.0
    for _ in range(reps):
        start = time.perf_counter()
        for _ in range(4):
            a @ b
        best = max(best, 4 * 2 * n**3 / (time.perf_counter() - start) / 1e9)
    return best


def quick_preset(data: Path, home_dir: Path, env: dict, threads: int | None) -> dict:
    cmd = [sys.executable, "-m", "assistant.cli", "finetune", "--data", str(data), "--name", "bench-quick",
           "--preset", "quick", "--overwrite", "--json"]
    if threads:
        cmd += ["--threads", str(threads)]
    start, cpu0 = time.perf_counter(), _children_cpu()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=REPO)
    wall, cpu = time.perf_counter() - start, _children_cpu() - cpu0
    if proc.returncode != 0:
        raise SystemExit(f"quick preset failed: {proc.stderr[-3000:]}")
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    return {"wall_s": round(wall, 1), "cpu_s": round(cpu, 1), "train_s": out["seconds"], "steps": out["global_step"], "epochs": out["epochs"],
            "tokens_per_s": out["tokens_per_s"], "train_loss": out["train_loss"], "best_eval_loss": out["best_eval_loss"],
            "early_stopped": out["early_stopped"], "examples": out["examples"], "peak_rss_mb": out["peak_rss_mb"]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--examples", type=int, default=128, help="train rows used by both arms (default 128)")
    ap.add_argument("--reps", type=int, default=1, help="alternating repetitions per arm; the median is kept")
    ap.add_argument("--threads", type=int, default=None, help="torch CPU threads in every arm (default: torch's choice)")
    ap.add_argument("--data", type=Path, default=None, help="instruction dataset (default: built from sample v1)")
    ap.add_argument("--no-raft", dest="raft", action="store_false", help="build the default dataset without RAFT rows")
    ap.add_argument("--precision", choices=("fp32", "bf16"), default="fp32", help="compute precision of both arms (default fp32)")
    ap.add_argument("--home", type=Path, default=None, help="data dir holding the converted base (default: $RAGFT_HOME)")
    ap.add_argument("--quick", action="store_true", help="also time the quick preset end to end on the sample corpus")
    ap.add_argument("--no-throughput", dest="throughput", action="store_false", help="skip the recipe-vs-baseline arms")
    ap.add_argument("--per-group", type=int, default=None, help="knowledge check: at most N questions per group (default: all)")
    ap.add_argument("--max-new", type=int, default=48, help="knowledge check: tokens generated per answer (default 48)")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--arm", choices=("recipe", "baseline"), help=argparse.SUPPRESS)
    ap.add_argument("--base", help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.arm:  # child process
        if args.arm == "recipe":
            result = arm_recipe(args.data, args.home, args.base, args.threads, args.precision)
        else:
            result = arm_baseline(args.data, args.base, args.threads, args.precision)
        result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
        print(json.dumps(result))
        return

    from finetune.base_model import ensure_hf_checkpoint
    from ingestion.home import Home

    home = Home.resolve(args.home)
    base_path = str(ensure_hf_checkpoint(home))
    env = {**os.environ, "PYTHONPATH": str(REPO), "RAGFT_HOME": str(home.root), "HF_HUB_OFFLINE": "1"}
    report: dict = {"machine": machine(args.threads)}
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        if args.throughput:
            report.update(throughput(args, tmp, env, base_path))
        if args.quick:
            report.update(quick_and_knowledge(tmp, home.root, env, args.threads, args.max_new, args.per_group))
    report["machine"]["load_avg_end"] = [round(x, 2) for x in os.getloadavg()]
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=None if args.json else 2))


def machine(threads: int | None) -> dict:
    model = next((l.split(":", 1)[1].strip() for l in Path("/proc/cpuinfo").read_text().splitlines() if l.startswith("model name")),
                 platform.processor() or platform.machine())
    return {"cpu": model, "cores": os.cpu_count(), "threads": threads, "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "load_avg_start": [round(x, 2) for x in os.getloadavg()]}


def quick_and_knowledge(tmp: Path, home_dir: Path, env: dict, threads: int | None, max_new: int, per_group: int | None) -> dict:
    """The quick preset end to end (dataset build + finetune, each its own command), then the knowledge check."""
    log("timing the quick preset on the sample corpus (dataset build + finetune)")
    qdata = tmp / "quick" / "sample.jsonl"
    qdata.parent.mkdir()
    cpu0 = _children_cpu()
    build = build_dataset(qdata, env)
    build_cpu = _children_cpu() - cpu0
    quick = {"dataset_build_s": round(build, 1), "dataset_build_cpu_s": round(build_cpu, 1), **quick_preset(qdata, home_dir, env, threads)}
    quick["total_wall_s"] = round(build + quick["wall_s"], 1)
    quick["total_cpu_s"] = round(build_cpu + quick["cpu_s"], 1)
    # What the two commands would take alone on the 2 cores: CPU seconds spread over the cores torch uses.
    quick["total_cpu_s_per_core"] = round(quick["total_cpu_s"] / (threads or os.cpu_count() or 1), 1)
    quick["target_wall_s"] = 600
    quick["load_avg_end"] = [round(x, 2) for x in os.getloadavg()]
    log(f"quick preset: {quick['total_wall_s']} s wall, {quick['total_cpu_s']} CPU s")
    log("knowledge check: base vs the quick adapter on the hand-written sample questions")
    from bench_knowledge import knowledge_check  # same directory

    return {"quick_preset": quick, "knowledge": knowledge_check(home_dir, "bench-quick", threads, max_new, per_group)}


def throughput(args: argparse.Namespace, tmp: Path, env: dict, base_path: str) -> dict:
    """Recipe vs padded baseline on the same rows; arms alternate, medians kept; matmul peak before and after."""
    data, build_s = args.data, None
    if data is None:
        data = tmp / "sample.jsonl"
        build_s = build_dataset(data, env, raft=args.raft)
        log(f"built the sample-corpus dataset in {build_s:.1f} s")
    rows = subset(data, tmp / "bench.jsonl", args.examples)
    peaks = [matmul_gflops(args.threads)]
    runs: dict[str, list[dict]] = {"baseline": [], "recipe": []}
    for rep in range(args.reps):
        order = ("baseline", "recipe") if rep % 2 == 0 else ("recipe", "baseline")
        for arm in order:
            log(f"rep {rep + 1}/{args.reps}: {arm}")
            runs[arm].append(run_arm(arm, rows, tmp / f"home-{arm}", base_path, args.threads, args.precision))
            runs[arm][-1]["load_avg_1m"] = round(os.getloadavg()[0], 2)
            log(f"  {runs[arm][-1]['tokens_per_s']} tokens/s, peak RSS {runs[arm][-1]['peak_rss_mb']} MB")
    peaks.append(matmul_gflops(args.threads))
    peak = max(peaks)
    params = 134_515_008  # SmolLM2-135M (tied embeddings counted once)
    try:
        import torch
        from transformers import AutoConfig, AutoModelForCausalLM

        with torch.device("meta"):
            params = AutoModelForCausalLM.from_config(AutoConfig.from_pretrained(base_path)).num_parameters()
    except Exception:
        pass
    summary = {}
    for arm, reps in runs.items():
        med = sorted(reps, key=lambda r: r["tokens_per_s"])[len(reps) // 2]
        achieved = 6 * params * med["tokens_per_s"] / 1e9
        summary[arm] = {**med, "tokens_per_s_all": [r["tokens_per_s"] for r in reps],
                        "peak_rss_mb_all": [r["peak_rss_mb"] for r in reps],
                        "pad_fraction": round(1 - med["real_tokens"] / med["padded_tokens"], 3),
                        "model_gflops_6N": round(achieved, 1), "fraction_of_matmul_peak": round(achieved / peak, 3)}
    speedup = round(summary["recipe"]["tokens_per_s"] / summary["baseline"]["tokens_per_s"], 2)
    return {
        "limits": {"matmul_gflops_fp32": round(peak, 1), "matmul_gflops_fp32_runs": [round(p, 1) for p in peaks]},
        "model": {"name": "SmolLM2-135M-Instruct", "params": params, "precision": args.precision},
        "data": {"examples": args.examples, "raft_rows": args.raft if args.data is None else None,
                 "dataset_build_s": round(build_s, 1) if build_s else None},
        "baseline": summary["baseline"], "recipe": summary["recipe"],
        "speedup": speedup, "target_speedup": 1.5, "target_met": speedup >= 1.5,
    }


if __name__ == "__main__":
    main()
