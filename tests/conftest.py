"""Shared fixtures. Every test runs offline: nothing may fetch weights or data at run time."""

from __future__ import annotations

import os

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ["HF_DATASETS_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ["ANONYMIZED_TELEMETRY"] = "False"  # chromadb: no telemetry calls
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as the entry points do: assistant/runtime.py

import pytest


@pytest.fixture
def home(tmp_path, monkeypatch):
    """A fresh data directory, also exported as RAGFT_HOME for subprocesses."""
    root = tmp_path / "home"
    root.mkdir()
    monkeypatch.setenv("RAGFT_HOME", str(root))
    from ingestion.home import Home

    return Home.resolve(root)


@pytest.fixture(scope="session")
def embedder():
    """The real default embedder (all-MiniLM-L6-v2 from its PyPI package), loaded once."""
    from rag.embeddings import Embedder

    emb = Embedder()
    _ = emb.model
    return emb


@pytest.fixture
def make_index(home, embedder):
    """Open an ``Index`` on the test's data dir; closes every index it opened."""
    from rag.index import Index

    opened = []

    def _open(**kwargs):
        kwargs.setdefault("embedder", embedder)
        idx = Index.open(home, **kwargs)
        opened.append(idx)
        return idx

    yield _open
    for idx in opened:
        try:
            idx.close()
        except Exception:
            pass


def ingest(index, paths, **kwargs):
    """Run the real ingestion pipeline into ``index`` with default chunking."""
    from ingestion.chunking import Chunker, ChunkSettings
    from ingestion.pipeline import Ingestor

    settings = kwargs.pop("settings", ChunkSettings())
    max_bytes = kwargs.pop("max_bytes", 20 * 1024 * 1024)
    ingestor = Ingestor(
        records=index.records,
        sink=index,
        chunker=Chunker(settings=settings, tokenize=index.embedder.tokenize),
        collection=index.collection,
        max_bytes=max_bytes,
    )
    return ingestor.run([str(p) for p in paths], **kwargs)
