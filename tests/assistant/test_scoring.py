"""Answer scores on the sample corpus's own text: a wrong attribute, an invented number, no context."""

from __future__ import annotations

import pytest

from assistant.scoring import contains, exact, faithfulness, reference_scores, score_answer, statements, token_f1
from ingestion.sample import edition_dir

VACATION = "How many days of vacation do employees get?"


@pytest.fixture(scope="module")
def leave_doc() -> str:
    return (edition_dir("v1") / "hr" / "leave-and-holidays.md").read_text(encoding="utf-8")


def test_the_carry_over_cap_does_not_answer_how_many_vacation_days(leave_doc):
    # The answer the naive route once gave: every number in it is in the context, yet it answers
    # another question (5 days is the carry-over cap; the document grants 27).
    wrong = score_answer(VACATION, "The annual leave must be used up to 5 days [1].", [leave_doc], references=["27"])
    right = score_answer(VACATION, "Full-time employees receive 27 working days of paid vacation [1].", [leave_doc],
                         references=["27"])
    assert wrong.answer_relevance < 0.8 <= right.answer_relevance == 1.0
    assert wrong.contains == 0.0 and right.contains == 1.0


def test_an_invented_number_is_not_faithful_and_half_is_half(leave_doc):
    assert faithfulness("Employees get 30 days of vacation.", VACATION, [leave_doc]) == 0.0
    both = "Full-time employees receive 27 working days of paid vacation. Employees also get a company car worth EUR 900."
    assert faithfulness(both, VACATION, leave_doc.splitlines()) == 0.5


def test_an_answer_of_the_wrong_kind_is_not_relevant(leave_doc):
    assert score_answer(VACATION, "The policy is generous.", [leave_doc]).answer_relevance == 0.0
    assert score_answer("Who approves leave?", "Leave is approved in Helm.", [leave_doc]).answer_relevance == 0.0


def test_without_context_only_the_kind_check_applies():
    s = score_answer("What is the capital of France?", "Paris.").to_dict()
    assert s == {"answer_relevance": 1.0}  # no faithfulness or context relevance without context


def test_context_relevance_is_how_much_of_the_question_the_best_sentence_holds(leave_doc):
    assert score_answer(VACATION, "27 days.", [leave_doc]).context_relevance == 1.0
    off = score_answer(VACATION, "27 days.", ["The canteen opens at 8:00 and serves lunch until 14:00."])
    assert off.context_relevance == 0.0


def test_statements_split_sentences_and_semicolons_without_markers():
    assert statements("It costs EUR 49 [1]; billed yearly. Support is included [2].") == [
        "It costs EUR 49", "billed yearly.", "Support is included."]


def test_reference_metrics_use_squad_normalisation():
    assert exact("The 27 days.", "27 days") == 1.0 and contains("about 1,500 EUR", "1500 eur") == 1.0
    assert token_f1("27 working days", "27 days") == pytest.approx(0.8)
    assert reference_scores("It is 27 [1].", ["30", "27"]) == (0.0, pytest.approx(0.5), 1.0)


def test_every_score_is_there_with_context_and_reference(leave_doc):
    s = score_answer(VACATION, "Employees receive 27 working days [1].", [leave_doc] * 3, references=["27"])
    assert set(s.to_dict()) == {"answer_relevance", "faithfulness", "context_relevance", "exact_match", "f1", "contains"}


def test_judge_mode_asks_the_judge_each_metric_over_a_real_endpoint(openai_server, leave_doc, tmp_path):
    # Wiring: the endpoint serves the bundled 135M model (too weak to judge well), so only the
    # calls and the ranges are asserted: one verdict per statement, one for each relevance.
    from assistant.llm import get_model
    from ingestion.home import Home
    from rag.checks import LLMJudge

    judge = LLMJudge(get_model(f"openai:judge@{openai_server.url}/v1", home=Home.resolve(tmp_path)))
    before = openai_server.hits.get("v1", 0)
    answer = "Full-time employees receive 27 working days [1]. Unused days carry over up to 5 days [1]."
    s = score_answer(VACATION, answer, [leave_doc], references=["27"], judge=judge)
    assert openai_server.hits.get("v1", 0) == before + 2 + 2
    assert all(0.0 <= v <= 1.0 for v in (s.faithfulness, s.answer_relevance, s.context_relevance))
    assert s.contains == 1.0  # reference metrics stay exact
    alone = score_answer("What is the capital of France?", "Paris.", judge=judge)
    assert alone.faithfulness is None and alone.context_relevance is None
    assert openai_server.hits.get("v1", 0) == before + 5
