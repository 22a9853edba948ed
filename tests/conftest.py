"""Shared fixtures. Every test runs offline: nothing may fetch weights or data at run time."""

from __future__ import annotations

import os

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ["HF_DATASETS_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ["ANONYMIZED_TELEMETRY"] = "False"  # chromadb: no telemetry calls

import pytest


@pytest.fixture
def home(tmp_path, monkeypatch):
    """A fresh data directory, also exported as RAGFT_HOME for subprocesses."""
    root = tmp_path / "home"
    root.mkdir()
    monkeypatch.setenv("RAGFT_HOME", str(root))
    from ingestion.home import Home

    return Home.resolve(root)
