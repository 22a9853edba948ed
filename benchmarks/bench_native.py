""".venv/bin/python benchmarks/bench_native.py [--json] [--rounds 3] [--max-tokens 48]

What the llama.cpp self-check (``finetune/native.py``) costs, in one run on this machine:

- ``direct``: ``llama_cpp.Llama(model_path=...)`` as the backend loaded it before the check
  existed (extra buffer types on: AMX where the CPU has it, repacked weights);
- ``checked``: the backend as it loads now, through ``get_model`` on a fresh data dir, so the
  one-time child-process check is paid and timed (``check_s``) and its verdict applied;
- ``safe``: the fallback configuration (``use_extra_bufts = False``), for the record of what an
  affected CPU gives up.

Each arm runs in its own child process per round, the arms interleaved, on the bundled Q4_1
GGUF and on Q4_0 / Q8_0 requantized from it (weight types with repacked kernels on x86), with
the same prompts, greedy, cold KV cache per prompt. Prints decode and prefill tokens/s (median
over rounds) and the ratios checked/direct (target: >= 0.95 wherever direct works) and
safe/direct. Results go to ``benchmarks/out/native.json``.
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
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from assistant.runtime import apply_defaults  # noqa: E402

apply_defaults()

OUT = REPO / "benchmarks" / "out" / "native.json"
ARMS = ("direct", "checked", "safe")
PROMPTS = (
    "Explain in two sentences why the sky is blue.",
    "Write a short note to a colleague about moving Tuesday's meeting to Thursday at 10:00, and ask "
    "whether the room on the third floor is still free. Mention that the agenda stays the same.",
    "List three things to check before deploying a web service to production, one line each, "
    "covering configuration, monitoring and rollback. " * 3,
)


def worker(arm: str, gguf: str, max_tokens: int) -> dict:
    from assistant.llm.llamacpp import default_batch_threads, default_threads

    threads = dict(n_ctx=2048, n_threads=default_threads(), n_threads_batch=default_batch_threads(), verbose=False)
    check_s = 0.0
    if arm == "direct":
        import llama_cpp

        llm = llama_cpp.Llama(model_path=gguf, **threads)
    elif arm == "safe":
        from finetune.native import load_llama

        llm = load_llama(Path(gguf), extra_bufts=False, **threads)
    else:
        from assistant.llm import get_model
        from assistant.llm.base import ModelSpec
        from ingestion.home import Home

        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            model = get_model(ModelSpec(name="bench", backend="llamacpp", path=gguf, context_window=2048),
                              home=Home.resolve(tmp))
            check_s = sum(c.seconds for c in model.verdict.checks)
            load_s = time.perf_counter() - start
        llm = model.llm
    prefill_tokens = decode_tokens = 0
    prefill_s = decode_s = 0.0
    list(zip(range(4), llm.generate(llm.tokenize(b"Hello", add_bos=True), temp=0.0, top_k=1, reset=True)))  # warm-up
    for prompt in PROMPTS:
        ids = llm.tokenize(prompt.encode(), add_bos=True)
        llm.reset()
        start = time.perf_counter()
        first = None
        n = 0
        for _ in llm.generate(ids, temp=0.0, top_k=1, top_p=1.0, min_p=0.0, repeat_penalty=1.0, reset=True):
            n += 1
            if first is None:
                first = time.perf_counter()
            if n >= max_tokens:
                break
        end = time.perf_counter()
        prefill_tokens += len(ids)
        prefill_s += first - start
        decode_tokens += n - 1
        decode_s += end - first
    row = {"decode_tok_s": round(decode_tokens / decode_s, 2), "prefill_tok_s": round(prefill_tokens / prefill_s, 1)}
    if arm == "checked":
        row.update(check_s=round(check_s, 2), load_s=round(load_s, 2), configuration="fast" if model.verdict.extra_bufts else "safe")
    return row


def requantize(src: Path, dst: Path, ftype: str) -> Path:
    import llama_cpp

    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = {"q4_0": llama_cpp.LLAMA_FTYPE_MOSTLY_Q4_0, "q8_0": llama_cpp.LLAMA_FTYPE_MOSTLY_Q8_0}[ftype]
    params.allow_requantize = True
    if llama_cpp.llama_model_quantize(str(src).encode(), str(dst).encode(), params) != 0:
        raise SystemExit(f"bench_native: could not requantize to {ftype}")
    return dst


def child(arm: str, gguf: Path, max_tokens: int) -> dict:
    proc = subprocess.run([sys.executable, __file__, "--worker", arm, "--gguf", str(gguf), "--max-tokens", str(max_tokens)],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        how = f"killed by signal {-proc.returncode}" if proc.returncode < 0 else (proc.stderr.strip().splitlines() or ["failed"])[-1]
        return {"error": how}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description="cost of the llama.cpp self-check")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--max-tokens", type=int, default=48)
    parser.add_argument("--worker", choices=ARMS, help=argparse.SUPPRESS)
    parser.add_argument("--gguf", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.gguf, args.max_tokens)))
        return

    from finetune.base_model import bundled_gguf
    from finetune.native import cpu_features, llama_build

    results: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        models = {"q4_1": bundled_gguf()}
        for ftype in ("q4_0", "q8_0"):
            models[ftype] = requantize(bundled_gguf(), Path(tmp) / f"smollm2-{ftype}.gguf", ftype)
        for ftype, path in models.items():
            runs: dict[str, list[dict]] = {arm: [] for arm in ARMS}
            for r in range(args.rounds):
                for arm in ARMS[r % 3:] + ARMS[: r % 3]:  # rotate the order: no arm always runs first
                    print(f"bench_native: {ftype} {arm} round {r + 1}", file=sys.stderr, flush=True)
                    runs[arm].append(child(arm, path, args.max_tokens))
            results[ftype] = summarise(runs)
    cpu = cpu_features()
    payload = {"models": results, "machine": {"cpu": cpu["model"], "flags": cpu["flags"], "cores": cpu["cores"],
               "llama_cpp": llama_build()["llama_cpp_python"], "date": time.strftime("%Y-%m-%d"),
               "load_avg_1m": round(os.getloadavg()[0], 2)}, "rounds": args.rounds, "max_tokens": args.max_tokens}
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(payload, indent=1))
    print(json.dumps(payload) if args.json else table(payload))


def summarise(runs: dict[str, list[dict]]) -> dict:
    out: dict = {}
    for arm, rows in runs.items():
        ok = [r for r in rows if "error" not in r]
        if not ok:
            out[arm] = {"error": rows[0]["error"]}
            continue
        out[arm] = {k: statistics.median(r[k] for r in ok) for k in ("decode_tok_s", "prefill_tok_s")}
        if arm == "checked":
            out[arm].update(check_s=statistics.median(r["check_s"] for r in ok), configuration=ok[0]["configuration"])
    for arm in ("checked", "safe"):
        if "error" not in out.get(arm, {"error": 1}) and "error" not in out.get("direct", {"error": 1}):
            for k in ("decode_tok_s", "prefill_tok_s"):
                out[f"{arm}_over_direct_{k.split('_')[0]}"] = round(out[arm][k] / out["direct"][k], 3)
    return out


def table(payload: dict) -> str:
    lines = [f"{'weights':<8}{'arm':<9}{'decode tok/s':>14}{'prefill tok/s':>15}  notes"]
    for ftype, res in payload["models"].items():
        for arm in ARMS:
            row = res.get(arm, {})
            if "error" in row:
                lines.append(f"{ftype:<8}{arm:<9}  error: {row['error']}")
                continue
            note = f"check {row['check_s']} s, {row['configuration']}" if arm == "checked" else ""
            lines.append(f"{ftype:<8}{arm:<9}{row['decode_tok_s']:>14}{row['prefill_tok_s']:>15}  {note}")
        ratios = {k: v for k, v in res.items() if "_over_" in k}
        lines.append(f"{'':<8}ratios: {ratios}")
    m = payload["machine"]
    lines.append(f"machine: {m['cpu']} ({m['cores']} cores; {' '.join(m['flags'])}), llama-cpp-python {m['llama_cpp']}, "
                 f"load {m['load_avg_1m']}, {m['date']}")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
