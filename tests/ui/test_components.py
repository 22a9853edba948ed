"""The pieces the pages share: span highlighting and the answer's caption lines (no app needed)."""

from __future__ import annotations

from ui.components import caption_line, highlighted, source_names


def test_highlight_marks_the_span_inside_its_passage_and_escapes_markdown():
    passage = "Employees get 27 working days. Up to 5 days carry over [see *policy*]."
    out = highlighted(passage, "Up to 5 days carry over [see *policy*].")
    assert out == "Employees get 27 working days. :orange-background[Up to 5 days carry over \\[see \\*policy\\*\\].]"


def test_highlight_of_a_span_missing_from_the_passage_appends_it_and_no_span_marks_nothing():
    assert highlighted("Some text.", "Other.") == "Some text.\n\n:orange-background[Other.]"
    assert highlighted("Some text.", "") == "Some text."
    assert highlighted("", "") == ""


def test_caption_and_sources_lines():
    result = {"route": "naive", "model": "m", "tokens": {"completion": 7}, "latency_s": 1.234,
              "citations": [{"source": "a.md"}, {"source": "b.md"}, {"source": "a.md"}]}
    assert caption_line(result) == "naive · m · 7 tokens · 1.23 s"
    assert source_names(result["citations"]) == ["a.md", "b.md"]
