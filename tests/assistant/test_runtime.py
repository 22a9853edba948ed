"""assistant/runtime.py: entry-point environment defaults, never overriding the user's choice."""

from __future__ import annotations

import subprocess
import sys

from assistant.runtime import DEFAULTS, apply_defaults


def test_fills_unset_variables_and_keeps_the_users(monkeypatch):
    monkeypatch.delenv("OMP_WAIT_POLICY", raising=False)
    monkeypatch.setenv("TOKENIZERS_PARALLELISM", "true")
    apply_defaults()
    import os

    assert os.environ["OMP_WAIT_POLICY"] == "PASSIVE"
    assert os.environ["TOKENIZERS_PARALLELISM"] == "true"


def test_the_cli_applies_them_before_torch_loads(monkeypatch):
    # A fresh interpreter: importing the CLI sets the policy and has not imported torch yet,
    # so libgomp will read it when a command loads torch.
    monkeypatch.delenv("OMP_WAIT_POLICY", raising=False)
    code = "import os, sys, assistant.cli; print(os.environ.get('OMP_WAIT_POLICY'), 'torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == [DEFAULTS["OMP_WAIT_POLICY"], "False"]


def test_the_offline_kernel_fetch_warning_of_bitsandbytes_is_quiet():
    # On AVX512-BF16 CPUs, importing bitsandbytes logs that it could not fetch a hub kernel; the
    # entry points silence exactly that logger and nothing else.
    code = ("import logging, assistant.cli, bitsandbytes; "
            "print(logging.getLogger('bitsandbytes.backends.cpu.ops').getEffectiveLevel(), logging.getLogger('bitsandbytes').getEffectiveLevel())")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.split() == [str(40), str(30)]  # ERROR for that module, WARNING (the default) for the rest
    assert "kernels-community" not in proc.stderr
