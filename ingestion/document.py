"""What a loader returns: a document as text sections, before cleaning and chunking.

Shapes::

    Document(source="/abs/path/guide.md", kind="md", content_hash="<sha256 of the bytes>",
             sections=(Section(text="...", heading_path=("Guide", "Install")), ...),
             atomic_sections=False)

``atomic_sections`` is true for record-shaped files (.csv rows, .jsonl lines): each section is
one natural unit, and the chunker never merges two of them into one chunk.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Section:
    text: str
    heading_path: tuple[str, ...] = ()
    page: int | None = None  # 1-based page number for PDFs


@dataclass(frozen=True)
class Document:
    source: str
    kind: str
    content_hash: str
    sections: tuple[Section, ...]
    atomic_sections: bool = False
    metadata: dict[str, str] = field(default_factory=dict)

    @property
    def text(self) -> str:
        return "\n\n".join(s.text for s in self.sections)
