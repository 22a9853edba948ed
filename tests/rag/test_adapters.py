"""LangChain (BaseRetriever, Runnable) and LlamaIndex (BaseRetriever) adapters over a real index."""

from __future__ import annotations

import pytest

from ingestion.errors import ConfigError
from rag.chat_model import FakeChatModel
from rag.naive import NaiveRAG
from tests.rag.rag_corpus import corpus_index, retriever  # noqa: F401  (fixtures)

QUESTION = "How many vacation days do full-time employees get?"


def test_langchain_retriever_returns_documents(retriever):
    from langchain_core.retrievers import BaseRetriever

    from rag.langchain_adapters import RagftRetriever

    lc = RagftRetriever(retriever=retriever, k=2)
    assert isinstance(lc, BaseRetriever)
    docs = lc.invoke(QUESTION)
    assert len(docs) == 2 and "27 working days" in docs[0].page_content
    assert docs[0].metadata["source"].endswith("leave.md") and docs[0].id == docs[0].metadata["chunk_id"]
    assert [d.metadata["chunk_id"] for d in lc.batch([QUESTION, QUESTION])[1]] == [d.id for d in docs]


def test_langchain_runnable_answers_and_composes(retriever):
    from langchain_core.runnables import Runnable, RunnableLambda

    from rag.langchain_adapters import RagRunnable

    model = FakeChatModel(default_reply="Employees receive 27 working days [1].")
    chain = RagRunnable(pipeline=NaiveRAG(model=model, retriever=retriever))
    assert isinstance(chain, Runnable)
    out = chain.invoke(QUESTION)
    assert out["answer"].startswith("Employees receive 27") and out["citations"][0]["source"].endswith("leave.md")
    assert [s["step"] for s in out["steps"]][0] == "retrieve"
    piped = RunnableLambda(lambda q: {"question": q}) | chain | RunnableLambda(lambda r: r["abstained"])
    assert piped.invoke(QUESTION) is False
    with pytest.raises(ConfigError, match="question"):
        chain.invoke(42)


def test_llamaindex_retriever_returns_scored_nodes(retriever):
    from llama_index.core.retrievers import BaseRetriever

    from rag.llamaindex_adapter import RagftLlamaRetriever

    li = RagftLlamaRetriever(retriever, k=3, mode="hybrid")
    assert isinstance(li, BaseRetriever)
    nodes = li.retrieve(QUESTION)
    assert len(nodes) == 3 and "27 working days" in nodes[0].node.get_content()
    assert nodes[0].node.metadata["source"].endswith("leave.md") and nodes[0].score >= nodes[1].score
