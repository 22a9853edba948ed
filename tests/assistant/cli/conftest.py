from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]


def run_ragft(*args: str, home: Path, check: bool = False, timeout: float = 300, env: dict | None = None):
    """Run the real console entry point in a subprocess; returns CompletedProcess."""
    full_env = {**os.environ, "RAGFT_HOME": str(home), "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(REPO)}
    full_env.update(env or {})
    proc = subprocess.run(
        [sys.executable, "-m", "assistant.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=full_env,
        cwd=REPO,
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"ragft {' '.join(args)} exited {proc.returncode}: {proc.stderr}")
    return proc


def json_of(proc) -> dict:
    lines = [l for l in proc.stdout.splitlines() if l.strip()]
    assert len(lines) == 1, f"expected one JSON line on stdout, got: {proc.stdout!r}"
    return json.loads(lines[0])


@pytest.fixture
def ragft(home):
    def _run(*args: str, **kwargs):
        return run_ragft(*args, home=home.root, **kwargs)

    return _run
