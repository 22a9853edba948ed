"""First use on a fresh data dir: besides ragft's own progress, nothing from the libraries below."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.assistant.cli.conftest import REPO

NOISE = ("Loading weights", "Writing model shards", "Token indices sequence length", "Skipping publisher trust check",
         "Converting and de-quantizing", "kernels-community", "Segmentation fault")


def _ragft(*args: str, home) -> subprocess.CompletedProcess:
    # The child must quiet the libraries itself: none of the variables it sets come from here.
    env = {k: v for k, v in os.environ.items()
           if k not in ("HF_HUB_DISABLE_PROGRESS_BARS", "TRANSFORMERS_VERBOSITY", "TQDM_DISABLE")}
    env.update(RAGFT_HOME=str(home), HF_HUB_OFFLINE="1", PYTHONPATH=str(REPO))
    return subprocess.run([sys.executable, "-m", "assistant.cli", *args], capture_output=True, text=True,
                          timeout=600, env=env, cwd=REPO)


@pytest.mark.slow
def test_sample_ingest_and_first_answers_print_only_ragfts_own_lines(tmp_path):
    home = tmp_path / "home"
    runs = [_ragft("sample", "--edition", "v1", "--ingest", home=home),
            _ragft("ask", "How many days of vacation do employees get?", "--route", "naive", home=home),
            _ragft("ask", "What is the capital of France?", "--route", "base", "--model", "smollm2-135m-hf",
                   "--max-tokens", "8", home=home)]
    for proc in runs:
        assert proc.returncode == 0, proc.stderr
        found = [n for n in NOISE if n in proc.stderr]
        assert not found, f"{proc.args[3:]} printed {found}:\n{proc.stderr}"
    assert "converting" in runs[2].stderr and "converted in" in runs[2].stderr  # ragft's own line stays
