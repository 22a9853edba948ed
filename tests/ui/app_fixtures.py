"""Fixtures for the AppTest page tests: the app script, and data dirs with real indexes.

``sample_home`` is built once per session: the bundled sample corpus (v1) ingested into a real
Chroma + SQLite index with the real embedder. Tests that change the index use ``home`` (a fresh,
empty data dir) instead. Either way RAGFT_HOME points at it, which is how the app finds its state.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ingestion.home import Home

APP = str(Path(__file__).resolve().parents[2] / "ui" / "app.py")
MODEL_TIMEOUT = 240  # seconds for a run that loads the embedder and the GGUF model on a busy 2-core box
STEP_TIMEOUT = 60


@pytest.fixture(scope="session")
def sample_root(tmp_path_factory) -> Path:
    from ingestion.sample import materialize
    from rag.indexing import ingest_paths

    home = Home.resolve(tmp_path_factory.mktemp("ui-sample-home"))
    corpus = home.root / "sample-corpus"
    materialize("v1", corpus)
    report = ingest_paths(home, [str(corpus)])
    assert report.added > 0 and not report.failed
    from assistant.calibration import calibrate_collection

    calibrate_collection(home)  # as `ragft sample --ingest` does after a change
    return home.root


@pytest.fixture
def sample_home(sample_root, monkeypatch) -> Home:
    monkeypatch.setenv("RAGFT_HOME", str(sample_root))
    return Home.resolve(sample_root)


def app(page: str | None = None, timeout: float = STEP_TIMEOUT):
    """The app, run once, then switched to ``pages/PAGE.py`` and run again."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(APP, default_timeout=timeout).run()
    if page:
        at.switch_page(f"pages/{page}.py").run()
    assert not at.exception, at.exception
    return at


def errors(at) -> list[str]:
    return [e.value for e in at.error]
