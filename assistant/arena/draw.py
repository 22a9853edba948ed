"""Which routes a blind comparison draws from, and the draw itself.

Every pair of the routes that can answer here is equally likely, and so is which of the two is
shown as "A": a voter who cannot see the names cannot learn a position bias either. The RAG
routes need an indexed collection, and the fine-tuned and hybrid routes a trained adapter; a route
that cannot answer would hand the other one a free win, so it is not drawn.
"""

from __future__ import annotations

import random
from typing import Sequence

from finetune import registry
from ingestion.errors import ConfigError
from ingestion.home import Home
from ingestion.records import RecordManager

RAG_ROUTES = ("naive", "agentic")
ADAPTER_ROUTES = ("finetuned", "hybrid")


def drawable_routes(home: Home, collection: str = "default") -> list[str]:
    """The routes that can answer in ``home`` now: base; naive and agentic when ``collection`` has
    documents; finetuned and hybrid when an adapter finished training."""
    routes = ["base"]
    if home.records_db.is_file():
        records = RecordManager(home.records_db)
        try:
            if records.documents(collection):
                routes += RAG_ROUTES
        finally:
            records.close()
    if any(row.get("status") == "complete" and row.get("adapter_dir") for row in registry.list_adapters(home)):
        routes += ADAPTER_ROUTES
    return routes


def draw_pair(routes: Sequence[str], rng: random.Random | None = None) -> tuple[str, str]:
    """Two different routes in random order: (shown as A, shown as B)."""
    names = list(dict.fromkeys(routes))
    if len(names) < 2:
        raise ConfigError(f"the arena needs two routes that can answer; only {', '.join(names) or 'none'} can",
                          fix="ingest documents (`ragft ingest PATH`) so the RAG routes can answer")
    a, b = (rng or random.SystemRandom()).sample(names, 2)
    return a, b
