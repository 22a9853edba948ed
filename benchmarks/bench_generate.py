""".venv/bin/python benchmarks/bench_generate.py [--json] [--home DIR] [--max-tokens 48] [--threads N]

Generation speed and memory of every local backend on the same prompts, in one run:
llama.cpp on the bundled GGUF vs transformers fp32 / bitsandbytes NF4 / int8 on its converted
checkpoint. Each backend runs in its own child process, so its peak RSS is its own. Reports
prompt-processing (prefill) and decode tokens/s, first-token latency, weight memory and peak RSS,
and compares decode speed with the memory-bandwidth bound (weight bytes read per token /
bandwidth measured by copying a large numpy array).

Targets (issue 3): llama.cpp decode >= 5x transformers fp32 decode; NF4 weights <= 40% of fp32.
``llamacpp-gguf-1thread`` runs the same GGUF pinned to one thread for prompt and decode: the
baseline for the backend's default of every core for the prompt and half of them for decoding.
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
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from assistant.runtime import apply_defaults  # noqa: E402

apply_defaults()  # OpenMP threads must not spin on a shared machine: see assistant/runtime.py

BACKENDS = {  # benchmark name -> registry model
    "llamacpp-gguf": "smollm2-135m",
    "llamacpp-gguf-1thread": "smollm2-135m",  # same model pinned to one thread: the prompt-threads baseline
    "transformers-fp32": "smollm2-135m-hf",
    "transformers-nf4": "smollm2-135m-nf4",
    "transformers-int8": "smollm2-135m-int8",
}
# A RAG-sized context (~250 tokens) makes prefill measurable; open-ended asks keep decode going.
CONTEXT = (
    "The Eiffel Tower is a wrought-iron lattice tower on the Champ de Mars in Paris, France. It is named "
    "after the engineer Gustave Eiffel, whose company designed and built the tower from 1887 to 1889. "
    "Locally nicknamed the Iron Lady, it was constructed as the centrepiece of the 1889 World's Fair, and "
    "to crown the centennial anniversary of the French Revolution. Although initially criticised by some "
    "of France's leading artists and intellectuals for its design, it has since become a global cultural "
    "icon of France and one of the most recognisable structures in the world. The tower received "
    "5,889,000 visitors in 2022. It is 330 metres tall, about the same height as an 81-storey building, "
    "and the tallest structure in Paris. Its base is square, measuring 125 metres on each side. During "
    "its construction, the Eiffel Tower surpassed the Washington Monument to become the tallest "
    "man-made structure in the world, a title it held for 41 years until the Chrysler Building in New "
    "York City was finished in 1930. The tower has three levels for visitors, with restaurants on the "
    "first and second levels. The top level's upper platform is 276 m above the ground."
)
PROMPTS = [
    f"Context:\n{CONTEXT}\n\nUsing the context, write a long, detailed essay about the history of the tower.",
    f"Context:\n{CONTEXT}\n\nDescribe, step by step and in detail, a visit to all three levels of the tower.",
]


def measure_bandwidth_gb_s(size_mb: int = 512, repeats: int = 5) -> float:
    """Best of ``repeats`` single-threaded copies; counts read + write bytes (STREAM 'copy')."""
    import numpy as np

    src = np.ones(size_mb * 2**20 // 8, dtype=np.float64)
    dst = np.empty_like(src)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        np.copyto(dst, src)
        best = min(best, time.perf_counter() - start)
    return 2 * src.nbytes / best / 1e9


def peak_rss_mb() -> float:
    """This process's peak RSS: VmHWM (per address space, so not inherited from the parent at
    fork/exec the way ru_maxrss is), falling back to ru_maxrss off Linux."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def worker(name: str, home_dir: str | None, max_tokens: int, threads: int) -> dict:
    """Runs in a child process: load one backend, warm up, generate on every prompt."""
    import dataclasses

    from assistant.llm import get_model, resolve_spec
    from ingestion.home import Home
    from rag.chat_model import GenerationOptions

    home = Home.resolve(home_dir)
    spec = resolve_spec(BACKENDS[name], home)
    if threads or name == "llamacpp-gguf-1thread":
        spec = dataclasses.replace(spec, n_threads=threads or 1)
    start = time.perf_counter()
    model = get_model(spec, home=home)
    load_s = time.perf_counter() - start
    llama = name.startswith("llamacpp")
    prompt_threads = model.llm.n_threads_batch if llama else None
    if llama:
        weights, threads = model.path.stat().st_size, model.llm.n_threads
    else:
        import torch

        weights, threads = model.weights_bytes, torch.get_num_threads()
    opts = GenerationOptions(deterministic=True, max_tokens=max_tokens)
    model.generate([{"role": "user", "content": "Hello"}], GenerationOptions(deterministic=True, max_tokens=4))
    prompt_tokens = decode_tokens = 0
    prefill_s = decode_s = 0.0
    firsts = []
    for prompt in PROMPTS:
        if llama:
            model.llm.reset()  # no KV-cache reuse between prompts: measure a cold prefill each time
        done = model.generate([{"role": "user", "content": prompt}], opts)
        firsts.append(done.first_token_s)
        prompt_tokens += done.prompt_tokens
        prefill_s += done.first_token_s
        decode_tokens += done.completion_tokens - 1
        decode_s += done.total_s - done.first_token_s
    return {
        "decode_tok_s": round(decode_tokens / decode_s, 2),
        "prefill_tok_s": round(prompt_tokens / prefill_s, 1),
        "first_token_s": round(statistics.median(firsts), 3),
        "weights_mb": round(weights / 2**20, 1),
        "peak_rss_mb": peak_rss_mb(),
        "load_s": round(load_s, 2),
        "threads": threads,  # default: each library's own (llama.cpp: half the cores; torch: all)
        "prompt_threads": prompt_threads,  # llama.cpp's prefill threads (default: every core)
        "decode_tokens": decode_tokens,
        "prompt_tokens": prompt_tokens,
    }


def cpu_model() -> str:
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        return next(line.split(":", 1)[1].strip() for line in out.splitlines() if line.startswith("Model name"))
    except (OSError, subprocess.CalledProcessError, StopIteration):
        return platform.processor() or "unknown"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[2])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--home", default=None, help="ragft data dir (holds the converted checkpoint)")
    parser.add_argument("--max-tokens", type=int, default=48, help="tokens generated per prompt")
    parser.add_argument("--threads", type=int, default=0, help="CPU threads for every backend (default: each library's own)")
    parser.add_argument("--worker", choices=[*BACKENDS, "prepare"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker == "prepare":  # convert once, outside the timings; then measure bandwidth
        from finetune.base_model import ensure_hf_checkpoint
        from ingestion.home import Home

        ensure_hf_checkpoint(Home.resolve(args.home))
        print(json.dumps({"bandwidth_gb_s": measure_bandwidth_gb_s()}))
        return
    if args.worker:
        print(json.dumps(worker(args.worker, args.home, args.max_tokens, args.threads)))
        return

    # Everything heavy runs in children: this process stays small and each child's peak is its own.
    bandwidth = _child("prepare", args)["bandwidth_gb_s"]
    results = {}
    for name in BACKENDS:
        print(f"bench_generate: {name}...", file=sys.stderr, flush=True)
        try:
            row = _child(name, args)
        except RuntimeError as exc:
            results[name] = {"error": str(exc)}
            continue
        # Decode reads every weight once per token: bandwidth / weight bytes is the speed limit.
        row["bandwidth_bound_tok_s"] = round(bandwidth * 1e9 / (row["weights_mb"] * 2**20), 1)
        row["pct_of_bound"] = round(100 * row["decode_tok_s"] / row["bandwidth_bound_tok_s"], 1)
        results[name] = row
    payload = {
        "backends": results,
        "bandwidth_gb_s": round(bandwidth, 2),
        "ratios": _ratios(results),
        "machine": {"cpu": cpu_model(), "cores": os.cpu_count(), "date": time.strftime("%Y-%m-%d"),
                    "load_avg_1m": round(os.getloadavg()[0], 2)},  # other work on the box skews timings
        "prompts": len(PROMPTS),
        "max_tokens": args.max_tokens,
    }
    if args.json:
        print(json.dumps(payload))
    else:
        print(_table(payload))


def _child(worker_name: str, args: argparse.Namespace) -> dict:
    cmd = [sys.executable, __file__, "--worker", worker_name, "--max-tokens", str(args.max_tokens), "--threads", str(args.threads)]
    cmd += ["--home", args.home] if args.home else []
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "failed")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _ratios(results: dict) -> dict:
    def get(name: str, key: str) -> float | None:
        return results.get(name, {}).get(key)

    out = {}
    if get("llamacpp-gguf", "decode_tok_s") and get("transformers-fp32", "decode_tok_s"):
        out["llamacpp_over_fp32_decode"] = round(get("llamacpp-gguf", "decode_tok_s") / get("transformers-fp32", "decode_tok_s"), 2)
    if get("llamacpp-gguf", "prefill_tok_s") and get("llamacpp-gguf-1thread", "prefill_tok_s"):
        out["llamacpp_prefill_default_over_1thread"] = round(
            get("llamacpp-gguf", "prefill_tok_s") / get("llamacpp-gguf-1thread", "prefill_tok_s"), 2)
    if get("transformers-nf4", "weights_mb") and get("transformers-fp32", "weights_mb"):
        out["nf4_over_fp32_weights"] = round(get("transformers-nf4", "weights_mb") / get("transformers-fp32", "weights_mb"), 3)
    return out


def _table(payload: dict) -> str:
    cols = ["decode_tok_s", "prefill_tok_s", "first_token_s", "weights_mb", "peak_rss_mb", "bandwidth_bound_tok_s", "pct_of_bound"]
    lines = [f"{'backend':<18}" + "".join(f"{c:>22}" for c in cols)]
    for name, row in payload["backends"].items():
        cells = "".join(f"{row.get(c, '-'):>22}" for c in cols) if "error" not in row else f"  error: {row['error']}"
        lines.append(f"{name:<18}{cells}")
    lines.append(f"memory bandwidth (numpy copy): {payload['bandwidth_gb_s']} GB/s; ratios: {payload['ratios']}")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
