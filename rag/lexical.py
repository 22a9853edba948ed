"""Lexical (BM25) search over the chunks, using the SQLite FTS5 index kept by the record manager.

FTS5 is a real inverted index with BM25 ranking; because its table lives in the record database
and is maintained by triggers, every ingest updates it in the same transaction as the records.
"""

from __future__ import annotations

import re
import sqlite3

_WORD = re.compile(r"\w+", re.UNICODE)

# Words too common to help ranking; dropping them keeps FTS5 from scoring most of the corpus.
STOPWORDS = frozenset(
    """a an and are as at be by can could did do does for from had has have how i if in into is it
    its me my no not of on or our so than that the their them then there these they this to us was
    we were what when where which who whom why will with would you your""".split()
)


def fts_query(text: str) -> str | None:
    """'How many days of leave?' -> '"many" OR "days" OR "leave"' (None when nothing is left)."""
    words: list[str] = []
    for word in _WORD.findall(text.lower()):
        if word not in STOPWORDS and word not in words:
            words.append(word)
    if not words:
        return None
    return " OR ".join('"' + w.replace('"', '""') + '"' for w in words)


class LexicalIndex:
    def __init__(self, connection: sqlite3.Connection) -> None:
        self._db = connection

    def search(self, query: str, *, collection: str, k: int) -> list[tuple[str, float]]:
        """Top-k (chunk_id, bm25 score) pairs; higher is better."""
        match = fts_query(query)
        if match is None or k <= 0:
            return []
        rows = self._db.execute(
            "SELECT c.chunk_id, bm25(chunks_fts, 1.0, 0.5) AS s FROM chunks_fts "
            "JOIN chunks c ON c.id = chunks_fts.rowid "
            "WHERE chunks_fts MATCH ? AND c.collection = ? ORDER BY s LIMIT ?",
            (match, collection, k),
        )
        return [(cid, -float(score)) for cid, score in rows]

    def doc_freq(self, terms: list[str], *, collection: str) -> dict[str, int]:
        """How many chunks of ``collection`` contain each term (porter-stemmed, like search)."""
        out: dict[str, int] = {}
        for term in terms:
            match = fts_query(term)
            if match is None:
                out[term] = 0
                continue
            (n,) = self._db.execute(
                "SELECT count(*) FROM chunks_fts JOIN chunks c ON c.id = chunks_fts.rowid "
                "WHERE chunks_fts MATCH ? AND c.collection = ?",
                (match, collection),
            ).fetchone()
            out[term] = int(n)
        return out

    def chunk_count(self, *, collection: str) -> int:
        (n,) = self._db.execute("SELECT count(*) FROM chunks WHERE collection = ?", (collection,)).fetchone()
        return int(n)
