"""A test that kills its process in native code is reported as a failed test with its name, and
the run still ends with pytest's summary line (the suite's own options, from pyproject.toml)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

CRASHING = '''
import ctypes

def test_before():
    assert 1 + 1 == 2

def test_native_crash():
    ctypes.string_at(0)  # a real SIGSEGV in native code

def test_after():
    assert "still running"
'''


def test_a_native_crash_fails_one_named_test_and_the_run_finishes(tmp_path):
    (tmp_path / "test_crashes.py").write_text(CRASHING)
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-c", str(REPO / "pyproject.toml"), "--rootdir", str(tmp_path),
         "-p", "no:cacheprovider", "-q", str(tmp_path / "test_crashes.py")],
        capture_output=True, text=True, timeout=300, cwd=tmp_path,
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out
    assert "crashed while running" in out and "test_native_crash" in out, out
    assert "1 failed, 2 passed" in out, out  # the tests after the crash ran in a fresh worker
