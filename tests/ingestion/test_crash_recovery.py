"""A crash in the middle of a write, followed by a re-run, converges to the uninterrupted state.

The ingest runs in a child process that is killed (os._exit / SIGKILL, no cleanup) at a chosen
point of the two-phase write; then a normal run in a fresh process must leave vectors, records
and the lexical index agreeing, with the same chunks as a clean ingest of the same files.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

CHILD = textwrap.dedent(
    """
    import os, sys
    from assistant.cli import main
    import ingestion.records as records
    import rag.index as index

    phase = os.environ.get("CRASH_AT", "")
    if phase == "after_upsert":       # vectors written, records not swapped
        records.RecordManager.commit = lambda *a, **k: os._exit(9)
    elif phase == "after_commit":     # records swapped, old vectors not yet deleted
        index.Index.remove = lambda self, ids: os._exit(9) if ids else None
    sys.exit(main(sys.argv[1:]))
    """
)


def _run(args, home, env=None, check=True):
    e = {**os.environ, "RAGFT_HOME": str(home), "PYTHONPATH": str(REPO), **(env or {})}
    proc = subprocess.run([sys.executable, "-c", CHILD, *args], env=e, capture_output=True, text=True, timeout=300, cwd=REPO)
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


def _state(home, store):
    from ingestion.home import Home
    from rag.index import Index

    index = Index.open(Home.resolve(home), store=store)
    try:
        recorded = index.records.chunk_ids("default")
        assert index.store.ids() == recorded, "vectors and records disagree"
        fts = index.records.connection.execute("SELECT count(*) FROM chunks_fts").fetchone()[0]
        assert fts == len(recorded)
        assert index.records.recover("default") == ([], [])
        docs = {Path(s).name: (d.content_hash, d.chunks) for s, d in index.records.documents("default").items()}
        return recorded, docs
    finally:
        index.close()


def _corpus(root: Path, edition: int) -> Path:
    root.mkdir(exist_ok=True)
    for n in range(6):
        value = n * 10 + edition
        (root / f"doc{n}.md").write_text(f"# Doc {n}\n\nSystem {n} has a quota of {value} units.\n\nIt was built in {1990 + n}.", encoding="utf-8")
    return root


@pytest.mark.parametrize("store", ["chroma", "faiss"])
@pytest.mark.parametrize("phase", ["after_upsert", "after_commit"])
def test_crash_then_rerun_converges(tmp_path, phase, store):
    corpus = _corpus(tmp_path / "corpus", edition=1)
    home = tmp_path / "home"
    _run(["ingest", str(corpus), "--store", store], home)
    _corpus(corpus, edition=2)  # every document changes
    crashed = _run(["ingest", str(corpus)], home, env={"CRASH_AT": phase}, check=False)
    assert crashed.returncode == 9
    _run(["ingest", str(corpus)], home)  # the re-run recovers and finishes
    after_crash = _state(home, store)

    clean_home = tmp_path / "clean"
    _run(["ingest", str(corpus), "--store", store], clean_home)
    assert after_crash == _state(clean_home, store)


def test_sigkill_at_random_points_never_breaks_consistency(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for n in range(40):
        (corpus / f"f{n}.txt").write_text(f"Record {n}. " + " ".join(f"token{n}_{i}" for i in range(400)), encoding="utf-8")
    home = tmp_path / "home"
    env = {**os.environ, "RAGFT_HOME": str(home), "PYTHONPATH": str(REPO)}
    for delay in (4.0, 7.0):
        proc = subprocess.Popen([sys.executable, "-m", "assistant.cli", "ingest", str(corpus)], env=env, cwd=REPO,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    _run(["ingest", str(corpus)], home)
    recorded, docs = _state(home, "chroma")
    assert len(docs) == 40
