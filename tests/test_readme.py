"""The README stays true: its `ragft` commands run as written, and `make run` opens the app.

Each `ragft ...` line of the README's bash blocks runs in a scratch folder that holds the paths the
examples use (`docs/`, `notes.pdf`, `questions.txt`), against a fresh data dir. Lines that need
a server or never return (`http://`, `ragft ui`, `ragft serve`, `ragft chat`), or that are
marked `# (long)` or take ids an earlier run printed (`# (ids from ...)`), are skipped here and covered by their own tests. `make run` runs headless on a
free port in its own process group; the test polls `/_stcore/health`, asks one question in
Chromium, then kills the group.
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
from tests.ui import browser_fixtures as bf

REPO = Path(__file__).resolve().parents[1]
SKIP = ("http://", "ragft ui", "ragft serve", "ragft chat", "# (long)", "# (ids from")


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
@pytest.mark.timeout(1800)  # every README command, each loading its models: about 9 minutes on 2 quiet cores
def test_readme_commands_run_as_written(scratch):
    root, env = scratch
    for command in readme_commands():
        argv = shlex.split(command)
        proc = subprocess.run([sys.executable, "-m", "assistant.cli", *argv[1:]], cwd=root, env=env,
                              capture_output=True, text=True, timeout=900)
        assert proc.returncode == 0, f"README command failed: {command}\n{proc.stderr[-2000:]}"


def test_make_installs_requested_models_and_opens_the_requested_profile():
    dry = subprocess.run(["make", "-n", "--no-print-directory", "run", "MODELS=qwen2.5-1.5b", "PROFILE=small"], cwd=REPO,
                         capture_output=True, text=True, timeout=60)
    assert dry.returncode == 0, dry.stderr
    lines = dry.stdout.splitlines()
    install = next(i for i, line in enumerate(lines) if "ragft models install $m" in line and "qwen2.5-1.5b" in line)
    ui = next(i for i, line in enumerate(lines) if line.endswith("ragft --profile small ui") or "ragft --profile small ui " in line)
    assert install < ui  # set up (with the model) before the app opens on it
    plain = subprocess.run(["make", "-n", "--no-print-directory", "run"], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert "--profile" not in plain.stdout and re.search(r"ragft +ui", plain.stdout)  # the default: tiny, nothing to install


@pytest.mark.slow
@pytest.mark.timeout(1800)  # a fresh clone's setup compiles llama-cpp-python first
def test_make_run_ingests_the_sample_and_answers_in_the_browser(tmp_path):
    env = {**os.environ, "RAGFT_HOME": str(tmp_path / "home"), "HF_HUB_OFFLINE": "1"}
    port = bf.free_port()
    log = tmp_path / "make-run.log"
    argv = ["make", "--no-print-directory", "run", f"UI_FLAGS=--server.headless true --server.port {port}"]
    # Setup (when pyproject.toml changed) and the sample ingest run before the server is up.
    with bf.served(argv, env=env, port=port, log=log, startup_timeout_s=1200) as url:
        out = log.read_text(encoding="utf-8")
        assert "sample corpus v1" in out and "ingested:" in out, out[-3000:]
        if (missing := bf.browser_missing_reason()) is not None:
            pytest.skip(f"the app is up, but no question through the browser: {missing}")
        with bf.chromium_browser() as browser:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            bf.open_app(page, url)
            bf.ask_in_chat(page, "How many days of vacation do employees get?")
            reply = page.locator('[data-testid="stChatMessage"]').filter(has=bf.sources_expander(page)).last
            reply.wait_for(timeout=bf.ANSWER_TIMEOUT_MS)
            answer = reply.locator('[data-testid="stChatMessageContent"]').inner_text().strip()
            assert answer, "the chat printed no answer"
