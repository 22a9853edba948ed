"""LangChain interfaces for ragft: the retriever as a ``BaseRetriever``, the routes as Runnables.

    from rag.langchain_adapters import RagftRetriever, RagRunnable
    docs = RagftRetriever(retriever=Retriever(index), k=4).invoke("How many vacation days?")
    chain = RagRunnable(pipeline=NaiveRAG(model=model, retriever=retriever))   # or AgenticRAG
    chain.invoke("How many vacation days?")      # {"answer", "abstained", "citations", "steps", ...}
    chain.batch(["q1", "q2"])                   # every Runnable method works (batch, LCEL pipes)

These are thin adapters over ragft's own objects, so LangChain users plug ragft's hybrid search
or whole answer pipelines into their chains; callbacks and tracing see each call as usual.
"""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import Runnable, RunnableConfig
from pydantic import ConfigDict

from ingestion.errors import ConfigError
from rag.retrieval import Hit, Retriever


def hit_document(hit: Hit) -> Document:
    return Document(
        id=hit.chunk_id,
        page_content=hit.text,
        metadata={"source": hit.source, "chunk_id": hit.chunk_id, "score": hit.score, "heading": hit.heading,
                  "page": hit.page, "position": hit.position},
    )


class RagftRetriever(BaseRetriever):
    """ragft's dense / lexical / hybrid search as a LangChain retriever (Documents with metadata)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    retriever: Retriever
    k: int = 5
    mode: str = "hybrid"

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        return [hit_document(h) for h in self.retriever.search(query, k=self.k, mode=self.mode).hits]


def _question(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        for key in ("question", "input", "query"):
            if isinstance(value.get(key), str):
                return value[key]
    raise ConfigError(
        f"a ragft chain takes a question string or a dict with 'question', got {type(value).__name__}",
        fix="call chain.invoke('your question') or chain.invoke({'question': ...})",
    )


class RagRunnable(Runnable[Any, dict]):
    """A ragft answer pipeline (``NaiveRAG``, ``AgenticRAG``: anything with ``answer(question)``)
    as a LangChain Runnable: a question (or ``{"question": ...}``) in, the answer dict out."""

    def __init__(self, *, pipeline: Any, name: str | None = None) -> None:
        if not callable(getattr(pipeline, "answer", None)):
            raise ConfigError("pipeline has no answer(question) method", fix="pass a NaiveRAG or AgenticRAG")
        self.pipeline = pipeline
        self.name = name or f"ragft-{type(pipeline).__name__}"

    def _answer(self, value: Any) -> dict:
        return self.pipeline.answer(_question(value)).as_json()

    def invoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> dict:  # noqa: A002
        return self._call_with_config(self._answer, input, config, run_type="chain")
