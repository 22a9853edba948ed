"""Comparisons and votes in SQLite (``HOME/arena.db``): what was asked, what each route answered,
and which answer the user preferred.

A comparison keeps everything a later reader needs to trust a vote: the question, the collection
and its corpus snapshot (the digest ``assistant.calibration.snapshot`` gives), the model profile,
whether the routes were hidden from the voter (``blind``), and per answer its route, model,
adapter, answer text, scores and the whole ``ragft ask --json`` object. SQLite is used for the same
reasons as the record database: transactional, in the standard library, safe for several
processes (WAL mode; each write is one ``BEGIN IMMEDIATE`` transaction, so two browser tabs voting
at once both land).

One vote per comparison: the ``votes`` primary key makes a second vote fail inside the database,
so two voters racing on one comparison cannot both win; the loser gets a ``ConfigError`` naming
the vote already stored, and nothing stored changes.
"""

from __future__ import annotations

import itertools
import json
import sqlite3
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ContextManager, Sequence

from assistant.arena.ratings import Battle, battles_of, letter, position
from assistant.routes import ROUTES
from ingestion.database import connect, migrate, transaction
from ingestion.errors import ConfigError, StoreError
from ingestion.home import Home
from ingestion.records import now_iso

# Numbered, append-only migrations: never edit one that has shipped; add the next.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE comparisons (
        id TEXT PRIMARY KEY,
        created_at TEXT NOT NULL,
        question TEXT NOT NULL,
        collection TEXT NOT NULL,
        corpus_snapshot TEXT NOT NULL,
        profile TEXT,
        blind INTEGER NOT NULL
    );
    CREATE TABLE answers (
        comparison_id TEXT NOT NULL REFERENCES comparisons(id),
        position INTEGER NOT NULL,
        route TEXT NOT NULL,
        model TEXT,
        adapter TEXT,
        answer TEXT,
        abstained INTEGER NOT NULL DEFAULT 0,
        error TEXT,
        scores TEXT NOT NULL DEFAULT '{}',
        result TEXT NOT NULL,
        PRIMARY KEY (comparison_id, position)
    );
    CREATE TABLE votes (
        comparison_id TEXT PRIMARY KEY REFERENCES comparisons(id),
        winner TEXT NOT NULL CHECK (winner IN ('tie', 'bad') OR (length(winner) = 1 AND winner BETWEEN 'a' AND 'z')),
        voted_at TEXT NOT NULL
    );
    CREATE INDEX comparisons_by_collection ON comparisons(collection, created_at);
    """,
)

MAX_ROUTES = len(ROUTES)  # every route at once
WINNERS = (*(letter(i) for i in range(MAX_ROUTES)), "tie", "bad")
NO_VOTES = "no votes yet: compare routes (`ragft compare QUESTION --routes a,b`, or the app's Arena page) and vote"


@dataclass(frozen=True)
class Comparison:
    id: str
    created_at: str
    question: str
    collection: str
    corpus_snapshot: str
    profile: str | None
    blind: bool
    results: list[dict[str, Any]]  # in letter order; a failed route: {"route", "error"}
    winner: str | None = None
    voted_at: str | None = None

    @property
    def routes(self) -> list[str]:
        return [r["route"] for r in self.results]

    @property
    def winner_route(self) -> str | None:
        """The route the vote chose (None: no vote yet, a tie, or both bad)."""
        return None if self.winner in (None, "tie", "bad") else self.routes[position(self.winner)]

    @property
    def answered(self) -> list[int]:
        """Positions of the routes that answered (a failed route takes no part in the vote)."""
        return [i for i, r in enumerate(self.results) if not r.get("error")]

    def to_dict(self) -> dict[str, Any]:
        return {"comparison_id": self.id, "created_at": self.created_at, "question": self.question,
                "collection": self.collection, "corpus_snapshot": self.corpus_snapshot, "profile": self.profile,
                "blind": self.blind, "routes": self.routes, "winner": self.winner, "voted_at": self.voted_at}


class ArenaStore:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        try:
            self._db = connect(self.path)
            migrate(self._db, MIGRATIONS, what=f"arena database {self.path}")
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"arena database {self.path} is unreadable: {exc}",
                             fix="move the file away to start a new arena (its votes are lost) or restore it from a backup") from exc

    @classmethod
    def open(cls, home: Home) -> "ArenaStore":
        return cls(home.root / "arena.db")

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> "ArenaStore":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writing ------------------------------------------------------------------------------
    def record(self, question: str, results: Sequence[dict[str, Any]], *, collection: str, corpus_snapshot: str = "",
               profile: str | None = None, blind: bool = False) -> str:
        """Store one comparison (``results``: ``Outcome.to_dict()`` per route, in A, B, ... order)."""
        if not question.strip():
            raise ConfigError("the comparison has no question", fix="pass a question")
        if not 1 <= len(results) <= MAX_ROUTES:
            raise ConfigError(f"a comparison holds 1 to {MAX_ROUTES} routes, not {len(results)}",
                              fix=f"compare at most {MAX_ROUTES} routes at once")
        cid = uuid.uuid4().hex[:12]
        with self._write() as db:
            db.execute("INSERT INTO comparisons (id, created_at, question, collection, corpus_snapshot, profile, blind) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?)",
                       (cid, now_iso(), question, collection, corpus_snapshot, profile, int(blind)))
            for position, r in enumerate(results):
                db.execute("INSERT INTO answers (comparison_id, position, route, model, adapter, answer, abstained, error, "
                           "scores, result) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                           (cid, position, r["route"], r.get("model"), r.get("adapter"), r.get("answer"),
                            int(bool(r.get("abstained"))), r.get("error"), json.dumps(r.get("scores") or {}),
                            json.dumps(r, ensure_ascii=False, default=str)))
        return cid

    def vote(self, comparison_id: str, winner: str) -> Comparison:
        """Record the one vote of a comparison; ``winner`` is a letter (a, b, ...), ``tie`` or ``bad``."""
        comparison = self.get(comparison_id)
        answered = comparison.answered
        letters = [letter(i) for i in answered]
        choices = letters + ["tie", "bad"]
        if len(answered) < 2:
            raise ConfigError(f"comparison {comparison_id} has {len(answered)} answered route(s); a vote needs two",
                              fix="compare at least two routes (ragft compare QUESTION --routes a,b)")
        if winner not in choices:
            raise ConfigError(f"--winner {winner!r} is not a choice for comparison {comparison_id}",
                              fix=f"use one of {', '.join(choices)}")
        if comparison.winner is not None:
            raise self._already(comparison)
        try:
            with self._write() as db:
                db.execute("INSERT INTO votes (comparison_id, winner, voted_at) VALUES (?, ?, ?)",
                           (comparison_id, winner, now_iso()))
        except sqlite3.IntegrityError:  # another voter got there between our read and this write
            raise self._already(self.get(comparison_id)) from None
        return self.get(comparison_id)

    @staticmethod
    def _already(c: Comparison) -> ConfigError:
        return ConfigError(f"comparison {c.id} already has a vote ({c.winner}, at {c.voted_at})",
                           fix="each comparison takes one vote; ask a new comparison to vote again")

    # -- reading ------------------------------------------------------------------------------
    def get(self, comparison_id: str) -> Comparison:
        row = self._db.execute("SELECT c.id, c.created_at, c.question, c.collection, c.corpus_snapshot, c.profile, c.blind, "
                               "v.winner, v.voted_at FROM comparisons c LEFT JOIN votes v ON v.comparison_id = c.id "
                               "WHERE c.id = ?", (comparison_id,)).fetchone()
        if row is None:
            raise ConfigError(f"no comparison {comparison_id!r} in {self.path}",
                              fix="use the comparison_id that `ragft compare --json` printed")
        results = [json.loads(r[0]) for r in self._db.execute(
            "SELECT result FROM answers WHERE comparison_id = ? ORDER BY position", (comparison_id,))]
        return Comparison(id=row[0], created_at=row[1], question=row[2], collection=row[3], corpus_snapshot=row[4],
                          profile=row[5], blind=bool(row[6]), results=results, winner=row[7], voted_at=row[8])

    def battles(self, collection: str | None = None) -> list[Battle]:
        """Every vote as pairwise battles, oldest vote first (one query: each vote with its answered routes)."""
        query = ("SELECT v.comparison_id, c.collection, v.winner, a.position, a.route FROM votes v "
                 "JOIN comparisons c ON c.id = v.comparison_id "
                 "JOIN answers a ON a.comparison_id = v.comparison_id AND a.error IS NULL"
                 + (" WHERE c.collection = ?" if collection else "") + " ORDER BY v.voted_at, v.rowid, a.position")
        out: list[Battle] = []
        rows = self._db.execute(query, (collection,) if collection else ()).fetchall()
        for (cid, coll, winner), group in itertools.groupby(rows, key=lambda r: r[:3]):
            answered = [(p, route) for *_, p, route in group]
            if winner not in ("tie", "bad"):  # the stored letter names a position among all answers
                winner = letter([p for p, _ in answered].index(position(winner)))
            out += battles_of([route for _, route in answered], winner, collection=coll, vote=cid)
        return out

    def collections(self) -> list[str]:
        return [r[0] for r in self._db.execute(
            "SELECT DISTINCT c.collection FROM votes v JOIN comparisons c ON c.id = v.comparison_id ORDER BY 1")]

    def counts(self) -> dict[str, int]:
        comparisons = self._db.execute("SELECT COUNT(*) FROM comparisons").fetchone()[0]
        votes = self._db.execute("SELECT COUNT(*) FROM votes").fetchone()[0]
        return {"comparisons": comparisons, "votes": votes}

    def _write(self) -> ContextManager[sqlite3.Connection]:
        return transaction(self._db)



def corpus_snapshot(home: Home, collection: str) -> str:
    """The digest of ``collection``'s documents now ('' when nothing is indexed)."""
    from assistant.calibration import snapshot
    from ingestion.records import RecordManager

    if not home.records_db.is_file():
        return ""
    records = RecordManager(home.records_db)
    try:
        return snapshot(records, collection) if records.documents(collection) else ""
    finally:
        records.close()


def record_comparison(home: Home, question: str, results: Sequence[dict[str, Any]], *, collection: str,
                      profile: str | None = None, blind: bool = False) -> str:
    """Store a comparison in ``home``'s arena with the corpus snapshot taken now; its id."""
    with ArenaStore.open(home) as store:
        return store.record(question, results, collection=collection, corpus_snapshot=corpus_snapshot(home, collection),
                            profile=profile, blind=blind)
