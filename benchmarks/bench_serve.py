"""``ragft serve`` under load: throughput and latency at 1, 4 and 16 clients, and the API's overhead.

    .venv/bin/python benchmarks/bench_serve.py [--set git] [--requests 16] [--home DIR]

A data dir ingests a real documentation set (``realdocs``; ``--set sample`` for the sample corpus)
and calibrates it as ``ragft ingest`` does. Then, in one run:

1. the API's overhead, paired: for each question, the naive route (default model, greedy, 64
   tokens) answers it in this process, then ``ragft serve`` (127.0.0.1, its own process) answers it
   through the ``openai`` client as ``ragft-naive``; overhead = median served latency over median
   in-process latency, minus 1 (target <= 10%), and the answers must be equal (greedy decoding:
   the API must not change them);
2. load: ``--load-requests`` questions through the API with 1, 4 and 16 concurrent clients, each
   level on a freshly started server (warmed with one other question) asking each question once,
   so every level sees the same mix and no level profits from an earlier one's caches (the
   sentence-embedding cache makes a repeated question ~15x faster); bounded, it ends by itself.

Reported: requests, errors, throughput (answers/s), p50/p95 latency per concurrency level.
Requests to one route share its model and take turns on it, so more clients raise latency, not
throughput; the figure shows that queueing is fair and nothing errors.
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
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Iterator

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from assistant.runtime import apply_defaults  # noqa: E402

apply_defaults()

from bench_generate import cpu_model  # noqa: E402
from ingestion.home import Home  # noqa: E402

MAX_TOKENS = 64
CONCURRENCY = (1, 4, 16)


def prepare(home: Home, name: str) -> list[str]:
    """Ingest and calibrate the set once; its questions."""
    from assistant.calibration import calibrate_collection
    from assistant.llm import DEFAULT_MODEL, get_model

    if name == "sample":
        from ingestion.sample import eval_sets, materialize
        from rag.indexing import ingest_paths

        if not home.records_db.is_file():
            materialize("v1", home.root / "sample-corpus")
            ingest_paths(home, [str(home.root / "sample-corpus")])
            calibrate_collection(home, model=get_model(DEFAULT_MODEL, home=home))
        stable = eval_sets("v1", home.root / "sample-eval")["stable"]
        rows = [json.loads(line) for line in stable.read_text(encoding="utf-8").splitlines() if line.strip()]
        return [r["question"] for r in rows if r.get("answers")]
    from realdocs import doc_sets, ingest

    ds = doc_sets()[name]
    if not home.records_db.is_file():
        ingest(home, ds)
        calibrate_collection(home, model=get_model(DEFAULT_MODEL, home=home))
    rows = [json.loads(line) for line in ds.questions.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [r["question"] for r in rows if r.get("answers")]


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 3)


def api_client(port: int):
    from openai import OpenAI

    return OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="unused", max_retries=0, timeout=600)


def ask_api(client, question: str) -> str:
    """``ragft-naive``'s answer through the API, with the settings of the in-process route."""
    reply = client.chat.completions.create(model="ragft-naive", max_tokens=MAX_TOKENS, temperature=0,
                                           messages=[{"role": "user", "content": question}])
    return reply.choices[0].message.content


def paired(home: Home, port: int, questions: list[str], warm: str) -> dict:
    """Each question in this process, then through the API: the same machine state for both."""
    from assistant.routes import RouteContext, build_route
    from rag.chat_model import GenerationOptions

    route = build_route("naive", RouteContext(home=home, options=GenerationOptions(max_tokens=MAX_TOKENS, deterministic=True)))
    client = api_client(port)
    route.answer(warm), ask_api(client, warm)  # warm both (a question not measured): models loaded
    local, remote, same = [], [], 0
    for q in questions:
        t = time.perf_counter()
        a = route.answer(q).answer
        local.append(time.perf_counter() - t)
        t = time.perf_counter()
        b = ask_api(client, q)
        remote.append(time.perf_counter() - t)
        same += a == b
    route.close()
    p50_local, p50_remote = statistics.median(local), statistics.median(remote)
    return {"requests": len(questions), "in_process_p50_s": round(p50_local, 3), "served_p50_s": round(p50_remote, 3),
            "in_process_total_s": round(sum(local), 2), "served_total_s": round(sum(remote), 2),
            "overhead": round(p50_remote / p50_local - 1, 4), "overhead_total": round(sum(remote) / sum(local) - 1, 4),
            "same_answers": f"{same}/{len(questions)}"}


@contextmanager
def serving(home: Home, port: int) -> Iterator[None]:
    """``ragft serve`` on 127.0.0.1:PORT for the block, stopped after it."""
    proc = start_server(home, port, home.root / "serve.log")
    try:
        yield
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def start_server(home: Home, port: int, log: Path) -> subprocess.Popen:
    import httpx

    env = {**os.environ, "PYTHONPATH": str(REPO), "HF_HUB_OFFLINE": "1"}
    env.pop("RAGFT_API_KEYS", None)
    proc = subprocess.Popen([sys.executable, "-m", "assistant.cli", "--home", str(home.root), "serve", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=log.open("w"), env=env, cwd=REPO)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        if proc.poll() is not None:
            break
        time.sleep(0.5)
    proc.kill()
    raise SystemExit(f"bench_serve: ragft serve did not start: {log.read_text()[-1500:]}")


def served(port: int, questions: list[str], clients: int) -> dict:
    """Every question once through the API from ``clients`` concurrent clients."""
    client = api_client(port)

    def ask(question: str) -> tuple[float, str | None]:
        t = time.perf_counter()
        try:
            ask_api(client, question)
            return time.perf_counter() - t, None
        except Exception as exc:  # counted, not raised: errors under load are the figure
            return time.perf_counter() - t, f"{type(exc).__name__}: {exc}"

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        results = list(pool.map(ask, questions))
    wall = time.perf_counter() - start
    latencies = [r[0] for r in results if r[1] is None]
    return {"clients": clients, "requests": len(questions), "errors": sum(r[1] is not None for r in results),
            "first_error": next((r[1] for r in results if r[1]), None), "wall_s": round(wall, 2),
            "throughput_rps": round(len(latencies) / wall, 3), "latency_p50_s": pct(latencies, 0.5) if latencies else None,
            "latency_p95_s": pct(latencies, 0.95) if latencies else None}


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", default="git", help="realdocs set (git, sqlite, httpd) or sample")
    parser.add_argument("--requests", type=int, default=16, help="questions of the paired overhead measurement")
    parser.add_argument("--load-requests", type=int, default=32, help="distinct questions asked at each concurrency level")
    parser.add_argument("--home", default=None, help="data dir (default: a temporary folder)")
    args = parser.parse_args()
    home = Home.resolve(Path(args.home or tempfile.mkdtemp(prefix="bench-serve-")))
    pool = prepare(home, args.set)
    questions, load = pool[: args.requests], pool[: args.load_requests]
    warm = pool[-1]  # asked first on every fresh server, never measured
    port = free_port()
    with serving(home, port):
        print(f"bench_serve: {len(questions)} questions from {args.set}; paired in-process / API", file=sys.stderr)
        pair = paired(home, port, questions, warm)
    runs = []
    for clients in CONCURRENCY:
        with serving(home, port):
            ask_api(api_client(port), warm)
            print(f"bench_serve: {clients} client(s), {len(load)} requests", file=sys.stderr)
            runs.append(served(port, load, clients))
    out = {
        "date": date.today().isoformat(), "cpu": cpu_model(), "cores": os.cpu_count(), "set": args.set,
        "route": "naive", "max_tokens": MAX_TOKENS, "paired": pair, "target_overhead": 0.10,
        "served": runs,
    }
    (REPO / "benchmarks" / "out").mkdir(exist_ok=True)
    (REPO / "benchmarks" / "out" / "serve.json").write_text(json.dumps(out, indent=1))
    print(f"in-process p50 {pair['in_process_p50_s']:.3f} s, served p50 {pair['served_p50_s']:.3f} s: overhead "
          f"{pair['overhead']:+.1%} (total time {pair['overhead_total']:+.1%}; target <= 10%); same answers {pair['same_answers']}",
          file=sys.stderr)
    for r in out["served"]:
        print(f"  {r['clients']:>2} clients: {r['requests']} requests, {r['errors']} errors, {r['throughput_rps']} answers/s, "
              f"p50 {r['latency_p50_s']} s, p95 {r['latency_p95_s']} s", file=sys.stderr)
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
