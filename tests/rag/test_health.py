"""`doctor`: finds vectors out of step with the records and repairs them from the records."""

from __future__ import annotations

from rag.health import check
from tests.conftest import ingest


def test_doctor_finds_and_repairs_drift(make_index, home, tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    for n in range(3):
        (docs / f"d{n}.md").write_text(f"# D{n}\n\nDepot {n} opens at {7 + n}:00.", encoding="utf-8")
    index = make_index()
    ingest(index, [docs])
    ids = sorted(index.records.chunk_ids("default"))
    index.store.delete(ids[:1])  # a vector lost
    index.store.upsert(["c_" + "f" * 32], index.embedder.embed_documents(["stray"]), ["/nowhere"])  # a stray vector
    index.records.begin("default", [("/x.md", ["c_" + "e" * 32], [])])  # an unfinished write
    index.close()

    found = check(home)
    kinds = {p["kind"] for p in found.problems}
    assert not found.ok and kinds == {"vectors-out-of-step", "interrupted-write"}

    assert check(home, repair=True).ok
    after = check(home)
    assert after.ok and after.problems == []
    assert after.collections == [{"name": "default", "store": "chroma", "documents": 3, "chunks": len(ids)}]
