"""Token-aware, sentence-respecting chunking of loaded documents.

llama-index-core's ``SentenceSplitter`` does the splitting (sentences kept whole, overlap made of
whole sentences, lengths measured with the embedder's own tokenizer); this module adds the
identity every chunk needs for incremental ingestion. Shapes::

    Chunk(chunk_id="c_<32 hex>", source="/abs/doc.md", position=3, heading="Guide > Install",
          page=None, text="...", text_hash="<sha256 hex>", version=2)

A chunk id depends on (collection, source, text hash, occurrence of that text in the document),
not on its position: editing one paragraph changes only the ids of the chunks it touches, so a
re-ingest embeds only those.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from typing import Callable, Sequence

from ingestion.clean import Deduplicator, clean_text, remove_boilerplate
from ingestion.document import Document
from ingestion.errors import ConfigError

Tokenize = Callable[[str], Sequence[object]]


@dataclass(frozen=True)
class Chunk:
    chunk_id: str
    source: str
    position: int
    heading: str
    page: int | None
    text: str
    text_hash: str
    version: int = 1


@dataclass(frozen=True)
class ChunkSettings:
    """How documents are cut. Changing any field re-chunks every document on the next ingest."""

    chunk_tokens: int = 200
    """Target chunk length in embedder tokens (all-MiniLM-L6-v2 reads at most 256)."""
    chunk_overlap: int = 32
    """Tokens shared by consecutive chunks of one section (whole sentences)."""
    dedup_threshold: float = 0.9
    """Word-shingle Jaccard similarity above which a chunk is dropped as a near-duplicate."""

    def __post_init__(self) -> None:
        if not 16 <= self.chunk_tokens <= 8192:
            raise ConfigError(
                f"chunk_tokens={self.chunk_tokens} is out of range",
                fix="use --chunk-tokens between 16 and 8192",
            )
        if not 0 <= self.chunk_overlap < self.chunk_tokens:
            raise ConfigError(
                f"chunk_overlap={self.chunk_overlap} must be >= 0 and less than chunk_tokens={self.chunk_tokens}",
                fix="lower --chunk-overlap",
            )
        if not 0.5 <= self.dedup_threshold <= 1.0:
            raise ConfigError(
                f"dedup_threshold={self.dedup_threshold} is out of range",
                fix="use a value between 0.5 and 1.0",
            )

    def fingerprint(self) -> str:
        return f"v1:{self.chunk_tokens}:{self.chunk_overlap}:{self.dedup_threshold}"


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def chunk_id_for(collection: str, source: str, text_hash: str, occurrence: int) -> str:
    digest = hashlib.sha256(f"{collection}\x00{source}\x00{text_hash}\x00{occurrence}".encode()).hexdigest()
    return "c_" + digest[:32]


class Chunker:
    """Cuts a ``Document`` into ``Chunk``s; loads the splitter lazily (llama-index import is slow)."""

    def __init__(self, *, settings: ChunkSettings, tokenize: Tokenize) -> None:
        self.settings = settings
        self._tokenize = tokenize
        self._splitter = None

    def _split(self, text: str) -> list[str]:
        if self._splitter is None:
            from llama_index.core.node_parser import SentenceSplitter

            self._splitter = SentenceSplitter(
                chunk_size=self.settings.chunk_tokens,
                chunk_overlap=self.settings.chunk_overlap,
                tokenizer=self._tokenize,
                paragraph_separator="\n\n",
            )
        return [t for t in self._splitter.split_text(text) if t.strip()]

    def chunk(self, doc: Document, *, collection: str, version: int = 1) -> list[Chunk]:
        texts = [clean_text(s.text) for s in doc.sections]
        if doc.kind == "pdf":  # running headers/footers repeat on pages; elsewhere repeats are content
            texts = remove_boilerplate(texts)
        # Records (csv rows, jsonl lines) that differ in one field are different facts: exact dedup only.
        dedup = Deduplicator(threshold=1.0 if doc.atomic_sections else self.settings.dedup_threshold)
        occurrences: dict[str, int] = {}
        chunks: list[Chunk] = []
        for section, text in zip(doc.sections, texts):
            if not text.strip():
                continue
            # Record-shaped files (csv rows, jsonl lines): one row is one unit, split only if huge.
            pieces = [text] if doc.atomic_sections and len(self._tokenize(text)) <= self.settings.chunk_tokens else self._split(text)
            for piece in pieces:
                piece = piece.strip()
                if not piece or not dedup.keep(piece):
                    continue
                text_hash = _sha(piece)
                occ = occurrences.get(text_hash, 0)
                occurrences[text_hash] = occ + 1
                chunks.append(
                    Chunk(
                        chunk_id=chunk_id_for(collection, doc.source, text_hash, occ),
                        source=doc.source,
                        position=len(chunks),
                        heading=" > ".join(section.heading_path),
                        page=section.page,
                        text=piece,
                        text_hash=text_hash,
                        version=version,
                    )
                )
        return chunks


def with_version(chunks: list[Chunk], version: int) -> list[Chunk]:
    return [replace(c, version=version) for c in chunks]
