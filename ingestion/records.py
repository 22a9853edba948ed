"""The record manager: what is indexed, at which version, in SQLite.

One database file (``HOME/records.db``) holds, per collection, every document (content hash,
version, chunk count, timestamps), every chunk's text and metadata, an FTS5 full-text index over
the chunks (kept in step by triggers, so the lexical index is always transactionally consistent
with the records), and a journal of vector-store writes in flight. SQLite is used because it is
transactional, in the standard library, and its FTS5 engine is a real BM25 index.

Crash safety (the vector store lives outside this transaction):

1. ``begin(...)`` journals the chunk ids a group of documents will add and remove (state
   ``pending``), then the caller upserts the new vectors;
2. ``commit(...)`` swaps documents and chunks in one transaction and marks the journal
   ``committed``; then the caller deletes the old vectors and calls ``finish(...)``.

After a crash, ``recover()`` says which vector ids to delete: for a pending entry, its new ids
that no committed chunk uses; for a committed entry, its old ids that no committed chunk uses.
Re-running the ingest then converges to the same state as an uninterrupted run.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import ContextManager, Iterable, Sequence

from ingestion.chunking import Chunk
from ingestion.database import connect, migrate, transaction
from ingestion.errors import StoreError

# Numbered, append-only migrations: never edit one that has shipped; add the next.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE collections (
        name TEXT PRIMARY KEY,
        store TEXT NOT NULL,
        embed_model TEXT NOT NULL,
        dim INTEGER NOT NULL,
        created_at TEXT NOT NULL
    );
    CREATE TABLE documents (
        collection TEXT NOT NULL,
        source TEXT NOT NULL,
        kind TEXT NOT NULL,
        content_hash TEXT NOT NULL,
        chunker TEXT NOT NULL,
        version INTEGER NOT NULL,
        chunks INTEGER NOT NULL,
        ingested_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (collection, source)
    );
    CREATE TABLE chunks (
        id INTEGER PRIMARY KEY,
        chunk_id TEXT NOT NULL UNIQUE,
        collection TEXT NOT NULL,
        source TEXT NOT NULL,
        position INTEGER NOT NULL,
        heading TEXT NOT NULL,
        page INTEGER,
        text TEXT NOT NULL,
        text_hash TEXT NOT NULL,
        version INTEGER NOT NULL
    );
    CREATE INDEX chunks_by_doc ON chunks (collection, source, position);
    CREATE VIRTUAL TABLE chunks_fts USING fts5(
        text, heading, content='chunks', content_rowid='id', tokenize='porter unicode61'
    );
    CREATE TRIGGER chunks_ai AFTER INSERT ON chunks BEGIN
        INSERT INTO chunks_fts(rowid, text, heading) VALUES (new.id, new.text, new.heading);
    END;
    CREATE TRIGGER chunks_ad AFTER DELETE ON chunks BEGIN
        INSERT INTO chunks_fts(chunks_fts, rowid, text, heading) VALUES ('delete', old.id, old.text, old.heading);
    END;
    CREATE TRIGGER chunks_au AFTER UPDATE OF text, heading ON chunks BEGIN
        INSERT INTO chunks_fts(chunks_fts, rowid, text, heading) VALUES ('delete', old.id, old.text, old.heading);
        INSERT INTO chunks_fts(rowid, text, heading) VALUES (new.id, new.text, new.heading);
    END;
    CREATE TABLE journal (
        collection TEXT NOT NULL,
        source TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('pending', 'committed')),
        add_ids TEXT NOT NULL,
        remove_ids TEXT NOT NULL,
        started_at TEXT NOT NULL,
        PRIMARY KEY (collection, source)
    );
    """,
)


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@dataclass(frozen=True)
class DocumentRecord:
    collection: str
    source: str
    kind: str
    content_hash: str
    chunker: str
    version: int
    chunks: int
    ingested_at: str
    updated_at: str

    def as_json(self) -> dict:
        return {
            "source": self.source,
            "kind": self.kind,
            "version": self.version,
            "hash": self.content_hash,
            "chunks": self.chunks,
            "ingested_at": self.ingested_at,
            "updated_at": self.updated_at,
        }


@dataclass(frozen=True)
class CollectionInfo:
    name: str
    store: str
    embed_model: str
    dim: int


@dataclass(frozen=True)
class DocumentChange:
    """One document's new state for ``commit``; ``chunks=None`` deletes the document."""

    source: str
    kind: str
    content_hash: str
    chunker: str
    chunks: list[Chunk] | None


@dataclass(frozen=True)
class StoredChunk:
    chunk_id: str
    source: str
    position: int
    heading: str
    page: int | None
    text: str
    version: int


class RecordManager:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        try:
            self._db = connect(self.path)
            migrate(self._db, MIGRATIONS, what=f"record database {self.path}")
        except sqlite3.DatabaseError as exc:
            raise StoreError(
                f"record database {self.path} is unreadable: {exc}",
                fix="run `ragft doctor --repair`, or move the file away and re-ingest",
            ) from exc

    # -- plumbing -------------------------------------------------------------------------
    def transaction(self) -> ContextManager[sqlite3.Connection]:
        return transaction(self._db)

    @property
    def connection(self) -> sqlite3.Connection:
        return self._db

    def close(self) -> None:
        self._db.close()

    # -- collections ----------------------------------------------------------------------
    def collection(self, name: str) -> CollectionInfo | None:
        row = self._db.execute(
            "SELECT name, store, embed_model, dim FROM collections WHERE name=?", (name,)
        ).fetchone()
        return CollectionInfo(*row) if row else None

    def ensure_collection(self, name: str, *, store: str, embed_model: str, dim: int) -> CollectionInfo:
        """Create the collection's record, or check that it matches (``StoreError`` if not)."""
        info = self.check_collection(name, store=store, embed_model=embed_model, dim=dim)
        if info is None:
            with self.transaction() as db:
                db.execute(
                    "INSERT INTO collections VALUES (?,?,?,?,?)", (name, store, embed_model, dim, now_iso())
                )
            return CollectionInfo(name, store, embed_model, dim)
        return info

    def check_collection(self, name: str, *, store: str, embed_model: str, dim: int) -> CollectionInfo | None:
        info = self.collection(name)
        if info is None:
            return None
        if info.embed_model != embed_model or info.dim != dim:
            raise StoreError(
                f"collection '{name}' was built with embedder {info.embed_model} (dim {info.dim}), "
                f"not {embed_model} (dim {dim})",
                fix="use the same embedder, or ingest into a new --collection",
            )
        if info.store != store:
            raise StoreError(
                f"collection '{name}' lives in store '{info.store}', not '{store}'",
                fix=f"pass --store {info.store}, or ingest into a new --collection",
            )
        return info

    def collections(self) -> list[CollectionInfo]:
        rows = self._db.execute("SELECT name, store, embed_model, dim FROM collections ORDER BY name")
        return [CollectionInfo(*r) for r in rows]

    # -- documents ------------------------------------------------------------------------
    def documents(self, collection: str) -> dict[str, DocumentRecord]:
        rows = self._db.execute(
            "SELECT collection, source, kind, content_hash, chunker, version, chunks, ingested_at, updated_at "
            "FROM documents WHERE collection=? ORDER BY source",
            (collection,),
        )
        return {r[1]: DocumentRecord(*r) for r in rows}

    def chunk_ids(self, collection: str, source: str | None = None) -> set[str]:
        if source is None:
            rows = self._db.execute("SELECT chunk_id FROM chunks WHERE collection=?", (collection,))
        else:
            rows = self._db.execute(
                "SELECT chunk_id FROM chunks WHERE collection=? AND source=?", (collection, source)
            )
        return {r[0] for r in rows}

    def chunks_of(self, collection: str, source: str) -> list[StoredChunk]:
        rows = self._db.execute(
            "SELECT chunk_id, source, position, heading, page, text, version FROM chunks "
            "WHERE collection=? AND source=? ORDER BY position",
            (collection, source),
        )
        return [StoredChunk(*r) for r in rows]

    def get_chunks(self, chunk_ids: Sequence[str]) -> dict[str, StoredChunk]:
        out: dict[str, StoredChunk] = {}
        ids = list(chunk_ids)
        for start in range(0, len(ids), 500):  # stay under SQLite's variable limit
            part = ids[start : start + 500]
            marks = ",".join("?" * len(part))
            rows = self._db.execute(
                "SELECT chunk_id, source, position, heading, page, text, version FROM chunks "
                f"WHERE chunk_id IN ({marks})",
                part,
            )
            for r in rows:
                out[r[0]] = StoredChunk(*r)
        return out

    # -- the two-phase write ----------------------------------------------------------------
    def begin(self, collection: str, plan: Iterable[tuple[str, Sequence[str], Sequence[str]]]) -> None:
        """Journal (source, ids to add, ids to remove) for each document of a group."""
        started = now_iso()
        with self.transaction() as db:
            db.executemany(
                "INSERT OR REPLACE INTO journal VALUES (?,?,'pending',?,?,?)",
                [(collection, s, json.dumps(list(a)), json.dumps(list(r)), started) for s, a, r in plan],
            )

    def commit(self, collection: str, changes: Sequence[DocumentChange]) -> None:
        """Swap the records of a group of documents in one transaction."""
        stamp = now_iso()
        with self.transaction() as db:
            for change in changes:
                old = db.execute(
                    "SELECT version, ingested_at FROM documents WHERE collection=? AND source=?",
                    (collection, change.source),
                ).fetchone()
                if change.chunks is None:
                    db.execute("DELETE FROM chunks WHERE collection=? AND source=?", (collection, change.source))
                    db.execute("DELETE FROM documents WHERE collection=? AND source=?", (collection, change.source))
                else:
                    self._replace_chunks(db, collection, change.source, change.chunks)
                    version = (old[0] + 1) if old else 1
                    db.execute(
                        "INSERT OR REPLACE INTO documents VALUES (?,?,?,?,?,?,?,?,?)",
                        (
                            collection, change.source, change.kind, change.content_hash, change.chunker,
                            version, len(change.chunks), old[1] if old else stamp, stamp,
                        ),
                    )
                db.execute(
                    "UPDATE journal SET state='committed' WHERE collection=? AND source=?",
                    (collection, change.source),
                )

    @staticmethod
    def _replace_chunks(db: sqlite3.Connection, collection: str, source: str, chunks: Sequence[Chunk]) -> None:
        keep = {c.chunk_id for c in chunks}
        existing = {
            r[0] for r in db.execute("SELECT chunk_id FROM chunks WHERE collection=? AND source=?", (collection, source))
        }
        gone = existing - keep
        db.executemany("DELETE FROM chunks WHERE chunk_id=?", [(cid,) for cid in gone])
        # Chunks that survive an edit keep their row (and FTS entry); only their place changes.
        db.executemany(
            "UPDATE chunks SET position=?, heading=?, page=?, version=? WHERE chunk_id=?",
            [(c.position, c.heading, c.page, c.version, c.chunk_id) for c in chunks if c.chunk_id in existing],
        )
        db.executemany(
            "INSERT INTO chunks (chunk_id, collection, source, position, heading, page, text, text_hash, version) "
            "VALUES (?,?,?,?,?,?,?,?,?)",
            [
                (c.chunk_id, collection, source, c.position, c.heading, c.page, c.text, c.text_hash, c.version)
                for c in chunks
                if c.chunk_id not in existing
            ],
        )

    def finish(self, collection: str, sources: Iterable[str]) -> None:
        with self.transaction() as db:
            db.executemany(
                "DELETE FROM journal WHERE collection=? AND source=?", [(collection, s) for s in sources]
            )

    def recover(self, collection: str) -> tuple[list[str], list[str]]:
        """Vector ids orphaned by an interrupted write, and the journal sources to ``finish``."""
        rows = self._db.execute(
            "SELECT source, state, add_ids, remove_ids FROM journal WHERE collection=?", (collection,)
        ).fetchall()
        if not rows:
            return [], []
        committed = self.chunk_ids(collection)
        orphans: set[str] = set()
        for _source, state, add_ids, remove_ids in rows:
            candidates = json.loads(add_ids) if state == "pending" else json.loads(remove_ids)
            orphans.update(cid for cid in candidates if cid not in committed)
        return sorted(orphans), [r[0] for r in rows]
