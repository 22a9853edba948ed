"""The bundled sample corpus: editions, working copy, and its question set."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingestion.errors import ConfigError
from ingestion.loaders import iter_files, load_document
from ingestion.sample import edition_dir, materialize, questions


def _rel(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in iter_files(root)}


def test_editions_differ_by_one_removed_one_added_and_some_changed():
    v1, v2 = edition_dir("v1"), edition_dir("v2")
    a, b = _rel(v1), _rel(v2)
    assert 20 <= len(a) <= 40
    assert len(a - b) == 1 and len(b - a) == 1
    changed = [p for p in a & b if (v1 / p).read_bytes() != (v2 / p).read_bytes()]
    assert len(a) // 5 <= len(changed) <= len(a) // 3
    kinds = {Path(p).suffix for p in a}
    assert {".md", ".txt", ".html", ".pdf"} <= kinds


def test_every_sample_file_loads():
    for edition in ("v1", "v2"):
        for path in iter_files(edition_dir(edition)):
            assert load_document(path).sections


def test_materialize_switches_editions_in_place(tmp_path):
    target = tmp_path / "work"
    first = materialize("v1", target)
    stamp = {p: p.stat().st_mtime_ns for p in first}
    second = materialize("v2", target)
    assert _rel(target) == _rel(edition_dir("v2"))
    v1 = edition_dir("v1")
    unchanged = [p for p in second if p in stamp and (v1 / p.relative_to(target)).read_bytes() == p.read_bytes()]
    assert unchanged and all(p.stat().st_mtime_ns == stamp[p] for p in unchanged), "identical files are not rewritten"


def test_questions_point_at_real_files_and_answers_are_in_them():
    qs = questions()
    assert len(qs) >= 80
    kinds = {q["kind"] for q in qs}
    assert {"fact", "multi_doc", "unanswerable", "changed"} <= kinds
    for q in qs:
        if q["kind"] in ("fact", "changed") and "v1" in q["editions"]:
            text = load_document(edition_dir("v1") / q["source"]).text.lower()
            assert q["answer"].lower() in " ".join(text.split()), q["id"]


def test_unknown_edition_names_the_option():
    with pytest.raises(ConfigError, match="--edition"):
        edition_dir("v3")
