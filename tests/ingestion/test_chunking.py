"""Chunking with the real embedder tokenizer: lengths, sentences, overlap, identity, dedup."""

from __future__ import annotations

import pytest

from ingestion.chunking import Chunker, ChunkSettings, chunk_id_for
from ingestion.document import Document, Section
from ingestion.errors import ConfigError


def _doc(*sections: Section, atomic: bool = False, kind: str = "md") -> Document:
    return Document(source="/docs/a.md", kind=kind, content_hash="h", sections=sections, atomic_sections=atomic)


SENTENCES = [f"Sentence number {i} says that system S{i} has a limit of {i * 7} units." for i in range(60)]


@pytest.fixture(scope="module")
def tokenize(embedder):
    return embedder.tokenize


def test_chunks_respect_token_budget_and_sentence_boundaries(tokenize):
    chunker = Chunker(settings=ChunkSettings(chunk_tokens=64, chunk_overlap=16), tokenize=tokenize)
    chunks = chunker.chunk(_doc(Section(" ".join(SENTENCES), ("Limits",))), collection="default")
    assert len(chunks) > 5
    for c in chunks:
        assert len(tokenize(c.text)) <= 64
        assert c.text.startswith("Sentence number") and c.text.endswith("units."), c.text
        assert c.heading == "Limits"
    # Overlap: the last sentence of one chunk opens the next.
    assert chunks[1].text.split(". ")[0] in chunks[0].text
    assert [c.position for c in chunks] == list(range(len(chunks)))


def test_ids_follow_content_not_position(tokenize):
    chunker = Chunker(settings=ChunkSettings(chunk_tokens=48, chunk_overlap=0), tokenize=tokenize)
    before = chunker.chunk(_doc(Section("Intro paragraph about nothing."), Section(" ".join(SENTENCES[:10]))), collection="default")
    after = chunker.chunk(_doc(Section("A brand new opening paragraph with other words entirely."), Section(" ".join(SENTENCES[:10]))), collection="default")
    shared = {c.chunk_id for c in before} & {c.chunk_id for c in after}
    assert len(shared) == len(before) - 1, "only the edited section's chunk changes id"
    assert before[0].chunk_id != after[0].chunk_id
    assert chunk_id_for("a", "/x", "h", 0) != chunk_id_for("b", "/x", "h", 0)


def test_duplicate_sections_are_dropped_and_repeats_get_distinct_ids(tokenize):
    chunker = Chunker(settings=ChunkSettings(), tokenize=tokenize)
    text = "The vault door closes at 19:00 every weekday and opens at 07:30."
    chunks = chunker.chunk(_doc(Section(text), Section(text), Section(text.replace("19:00", "19:00 "))), collection="default")
    assert len(chunks) == 1


def test_record_rows_stay_whole_and_near_identical_rows_survive(tokenize):
    rows = [Section(f"office: Site {i}; lead: Person {i}; desks: {10 + i}") for i in range(5)]
    chunks = Chunker(settings=ChunkSettings(), tokenize=tokenize).chunk(_doc(*rows, atomic=True, kind="csv"), collection="default")
    assert [c.text for c in chunks] == [r.text for r in rows]


def test_pdf_running_headers_are_removed(tokenize):
    pages = [Section(f"ACME CONFIDENTIAL\nPage body {i} talks about widget {i} and its {i} bolts.\nACME CONFIDENTIAL", page=i) for i in range(1, 5)]
    chunks = Chunker(settings=ChunkSettings(), tokenize=tokenize).chunk(_doc(*pages, kind="pdf"), collection="default")
    assert chunks and all("CONFIDENTIAL" not in c.text for c in chunks)
    assert [c.page for c in chunks] == [1, 2, 3, 4]


@pytest.mark.parametrize(
    "kwargs, field",
    [({"chunk_tokens": 8}, "chunk-tokens"), ({"chunk_tokens": 64, "chunk_overlap": 64}, "chunk-overlap"), ({"dedup_threshold": 0.1}, "dedup_threshold")],
)
def test_settings_are_validated_with_the_field_named(kwargs, field):
    with pytest.raises(ConfigError) as err:
        ChunkSettings(**kwargs)
    assert field in str(err.value)
