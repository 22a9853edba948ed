"""Dense, lexical and hybrid search over a real index."""

from __future__ import annotations

import pytest

from ingestion.errors import ConfigError
from rag.retrieval import Retriever, rrf
from tests.conftest import ingest

DOCS = {
    "leave.md": "# Leave policy\n\nEmployees receive 27 days of paid annual leave. Unused leave expires on March 31.",
    "travel.md": "# Travel\n\nEconomy class is required for flights shorter than 6 hours. Hotel budget is 180 EUR per night.",
    "security.md": "# Security\n\nPasswords rotate every 90 days. The badge office is in building K7, room 112.",
    "laptops.md": "# Hardware\n\nEngineers get a laptop refresh every 36 months. The standard model is the Vireo X14.",
}


@pytest.fixture
def index(make_index, tmp_path):
    root = tmp_path / "docs"
    root.mkdir()
    for name, text in DOCS.items():
        (root / name).write_text(text, encoding="utf-8")
    idx = make_index()
    ingest(idx, [root])
    return idx


@pytest.mark.parametrize("mode", ["dense", "lexical", "hybrid"])
def test_each_mode_finds_the_right_document(index, mode):
    result = Retriever(index).search("How many days of annual leave do employees get?", k=2, mode=mode)
    assert result.hits, mode
    assert result.hits[0].source.endswith("leave.md")
    assert "27 days" in result.hits[0].text


def test_dense_handles_paraphrase_without_shared_words(index):
    hits = Retriever(index).search("notebook computer replacement cycle", k=1, mode="dense").hits
    assert hits[0].source.endswith("laptops.md")


def test_lexical_finds_rare_identifier(index):
    hits = Retriever(index).search("K7", k=1, mode="lexical").hits
    assert hits and hits[0].source.endswith("security.md")


def test_hybrid_reports_both_ranks_and_fused_score(index):
    hits = Retriever(index).search("hotel budget per night", k=3, mode="hybrid").hits
    top = hits[0]
    assert top.source.endswith("travel.md")
    assert top.dense_rank == 1 and top.lexical_rank == 1
    assert top.score == pytest.approx(2 / 61, rel=1e-4)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_rrf_prefers_documents_ranked_by_both():
    scores = rrf([["a", "b", "c"], ["c", "a"]])
    assert max(scores, key=scores.get) == "a"
    assert scores["c"] > scores["b"]


def test_stopword_only_query_returns_no_lexical_hits(index):
    assert Retriever(index).search("what is the", k=3, mode="lexical").hits == []


def test_bad_arguments_name_the_option(index):
    with pytest.raises(ConfigError, match="--mode"):
        Retriever(index).search("x", mode="fuzzy")
    with pytest.raises(ConfigError, match="-k"):
        Retriever(index).search("x", k=0)


def test_lexical_hits_stay_in_their_collection_when_others_rank_higher(index, make_index, tmp_path):
    # 30 chunks of another collection outrank this collection's only match for the query.
    other_root = tmp_path / "other"
    other_root.mkdir()
    for i in range(30):
        (other_root / f"o{i}.md").write_text(f"# Annual leave {i}\n\nAnnual leave, annual leave and more annual leave {i}.", encoding="utf-8")
    other = make_index(collection="other-docs")
    ingest(other, [other_root])
    hits = Retriever(index).search("annual leave", k=2, mode="lexical").hits
    assert [h.source.rsplit("/", 1)[-1] for h in hits] == ["leave.md"]
    assert len(Retriever(other).search("annual leave", k=40, mode="lexical").hits) == 30
