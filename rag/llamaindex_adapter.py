"""ragft's search as a LlamaIndex retriever, for query engines and other LlamaIndex components.

    from rag.llamaindex_adapter import RagftLlamaRetriever
    nodes = RagftLlamaRetriever(Retriever(index), k=4).retrieve("How many vacation days?")
    # [NodeWithScore(node=TextNode(id_=chunk_id, text=..., metadata={"source", ...}), score=...)]
"""

from __future__ import annotations

from llama_index.core.callbacks import CallbackManager
from llama_index.core.retrievers import BaseRetriever
from llama_index.core.schema import NodeWithScore, QueryBundle, TextNode

from rag.retrieval import Retriever


class RagftLlamaRetriever(BaseRetriever):
    def __init__(self, retriever: Retriever, *, k: int = 5, mode: str = "hybrid",
                 callback_manager: CallbackManager | None = None) -> None:
        self._ragft = retriever
        self._k = k
        self._mode = mode
        super().__init__(callback_manager=callback_manager)

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        hits = self._ragft.search(query_bundle.query_str, k=self._k, mode=self._mode).hits
        return [
            NodeWithScore(
                node=TextNode(id_=h.chunk_id, text=h.text,
                              metadata={"source": h.source, "chunk_id": h.chunk_id, "heading": h.heading, "page": h.page}),
                score=h.score,
            )
            for h in hits
        ]
