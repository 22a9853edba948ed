"""Chroma embedded mode never owns an embedding function (so it can never download one)."""

from __future__ import annotations

import pytest

from rag.stores.chroma_store import ChromaStore


def test_collection_has_no_embedding_function_and_refuses_text(tmp_path):
    store = ChromaStore(location=tmp_path / "chroma", collection="probe")
    assert store._col.configuration.get("embedding_function") is None
    assert store._col.configuration["hnsw"]["space"] == "cosine"
    with pytest.raises(ValueError, match="embedding function"):
        store._col.query(query_texts=["hello"], n_results=1)


def test_upsert_query_delete_roundtrip(tmp_path, embedder):
    store = ChromaStore(location=tmp_path / "chroma", collection="probe")
    texts = ["red apples are sweet", "the train leaves at noon", "green apples are sour"]
    ids = ["c_" + str(i) * 32 for i in range(3)]
    store.upsert(ids, embedder.embed_documents(texts), ["/a", "/b", "/a"])
    top = store.query(embedder.embed_query("when does the train depart"), 1)
    assert top[0][0] == ids[1] and 0.3 < top[0][1] <= 1.0
    store.delete(ids[:1])
    assert store.ids() == set(ids[1:]) and store.count() == 2
