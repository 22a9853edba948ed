"""The shared answer pipeline's helpers: what a quote answers with."""

from __future__ import annotations

from rag.context import ContextBuilder, ContextSettings, Sentence
from rag.pipeline import quote


def _count(text: str) -> int:
    return len(text.split())


def _chunk(*texts: str, chunk: str = "c1", score: float = 0.9) -> list[Sentence]:
    return [Sentence(t, "/d/git-archive.html", chunk, position=i, score=score - i / 10) for i, t in enumerate(texts)]


def test_a_quote_without_a_specific_takes_the_next_sentence_of_its_chunk():
    ranked = _chunk("Specify compression level.", "Default is -6 if not given.", "Larger values are slower.")
    ctx = ContextBuilder(settings=ContextSettings(max_sentences=1)).build(ranked, count_tokens=_count)
    assert [s.text for s in ctx.sentences] == ["Specify compression level."]
    assert quote("What zip compression level does git archive use?", ctx, ranked) == (
        "Specify compression level. Default is -6 if not given.")
    # Without the chunk's other sentences there is nothing to add.
    assert quote("What zip compression level does git archive use?", ctx) == "Specify compression level."


def test_a_quote_that_states_a_specific_stays_one_sentence():
    for first in ("The zip level defaults to 6.", "Use --fast for speed.", "Set core.compression instead."):
        ranked = _chunk(first, "Larger values are slower.")
        ctx = ContextBuilder(settings=ContextSettings(max_sentences=1)).build(ranked, count_tokens=_count)
        assert quote("Which level?", ctx, ranked) == first
    # The next sentence must be the next one of the same chunk, not any sentence.
    ranked = _chunk("Specify compression level.", chunk="c1") + _chunk("Default is -9.", chunk="c2", score=0.5)
    ctx = ContextBuilder(settings=ContextSettings(max_sentences=1)).build(ranked, count_tokens=_count)
    assert quote("Which level?", ctx, ranked) == "Specify compression level."
