"""`ragft chat` reads questions from stdin and streams answers (the real bundled model)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.assistant.cli.conftest import REPO


@pytest.mark.slow
def test_chat_answers_from_stdin_and_survives_a_bad_command(home):
    env = {**os.environ, "RAGFT_HOME": str(home.root), "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(REPO)}
    script = "/route nonsense\nWhat is the capital of France?\n/quit\nnever asked\n"
    proc = subprocess.run(
        [sys.executable, "-m", "assistant.cli", "chat", "--route", "base", "--max-tokens", "32"],
        input=script, capture_output=True, text=True, timeout=300, env=env, cwd=REPO,
    )
    assert proc.returncode == 0, proc.stderr
    assert "unknown route 'nonsense'" in proc.stderr
    assert "Paris" in proc.stdout
    assert proc.stdout.count("assistant> ") == 1, "input after /quit is not read"
