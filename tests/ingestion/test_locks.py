"""One writer per data dir: a second ingest waits for the first (saying for whom), a killed writer
releases the lock, and two ingests started together both land."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from ingestion.errors import ConfigError
from ingestion.home import Home
from ingestion.locks import writer_lock
from tests.assistant.cli.conftest import REPO, json_of, run_ragft


def _docs(folder, n: int, word: str):
    folder.mkdir(parents=True)
    for i in range(n):
        (folder / f"{word}-{i}.md").write_text(f"# {word} {i}\n\nThe {word} number {i} is {i * 7}.\n")
    return folder


def _ragft(home, *args, stderr):
    env = {**os.environ, "RAGFT_HOME": str(home.root), "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(REPO)}
    return subprocess.Popen([sys.executable, "-m", "assistant.cli", *args], stdout=subprocess.PIPE, stderr=stderr, text=True, env=env)


def _wait_for(path, text: str, proc, limit_s: float = 120) -> None:
    deadline = time.monotonic() + limit_s
    while text not in path.read_text():
        assert proc.poll() is None, f"exited before saying {text!r}: {path.read_text()}"
        assert time.monotonic() < deadline, f"never said {text!r}: {path.read_text()}"
        time.sleep(0.2)


def test_a_second_writer_waits_for_the_first_and_says_for_whom(tmp_path):
    home = Home.resolve(tmp_path / "home")
    docs = _docs(tmp_path / "docs", 2, "alpha")
    log = tmp_path / "ingest.err"
    with writer_lock(home, say=None):
        with log.open("w") as err:
            proc = _ragft(home, "ingest", str(docs), "--json", stderr=err)
        _wait_for(log, "waiting for the other writer", proc)
        assert f"pid {os.getpid()}" in log.read_text()
        assert proc.poll() is None  # still waiting: nothing written while the lock is held
        assert not home.records_db.exists() or b"alpha-0.md" not in home.records_db.read_bytes()
    out, _ = proc.communicate(timeout=300)
    assert proc.returncode == 0 and "going on" in log.read_text()
    assert json_of(subprocess.CompletedProcess([], 0, out, ""))["added"] == 2


def test_a_writer_killed_with_sigkill_leaves_the_data_dir_unlocked(tmp_path):
    home = Home.resolve(tmp_path / "home")
    code = ("import sys, time; sys.path.insert(0, %r)\nfrom ingestion.home import Home\nfrom ingestion.locks import writer_lock\n"
            "with writer_lock(Home.resolve(%r), say=None):\n    print('held', flush=True); time.sleep(600)\n") % (str(REPO), str(home.root))
    holder = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    with pytest.raises(ConfigError, match=rf"still being written by pid {holder.pid} .* after 0 s"):
        with writer_lock(home, say=None, wait_s=0):
            pass
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait(timeout=30)
    with writer_lock(home, say=None, wait_s=30):  # acquired: the kernel dropped the dead process's lock
        pass


def test_two_ingests_started_together_both_land(tmp_path):
    home = Home.resolve(tmp_path / "home")
    a, b = _docs(tmp_path / "a", 3, "alpha"), _docs(tmp_path / "b", 3, "beta")
    procs = [_ragft(home, "ingest", str(folder), "--json", stderr=subprocess.PIPE) for folder in (a, b)]
    results = [p.communicate(timeout=600) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [r[1][-500:] for r in results]
    listed = json_of(run_ragft("docs", "--json", home=home.root, check=True))
    names = sorted(os.path.basename(d["source"]) for d in listed["documents"])
    assert names == sorted([f"alpha-{i}.md" for i in range(3)] + [f"beta-{i}.md" for i in range(3)])
    assert sum("waiting for the other writer" in r[1] for r in results) <= 1


def test_a_bad_wait_setting_is_named(tmp_path, monkeypatch):
    monkeypatch.setenv("RAGFT_LOCK_WAIT_S", "soon")
    with pytest.raises(ConfigError, match=r"\$RAGFT_LOCK_WAIT_S must be a number of seconds, not 'soon'"):
        with writer_lock(Home.resolve(tmp_path / "home"), say=None):
            pass
