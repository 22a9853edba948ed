"""llama.cpp on this CPU: checked once in a child process, then loaded the way that passed.

    llm = open_llama(gguf_path, home=home, n_ctx=2048, verbose=False)   # a llama_cpp.Llama
    verdict = llama_verdict(home, gguf_path)                              # what was chosen and why

Why this exists: llama.cpp's AMX matrix kernels segfault inside ``llama_decode`` on some Intel
Xeons (upstream llama.cpp issue #20824, "segfault in ggml_backend_amx_mul_mat", open and
machine-dependent). They are reached through llama.cpp's *extra buffer types* (AMX and the CPU
"repack" layouts), which a ``-march=native`` build enables wherever the CPU reports AMX, so a
CMake flag does not switch them off (``-DGGML_AMX_INT8=OFF`` still prints ``AMX_INT8 = 1``).
Loading the model with ``use_extra_bufts = False`` keeps every weight in the plain CPU buffer
and answers correctly there. Turning that off everywhere would cost speed where the fast paths
work (the repack layouts speed up Q4_0/Q4_K/Q8_0 matrix products on AVX2/AVX-512), so nothing is
assumed: the first time a (llama.cpp build, CPU, weight type) combination is used, a child
process loads the file and generates a few tokens with the fast configuration; only if that
child dies (a signal, an error or a hang) is the safe configuration checked and used, with one
line on stderr naming what happened. The verdict is stored in ``HOME/runtime/llamacpp.json``
(keyed by build, CPU and weight type, never by an absolute path, so a moved data dir keeps it).

When it can go: once the llama.cpp that llama-cpp-python vendors fixes #20824, the check still
passes on the fast configuration and costs one child process per machine; it can then be removed
together with ``_params_without_extra_bufts``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import platform
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

from ingestion.errors import ModelError
from ingestion.home import Home

LOAD_FAILED = 3  # the child's exit code when the file itself does not load (not a CPU verdict)
CHECK_TIMEOUT_S = 180.0  # a 1.1 GB GGUF loads and answers in ~10 s on 2 cores; a hang is a failure
# CPU flags that decide which llama.cpp kernels run (x86 AMX / AVX-512 / AVX2; Arm dot-product / SVE / SME).
CPU_FLAGS = ("amx_tile", "amx_int8", "amx_bf16", "avx512f", "avx512_vnni", "avx512_bf16", "avx512_fp16",
             "avx_vnni", "avx2", "fma", "f16c", "asimddp", "sve", "sve2", "sme", "i8mm")
_load_lock = threading.Lock()  # the safe configuration patches a llama-cpp-python global while loading


@dataclass(frozen=True)
class CheckResult:
    """How one child-process check ended."""

    extra_bufts: bool
    ok: bool
    how: str  # "ok", "killed by SIGSEGV", "exit 1: <last line>", "no answer after 180 s"
    seconds: float


@dataclass(frozen=True)
class Verdict:
    """The configuration a (build, CPU, weight type) combination runs with, and the evidence."""

    key: str
    extra_bufts: bool
    checks: tuple[CheckResult, ...]
    checked_at: str
    weight_type: str

    @property
    def configuration(self) -> str:
        return "fast (extra buffer types: AMX / repacked weights)" if self.extra_bufts else "safe (plain CPU buffers)"

    def as_json(self) -> dict[str, Any]:
        return {"key": self.key, "configuration": "fast" if self.extra_bufts else "safe", "extra_bufts": self.extra_bufts,
                "weight_type": self.weight_type, "checked_at": self.checked_at,
                "checks": [dataclasses.asdict(c) for c in self.checks]}

    @classmethod
    def from_json(cls, row: dict[str, Any]) -> "Verdict":
        return cls(key=row["key"], extra_bufts=bool(row["extra_bufts"]), checked_at=row["checked_at"],
                   weight_type=row.get("weight_type", "unknown"),
                   checks=tuple(CheckResult(**c) for c in row.get("checks", [])))


# -- what this machine is ------------------------------------------------------------------------
def cpu_features() -> dict[str, Any]:
    """Model name and the kernel-relevant flags of this CPU (from /proc/cpuinfo where there is one)."""
    model, flags = platform.processor() or platform.machine(), set()
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        text = ""
    for line in text.splitlines():
        name, _, value = line.partition(":")
        name = name.strip()
        if name in ("model name", "Model", "CPU part") and model in ("", platform.machine()):
            model = value.strip() or model
        elif name in ("flags", "Features") and not flags:
            flags = set(value.split())
    return {"machine": platform.machine(), "model": model, "cores": _cores(),
            "flags": [f for f in CPU_FLAGS if f in flags]}


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def llama_build() -> dict[str, Any]:
    """llama-cpp-python's version and the features its native library was built with."""
    import llama_cpp

    info = llama_cpp.llama_print_system_info().decode("utf-8", errors="replace").strip()
    features = sorted({part.split("=")[0].strip() for part in info.replace("|", " ").split()
                       if part.endswith("=1") or part.endswith("= 1")} | _pairs_on(info))
    return {"llama_cpp_python": llama_cpp.__version__, "system_info": info, "features": features}


def _pairs_on(info: str) -> set[str]:
    """``AMX_INT8 = 1 | AVX2 = 1`` -> {"AMX_INT8", "AVX2"} (the format has spaces around '=')."""
    on = set()
    for part in info.split("|"):
        name, sep, value = part.rpartition("=")
        if sep and value.strip() == "1":
            on.add(name.split(":")[-1].strip())
    return on


def weight_type(gguf_path: Path) -> str:
    """The GGUF's file type (q4_1, q8_0, f16, ...; "gguf" when the header has none, "unknown"
    when it cannot be read): which matrix kernels its weights reach, and ``ragft models``' column."""
    from gguf import LlamaFileType

    from finetune.gguf_header import read_gguf_header

    try:
        value = read_gguf_header(gguf_path, ("general.file_type",)).get("general.file_type")
        return LlamaFileType(value).name.removeprefix("MOSTLY_").lower() if value is not None else "gguf"
    except (ModelError, ValueError):
        return "unknown"


def combination_key(gguf_path: Path) -> str:
    build, cpu = llama_build(), cpu_features()
    raw = json.dumps([build["llama_cpp_python"], build["system_info"], cpu["machine"], cpu["model"], cpu["flags"],
                      weight_type(gguf_path)])
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


# -- the check ------------------------------------------------------------------------------------
def check_in_child(gguf_path: Path, extra_bufts: bool, *, argv: list[str] | None = None,
                   timeout_s: float = CHECK_TIMEOUT_S) -> CheckResult:
    """Load ``gguf_path`` and generate a few tokens in a fresh interpreter; report how it ended.

    ``argv`` replaces the child command (tests use a child that really dies by SIGSEGV)."""
    cmd = argv or [sys.executable, "-m", "finetune.native_probe", str(gguf_path), "1" if extra_bufts else "0"]
    start = time.perf_counter()
    env = {**os.environ, "PYTHONFAULTHANDLER": ""}  # the parent reports the crash; no dump in the child
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s, env=env,
                              cwd=str(Path(__file__).resolve().parents[1]))
    except subprocess.TimeoutExpired:
        return CheckResult(extra_bufts, False, f"no answer after {timeout_s:.0f} s", round(time.perf_counter() - start, 2))
    seconds = round(time.perf_counter() - start, 2)
    if proc.returncode == 0:
        return CheckResult(extra_bufts, True, "ok", seconds)
    if proc.returncode == LOAD_FAILED:
        return CheckResult(extra_bufts, False, "could not load the file", seconds)
    if proc.returncode < 0:
        try:
            name = signal.Signals(-proc.returncode).name
        except ValueError:
            name = f"signal {-proc.returncode}"
        return CheckResult(extra_bufts, False, f"killed by {name}", seconds)
    last = next((line for line in reversed(proc.stderr.strip().splitlines()) if line.strip()), "")
    return CheckResult(extra_bufts, False, f"exit {proc.returncode}: {last[:200]}", seconds)


Checker = Callable[[Path, bool], CheckResult]


def _store(home: Home) -> Path:
    return home.root / "runtime" / "llamacpp.json"


def _read_verdicts(home: Home) -> dict[str, Any]:
    try:
        data = json.loads(_store(home).read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}  # absent or damaged: checked again, which is cheap


def _write_verdict(home: Home, verdict: Verdict) -> None:
    path = _store(home)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = _read_verdicts(home)
    data[verdict.key] = verdict.as_json()
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=1, sort_keys=True), encoding="utf-8")
    os.replace(tmp, path)


def stored_verdicts(home: Home) -> list[Verdict]:
    rows = _read_verdicts(home).values()
    out = []
    for row in rows:
        with contextlib.suppress(KeyError, TypeError, ValueError):
            out.append(Verdict.from_json(row))
    return out


def llama_verdict(home: Home, gguf_path: Path, *, checker: Checker | None = None,
                  notify: Callable[[str], None] | None = None) -> Verdict:
    """The stored verdict for this combination, or a fresh check (fast configuration first)."""
    key = combination_key(gguf_path)
    row = _read_verdicts(home).get(key)
    if row:
        with contextlib.suppress(KeyError, TypeError, ValueError):
            return Verdict.from_json(row)
    check = checker or check_in_child
    say = notify or (lambda line: print(line, file=sys.stderr, flush=True))
    fast = check(gguf_path, True)
    checks = [fast]
    if fast.how == "could not load the file":  # corrupt or truncated: no verdict; the real load names it
        return Verdict(key=key, extra_bufts=True, checks=(fast,), weight_type="unknown", checked_at="")
    if not fast.ok:
        safe = check(gguf_path, False)
        checks.append(safe)
        if not safe.ok:
            raise ModelError(
                f"llama.cpp fails on this CPU with {gguf_path.name} in both configurations "
                f"(fast: {fast.how}; safe: {safe.how})",
                fix="rebuild it for this machine: .venv/bin/pip install --force-reinstall --no-cache-dir "
                    "llama-cpp-python, or use --model smollm2-135m-hf (transformers)")
        say(f"llama.cpp self-check {fast.how} with AMX/repacked weight buffers on this CPU "
            f"(llama.cpp #20824); using plain CPU buffers for {weight_type(gguf_path)} models (slower, correct)")
    verdict = Verdict(key=key, extra_bufts=fast.ok, checks=tuple(checks), weight_type=weight_type(gguf_path),
                      checked_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
    _write_verdict(home, verdict)
    return verdict


# -- loading ----------------------------------------------------------------------------------------
@contextlib.contextmanager
def _params_without_extra_bufts() -> Iterator[None]:
    """llama-cpp-python's ``Llama()`` takes no ``use_extra_bufts`` argument (0.3.36): it builds
    ``llama_model_default_params()`` itself. For the safe configuration that function is wrapped
    for the duration of one load, under a lock, so the model is created with the flag off."""
    import llama_cpp.llama_cpp as native

    original = native.llama_model_default_params

    def without() -> Any:
        params = original()
        params.use_extra_bufts = False
        return params

    native.llama_model_default_params = without
    try:
        yield
    finally:
        native.llama_model_default_params = original


def load_llama(gguf_path: Path, *, extra_bufts: bool, **kwargs: Any) -> Any:
    """``llama_cpp.Llama(model_path=gguf_path, **kwargs)`` in the given buffer configuration."""
    import llama_cpp

    with _load_lock:
        if extra_bufts:
            return llama_cpp.Llama(model_path=str(gguf_path), **kwargs)
        with _params_without_extra_bufts():
            return llama_cpp.Llama(model_path=str(gguf_path), **kwargs)


def open_llama(gguf_path: Path, *, home: Home, **kwargs: Any) -> Any:
    """A ``llama_cpp.Llama`` for ``gguf_path`` in the configuration this machine passed."""
    verdict = llama_verdict(home, Path(gguf_path))
    return load_llama(Path(gguf_path), extra_bufts=verdict.extra_bufts, **kwargs)


def runtime_report(home: Home) -> dict[str, Any]:
    """For ``ragft doctor``: the CPU, the llama.cpp build, and the verdicts stored so far."""
    try:
        build: dict[str, Any] = llama_build()
    except ImportError as exc:
        build = {"error": f"llama-cpp-python is not importable: {exc}"}
    return {"cpu": cpu_features(), "llama_cpp": build,
            "llamacpp_checks": [v.as_json() for v in stored_verdicts(home)]}
