"""Citations: one per chunk used, the best-supporting first, with the span that supports the answer."""

from __future__ import annotations

from rag.citations import answer_terms, cite, grounded_share, support
from rag.context import Context, Sentence, render


def context_of(sentences: list[Sentence]) -> Context:
    text, sources = render(sentences)
    return Context(sentences, sources, text, len(text.split()))


LEAVE = Sentence("Full-time employees receive 27 working days of paid vacation per year.", "/d/leave.md", "c_leave", "Annual leave")
HOTEL = Sentence("The standard hotel limit is EUR 180 per night.", "/d/travel.md", "c_travel", "Travel")


def test_supporting_chunk_is_cited_first_with_its_span():
    ctx = context_of([HOTEL, LEAVE])
    cites = cite("Employees get 27 working days of vacation [2].", "How many vacation days do employees get?", ctx)
    assert [c.chunk_id for c in cites] == ["c_leave", "c_travel"]  # every used chunk, supporting one first
    assert cites[0].span == LEAVE.text and cites[0].support == 1.0
    assert cites[1].span == ""  # the hotel sentence does not say what the answer says
    assert cites[0].as_json() == {"source": "/d/leave.md", "chunk_id": "c_leave", "span": LEAVE.text}


def test_restated_question_words_do_not_count_as_support():
    # "vacation days" comes from the question; only "27" is new, and only LEAVE holds it.
    weights = dict(answer_terms("Employees get 27 vacation days.", "How many vacation days do employees get?"))
    assert set(weights) == {"27"} and weights["27"] == 2.0
    assert support(list(weights.items()), HOTEL.text) == 0.0


def test_no_context_no_citations_and_grounded_share():
    assert cite("anything", "q", Context()) == []
    assert grounded_share("The limit is EUR 180 per night.", "What is the hotel limit?", HOTEL.text) == 1.0
    assert grounded_share("The limit is EUR 250 per night.", "What is the hotel limit?", HOTEL.text) < 0.7


def test_each_source_an_answer_names_is_scored_on_its_own_clause():
    handbook = Sentence("Benefits Handbook 2025, valid from 1 January 2025.", "/d/handbook.pdf", "c_hb", "Benefits")
    overview = Sentence("Marrowfield had 612 employees at the start of 2025.", "/d/overview.md", "c_ov", "Overview")
    ctx = context_of([overview, handbook])
    answer = "The handbook is dated 2025 [2] and the number of employees is 612 [1]."
    question = "How many employees did Marrowfield have at the start of 2025?"
    # Over the whole answer, neither sentence reaches the span bar: the clauses dilute each other.
    assert support(answer_terms(answer, question), overview.labelled) < 0.5
    cites = cite(answer, question, ctx)
    assert cites[0].chunk_id == "c_ov" and cites[0].span == overview.text
    # An unmarked answer is scored as a whole, as before.
    assert cite("The handbook is dated 2025 and the number of employees is 612.", question, ctx)[0].span == ""
