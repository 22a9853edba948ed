"""Incremental ingestion end to end: real embedder, real Chroma on disk, real SQLite."""

from __future__ import annotations

import pytest

from tests.conftest import ingest

FACTS = {
    "alpha.md": "# Alpha\n\nThe Alpha service stores invoices for 7 years.\n\n## Limits\n\nAlpha accepts at most 250 requests per second.",
    "beta.txt": "Beta is the on-call rotation tool. The Beta rotation changes every Tuesday at 09:00.",
    "gamma.md": "# Gamma\n\nGamma is the staging cluster in Frankfurt with 14 nodes.",
}


@pytest.fixture
def corpus(tmp_path):
    root = tmp_path / "corpus"
    (root / "sub").mkdir(parents=True)
    for name, text in FACTS.items():
        target = root / ("sub" if name == "gamma.md" else "") / name
        target.write_text(text, encoding="utf-8")
    return root


def _consistent(index):
    """Vectors, records and the lexical index describe exactly the same chunks."""
    recorded = index.records.chunk_ids(index.collection)
    assert index.store.ids() == recorded
    fts = index.records.connection.execute("SELECT count(*) FROM chunks_fts").fetchone()[0]
    assert fts == len(recorded)
    assert index.records.recover(index.collection) == ([], [])


@pytest.mark.parametrize("store", ["chroma", "faiss"])
def test_ingest_change_reingest_delete_cycle(make_index, corpus, store):
    index = make_index(store=store)
    first = ingest(index, [corpus])
    assert (first.added, first.updated, first.unchanged, first.deleted) == (3, 0, 0, 0)
    assert first.chunks_added == len(index.records.chunk_ids("default")) > 0
    _consistent(index)

    index.embedded = 0
    again = ingest(index, [corpus])
    assert (again.added, again.updated, again.unchanged) == (0, 0, 3)
    assert index.embedded == 0, "an unchanged corpus must cost no embedding"

    (corpus / "beta.txt").write_text(FACTS["beta.txt"].replace("Tuesday", "Thursday"), encoding="utf-8")
    changed = ingest(index, [corpus])
    assert (changed.updated, changed.unchanged) == (1, 2)
    assert index.embedded == changed.chunks_added >= 1
    docs = index.records.documents("default")
    assert docs[str(corpus / "beta.txt")].version == 2
    texts = [c.text for c in index.records.chunks_of("default", str(corpus / "beta.txt"))]
    assert any("Thursday" in t for t in texts) and not any("Tuesday" in t for t in texts)
    _consistent(index)

    (corpus / "sub" / "gamma.md").unlink()
    removed = ingest(index, [corpus])
    assert removed.deleted == 1 and removed.chunks_deleted >= 1
    assert str(corpus / "sub" / "gamma.md") not in index.records.documents("default")
    _consistent(index)


def test_no_delete_keeps_documents_gone_from_folder(make_index, corpus):
    index = make_index()
    ingest(index, [corpus])
    (corpus / "beta.txt").unlink()
    report = ingest(index, [corpus], delete_missing=False)
    assert report.deleted == 0
    assert str(corpus / "beta.txt") in index.records.documents("default")


def test_single_file_ingest_does_not_delete_siblings(make_index, corpus):
    index = make_index()
    ingest(index, [corpus])
    report = ingest(index, [corpus / "alpha.md"])
    assert (report.unchanged, report.deleted) == (1, 0)
    assert len(index.records.documents("default")) == 3


def test_bad_files_are_reported_and_leave_stored_data_intact(make_index, corpus):
    index = make_index()
    ingest(index, [corpus])
    before = index.records.chunk_ids("default")
    # Corrupt a file that was ingested before, and add new bad ones.
    (corpus / "alpha.md").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00binary")
    (corpus / "empty.txt").write_bytes(b"")
    (corpus / "broken.pdf").write_bytes(b"%PDF-1.4\n1 0 obj <<")
    report = ingest(index, [corpus, corpus / "missing.md"])
    failed = {f["path"].rsplit("/", 1)[-1]: f["error"] for f in report.failed}
    assert set(failed) == {"alpha.md", "empty.txt", "broken.pdf", "missing.md"}
    assert all(msg and "\n" not in msg for msg in failed.values())
    assert report.deleted == 0, "a file that failed to load is not 'gone'"
    assert index.records.chunk_ids("default") == before
    _consistent(index)


def test_oversize_file_fails_without_reading_it(make_index, tmp_path):
    big = tmp_path / "big.txt"
    big.write_text("word " * 50_000, encoding="utf-8")
    index = make_index()
    report = ingest(index, [big], max_bytes=10_000)
    assert report.added == 0 and len(report.failed) == 1
    assert "max-file-mb" in report.failed[0]["error"] or "limit" in report.failed[0]["error"]


def test_changing_chunk_settings_rechunks_everything(make_index, corpus):
    from ingestion.chunking import ChunkSettings

    index = make_index()
    ingest(index, [corpus])
    report = ingest(index, [corpus], settings=ChunkSettings(chunk_tokens=64, chunk_overlap=8))
    assert report.updated == 3
    _consistent(index)
