"""Which routes the arena draws: only those that can answer, every order equally likely."""

from __future__ import annotations

import collections
import random

import pytest

from assistant.arena.draw import draw_pair, drawable_routes
from ingestion.errors import ConfigError
from ingestion.home import Home
from tests.conftest import ingest


def test_an_empty_home_has_only_the_base_route_and_cannot_draw(tmp_path):
    home = Home.resolve(tmp_path)
    assert drawable_routes(home) == ["base"]
    with pytest.raises(ConfigError, match="needs two routes.*ingest"):
        draw_pair(drawable_routes(home))


def test_an_indexed_collection_adds_the_rag_routes(home, make_index, tmp_path):
    doc = tmp_path / "leave.md"
    doc.write_text("# Leave\n\nEmployees get 27 working days of annual leave.\n", encoding="utf-8")
    index = make_index(collection="handbook")
    assert ingest(index, [doc]).added == 1
    index.close()
    assert drawable_routes(home, "handbook") == ["base", "naive", "agentic"]
    assert drawable_routes(home, "elsewhere") == ["base"]


def test_pairs_and_sides_are_uniform():
    rng = random.Random(7)
    seen = collections.Counter(draw_pair(["base", "naive", "agentic"], rng) for _ in range(6000))
    assert len(seen) == 6  # 3 pairs x 2 sides
    assert all(800 < n < 1200 for n in seen.values()), seen
