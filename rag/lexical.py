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


# Rank inside FTS5 first and join the chunk rows of the top hits only: joining every match to
# ``chunks`` before sorting costs one B-tree lookup per matching row (3x slower at 100k chunks,
# see benchmarks/RESULTS.md). The subquery has a LIMIT, so SQLite does not flatten it into the
# join. The collection filter comes after the LIMIT, so ``search`` widens the window when other
# collections' chunks crowd the top.
_TOP = (
    "SELECT f.s, c.chunk_id, c.collection FROM ("
    "SELECT rowid, bm25(chunks_fts, 1.0, 0.5) AS s FROM chunks_fts WHERE chunks_fts MATCH ? "
    "ORDER BY s LIMIT ?) f JOIN chunks c ON c.id = f.rowid ORDER BY f.s"
)


class LexicalIndex:
    def __init__(self, connection: sqlite3.Connection) -> None:
        self._db = connection

    def search(self, query: str, *, collection: str, k: int) -> list[tuple[str, float]]:
        """Top-k (chunk_id, bm25 score) pairs; higher is better."""
        match = fts_query(query)
        if match is None or k <= 0:
            return []
        window = k
        while True:
            rows = self._db.execute(_TOP, (match, window)).fetchall()
            hits = [(cid, -float(score)) for score, cid, col in rows if col == collection]
            if len(hits) >= k or len(rows) < window:  # enough, or every match was seen
                return hits[:k]
            window *= 4
