"""Shared fixtures: one full build of the real sample corpus (v1), reused by the read-only tests."""

from __future__ import annotations

import json
import shutil

import pytest

from ingestion.sample import edition_dir


@pytest.fixture(scope="session")
def v1():
    return edition_dir("v1")


@pytest.fixture(scope="session")
def built(tmp_path_factory, v1):
    """(result, rows, card) of `build_dataset` on the whole v1 corpus with RAFT examples."""
    from finetune.dataset.build import DatasetConfig, build_dataset
    from finetune.dataset.card import TokenCounter

    out = tmp_path_factory.mktemp("ds") / "data.jsonl"
    result = build_dataset([v1], out, DatasetConfig(raft=True), counter=TokenCounter.whitespace())
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    card = json.loads(result.card.read_text(encoding="utf-8"))
    return result, rows, card


@pytest.fixture
def small_corpus(tmp_path, v1):
    """A three-document copy of v1 (prose, a table page, a csv) for quick end-to-end runs."""
    root = tmp_path / "corpus"
    for rel in ("product/lanternfish-pricing.md", "company/leadership.html", "company/glossary.md"):
        dst = root / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(v1 / rel, dst)
    return root
