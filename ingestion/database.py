"""SQLite plumbing shared by the record database and the arena: connect, migrate, one transaction.

Both keep numbered, append-only migrations and track them in ``PRAGMA user_version``; both write in
``BEGIN IMMEDIATE`` transactions so that several processes (an ingest, the app, a second tab) take
turns instead of corrupting each other. WAL mode lets readers go on while one of them writes.
"""

from __future__ import annotations

import sqlite3
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Sequence

from ingestion.errors import StoreError


def connect(path: Path) -> sqlite3.Connection:
    """A connection that issues its own BEGIN/COMMIT (``isolation_level=None``), in WAL mode, that
    waits up to 30 s for another writer, with foreign keys on."""
    # isolation_level=None: we issue BEGIN/COMMIT ourselves, so a group of writes is one transaction.
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("PRAGMA foreign_keys=ON")
    return db


def migrate(db: sqlite3.Connection, migrations: Sequence[str], *, what: str) -> None:
    """Run the migrations ``db`` has not seen yet, each in its own transaction."""
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if version > len(migrations):
        raise StoreError(f"{what} has schema {version}, newer than this ragft knows", fix="upgrade ragft")
    for number in range(version, len(migrations)):
        # executescript would commit an open transaction first, so the script carries its own.
        try:
            db.executescript(f"BEGIN IMMEDIATE;{migrations[number]};PRAGMA user_version={number + 1};COMMIT;")
        except sqlite3.Error:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise


@contextmanager
def transaction(db: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """``BEGIN IMMEDIATE`` ... ``COMMIT`` (``ROLLBACK`` on any error): one writer at a time."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")
