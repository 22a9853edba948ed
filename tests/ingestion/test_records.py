"""The record manager on a real SQLite file: migrations, two-phase writes, FTS, recovery."""

from __future__ import annotations

import sqlite3

import pytest

from ingestion.chunking import Chunk
from ingestion.errors import StoreError
from ingestion.records import MIGRATIONS, DocumentChange, RecordManager


def _chunk(cid: str, source: str, text: str, pos: int = 0) -> Chunk:
    return Chunk(cid, source, pos, "Head", None, text, "h" + cid, 1)


def test_migrations_run_once_and_set_user_version(tmp_path):
    db = tmp_path / "r.db"
    RecordManager(db).close()
    rm = RecordManager(db)  # second open must not re-run migrations
    assert rm.connection.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    rm.close()


def test_newer_schema_is_refused(tmp_path):
    db = tmp_path / "r.db"
    RecordManager(db).close()
    con = sqlite3.connect(db)
    con.execute(f"PRAGMA user_version={len(MIGRATIONS) + 5}")
    con.commit()
    con.close()
    with pytest.raises(StoreError, match="newer than this ragft"):
        RecordManager(db)


def test_corrupt_database_is_a_store_error(tmp_path):
    db = tmp_path / "r.db"
    db.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError, match="unreadable"):
        RecordManager(db)


def test_commit_replaces_chunks_and_keeps_fts_in_step(tmp_path):
    rm = RecordManager(tmp_path / "r.db")
    rm.ensure_collection("default", store="chroma", embed_model="m", dim=3)
    first = [_chunk("c_1", "/a.md", "the aurora cluster has 12 nodes"), _chunk("c_2", "/a.md", "backups run nightly", 1)]
    rm.commit("default", [DocumentChange("/a.md", "md", "h1", "fp", first)])
    hits = rm.connection.execute("SELECT rowid FROM chunks_fts WHERE chunks_fts MATCH 'aurora'").fetchall()
    assert len(hits) == 1
    second = [_chunk("c_2", "/a.md", "backups run nightly"), _chunk("c_3", "/a.md", "the borealis cluster has 9 nodes", 1)]
    rm.commit("default", [DocumentChange("/a.md", "md", "h2", "fp", second)])
    assert rm.chunk_ids("default", "/a.md") == {"c_2", "c_3"}
    assert rm.connection.execute("SELECT count(*) FROM chunks_fts WHERE chunks_fts MATCH 'aurora'").fetchone()[0] == 0
    assert rm.connection.execute("SELECT count(*) FROM chunks_fts WHERE chunks_fts MATCH 'borealis'").fetchone()[0] == 1
    doc = rm.documents("default")["/a.md"]
    assert (doc.version, doc.chunks, doc.content_hash) == (2, 2, "h2")
    assert rm.get_chunks(["c_2"])["c_2"].position == 0  # surviving chunk moved to its new place
    rm.commit("default", [DocumentChange("/a.md", "md", "h2", "fp", None)])
    assert rm.documents("default") == {}
    assert rm.connection.execute("SELECT count(*) FROM chunks_fts WHERE chunks_fts MATCH 'borealis'").fetchone()[0] == 0


def test_recover_reports_orphans_for_pending_and_committed_entries(tmp_path):
    rm = RecordManager(tmp_path / "r.db")
    rm.ensure_collection("default", store="chroma", embed_model="m", dim=3)
    rm.commit("default", [DocumentChange("/a.md", "md", "h1", "fp", [_chunk("c_old", "/a.md", "old text")])])
    # Crash after vectors were upserted, before the records swap: the new ids are orphans.
    rm.begin("default", [("/a.md", ["c_new"], ["c_old"])])
    orphans, sources = rm.recover("default")
    assert orphans == ["c_new"] and sources == ["/a.md"]
    # Crash after the swap, before the old vectors were deleted: the old ids are orphans.
    rm.commit("default", [DocumentChange("/a.md", "md", "h2", "fp", [_chunk("c_new", "/a.md", "new text")])])
    orphans, sources = rm.recover("default")
    assert orphans == ["c_old"] and sources == ["/a.md"]
    rm.finish("default", sources)
    assert rm.recover("default") == ([], [])


def test_collection_remembers_embedder_and_store(tmp_path):
    rm = RecordManager(tmp_path / "r.db")
    rm.ensure_collection("docs", store="faiss", embed_model="m", dim=384)
    with pytest.raises(StoreError, match="embedder"):
        rm.ensure_collection("docs", store="faiss", embed_model="other", dim=768)
    with pytest.raises(StoreError, match="--store faiss"):
        rm.ensure_collection("docs", store="chroma", embed_model="m", dim=384)
