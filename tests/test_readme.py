"""The README stays true: its `ragft` commands run as written, and `make run` opens the chat.

Each `ragft ...` line of the README's bash blocks runs in a scratch folder that holds the paths the
examples use (`docs/`, `notes.pdf`, `questions.txt`), against a fresh data dir. Lines that need
a server or never return (`http://`, `ragft ui`, `ragft serve`, `ragft chat`), or that are
marked `# (long)`, are skipped here and covered by their own tests.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ingestion.sample import edition_dir

REPO = Path(__file__).resolve().parents[1]
SKIP = ("http://", "ragft ui", "ragft serve", "ragft chat", "# (long)")


def readme_commands() -> list[str]:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    commands = []
    for block in re.findall(r"```bash\n(.*?)```", text, flags=re.S):
        for line in block.splitlines():
            line = line.strip()
            if line.startswith("ragft ") and not any(s in line for s in SKIP):
                commands.append(line.split("  #", 1)[0].split(" # ", 1)[0].strip())
    return commands


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    root = tmp_path_factory.mktemp("readme")
    v1 = edition_dir("v1")
    shutil.copytree(v1 / "policies", root / "docs")
    shutil.copyfile(v1 / "hr" / "benefits-handbook.pdf", root / "notes.pdf")
    (root / "questions.txt").write_text("How many days of vacation?\nWhat is the hotel limit?\n", encoding="utf-8")
    home = root / "home"
    return root, {**os.environ, "RAGFT_HOME": str(home), "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(REPO)}


def test_readme_lists_commands():
    assert len(readme_commands()) >= 8


@pytest.mark.slow
def test_readme_commands_run_as_written(scratch):
    root, env = scratch
    for command in readme_commands():
        argv = shlex.split(command)
        proc = subprocess.run([sys.executable, "-m", "assistant.cli", *argv[1:]], cwd=root, env=env,
                              capture_output=True, text=True, timeout=900)
        assert proc.returncode == 0, f"README command failed: {command}\n{proc.stderr[-2000:]}"


@pytest.mark.slow
def test_make_run_ingests_the_sample_and_answers_in_the_chat(tmp_path):
    env = {**os.environ, "RAGFT_HOME": str(tmp_path / "home"), "HF_HUB_OFFLINE": "1"}
    proc = subprocess.run(["make", "--no-print-directory", "run"], cwd=REPO, env=env, input="How many days of vacation do employees get?\n/quit\n",
                          capture_output=True, text=True, timeout=1200)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "sample corpus v1" in proc.stdout and "ingested:" in proc.stdout
    assert "assistant> " in proc.stdout
    answer = proc.stdout.split("assistant> ", 1)[1]
    assert answer.strip(), "the chat printed no answer"
