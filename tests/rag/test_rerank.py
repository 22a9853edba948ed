"""The optional cross-encoder rerank, with a tiny random-weight cross-encoder built in the test."""

from __future__ import annotations

import pytest

from ingestion.errors import ModelError
from rag.retrieval import Retriever
from tests.conftest import ingest


@pytest.fixture(scope="module")
def tiny_cross_encoder(tmp_path_factory):
    import torch
    from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification

    from rag.embeddings import default_model_dir

    path = tmp_path_factory.mktemp("tiny-ce")
    tokenizer = AutoTokenizer.from_pretrained(default_model_dir())
    torch.manual_seed(0)
    config = BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64, num_labels=1)
    BertForSequenceClassification(config).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return str(path)


def test_rerank_orders_hits_by_cross_encoder_score(make_index, tmp_path, tiny_cross_encoder):
    from sentence_transformers import CrossEncoder

    docs = tmp_path / "docs"
    docs.mkdir()
    for n, topic in enumerate(["rivers", "mountains", "deserts", "forests", "glaciers", "lakes"]):
        (docs / f"{topic}.md").write_text(f"# {topic}\n\nFacts about {topic}: item {n} of the nature survey.", encoding="utf-8")
    index = make_index()
    ingest(index, [docs])
    query = "nature survey facts"
    plain = Retriever(index).search(query, k=4, mode="hybrid").hits
    reranked = Retriever(index, reranker=tiny_cross_encoder).search(query, k=4, mode="hybrid").hits
    scores = CrossEncoder(tiny_cross_encoder, device="cpu").predict([(query, h.text) for h in reranked])
    assert list(scores) == sorted(scores, reverse=True)
    assert [h.score for h in reranked] == pytest.approx([float(s) for s in scores], abs=1e-5)
    assert {h.chunk_id for h in plain} != set() and len(reranked) == 4


def test_missing_reranker_is_a_model_error(make_index, tmp_path):
    docs = tmp_path / "d.md"
    docs.write_text("# T\n\nSome text about rerankers.", encoding="utf-8")
    index = make_index()
    ingest(index, [docs])
    with pytest.raises(ModelError, match="--rerank"):
        Retriever(index, reranker=str(tmp_path / "no-such-model")).search("rerankers", k=1)
