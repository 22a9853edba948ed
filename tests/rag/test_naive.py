"""Naive RAG control flow with a FakeChatModel over a real index: prompt, abstention, citations."""

from __future__ import annotations

import pytest

from ingestion.errors import ConfigError
from rag.abstain import THRESHOLD
from rag.chat_model import FakeChatModel, GenerationOptions
from rag.context import SYSTEM_PROMPT
from rag.naive import NaiveRAG
from rag.pipeline import ABSTAIN_ANSWER, RagSettings
from tests.rag.rag_corpus import corpus_index, retriever  # noqa: F401  (fixtures)

STEPS = ["retrieve", "score_sentences", "confidence", "build_context", "generate", "support", "cite"]


def test_answers_from_the_best_sentences_and_cites_the_source(retriever):
    model = FakeChatModel()
    model.enqueue(["Full-time employees receive 27 working days of paid vacation [1]."])
    out = NaiveRAG(model=model, retriever=retriever).answer("How many vacation days do full-time employees get?")
    assert not out.abstained and "27 working days" in out.answer
    assert out.citations[0].source.endswith("hr/leave.md") and "27 working days" in out.citations[0].span
    assert [s["step"] for s in out.steps] == STEPS and all(s["seconds"] >= 0 for s in out.steps)
    assert out.scores["grounded"] == 1.0 and out.scores["confidence"] > THRESHOLD
    (messages, options), = model.calls
    assert messages[0]["content"] == SYSTEM_PROMPT
    user = messages[-1]["content"]
    assert user.startswith("Context:\n[1] ") and "27 working days" in user and user.endswith("?")
    assert options.max_tokens == 64 and "\n\n" in options.stop  # short answers, one paragraph
    assert out.as_json()["citations"][0]["chunk_id"] == out.citations[0].chunk_id


def test_abstains_without_calling_the_model_when_retrieval_is_weak(retriever):
    model = FakeChatModel()  # no queued reply: a call would raise
    out = NaiveRAG(model=model, retriever=retriever).answer("Which Bluetooth protocol does the espresso machine use?")
    assert out.abstained and out.answer == ABSTAIN_ANSWER and out.citations == []
    assert model.calls == [] and [s["step"] for s in out.steps] == STEPS[:3]
    assert out.steps[-1]["abstain"] is True


def test_model_saying_it_does_not_know_is_an_abstention(retriever):
    model = FakeChatModel(default_reply="I don't know.")
    out = NaiveRAG(model=model, retriever=retriever).answer("How many weeks of parental leave does a parent get?")
    assert out.abstained and out.citations == [] and "no answer" in out.reason


def test_echoed_instructions_are_never_returned(retriever):
    model = FakeChatModel(default_reply="Sure. " + SYSTEM_PROMPT)
    out = NaiveRAG(model=model, retriever=retriever).answer("What did the customer with station KR-07 report?")
    assert out.abstained and SYSTEM_PROMPT not in out.answer and "instructions" in out.reason


def test_small_context_window_drops_sentences_to_fit(retriever):
    question = "How many vacation days do full-time employees get?"
    # The prompt scaffolding, question and answer take 184 (fake, word-count) tokens: 20 are left.
    model = FakeChatModel(context_window=204, default_reply="27 working days [1].")
    out = NaiveRAG(model=model, retriever=retriever).answer(question)
    build = next(s for s in out.steps if s["step"] == "build_context")
    assert build["budget"] == 20 and build["sentences"] == 1 and build["dropped"] == 1 and build["tokens"] <= 20
    assert "27 working days" in model.calls[0][0][-1]["content"]
    # No room at all: the route says so instead of sending a prompt that cannot fit.
    tiny = FakeChatModel(context_window=150)
    out = NaiveRAG(model=tiny, retriever=retriever).answer(question)
    assert out.abstained and tiny.calls == [] and "fits" in out.reason


def test_settings_and_questions_are_validated(retriever):
    with pytest.raises(ConfigError, match="-k"):
        RagSettings(k=0)
    with pytest.raises(ConfigError, match="mode"):
        RagSettings(mode="fuzzy")
    with pytest.raises(ConfigError, match="empty"):
        NaiveRAG(model=FakeChatModel(), retriever=retriever).answer("   ")
    rag = NaiveRAG(model=FakeChatModel(), retriever=retriever, options=GenerationOptions(max_tokens=16, stop=("END",)))
    assert rag.options.max_tokens == 16 and rag.options.stop == ("END", "\n\n")


def test_invented_numbers_are_dropped_and_the_best_sentence_is_quoted_instead(retriever):
    question = "How many vacation days do full-time employees get?"
    model = FakeChatModel()
    model.enqueue(["Employees get 27 working days [1]. They also get 45 bonus days.", "Employees get 30 days."])
    rag = NaiveRAG(model=model, retriever=retriever)
    partly = rag.answer(question)  # the supported sentence stays, the invented one goes
    assert partly.answer == "Employees get 27 working days [1]." and "dropped" in partly.reason
    assert next(s for s in partly.steps if s["step"] == "support")["dropped"] == ["45"]
    wholly = rag.answer(question)  # nothing supported is left: quote the best context sentence
    assert not wholly.abstained and "30" not in wholly.answer and "27 working days" in wholly.answer
    assert wholly.answer == wholly.context.sentences[0].text and "quoted" in wholly.reason
    assert wholly.citations[0].source.endswith("hr/leave.md")


class ScriptedJudge(FakeChatModel):
    """A judge model that replies by the kind of vote asked: ``{"state the answer": "yes", ...}``."""

    def __init__(self, votes: dict[str, str]) -> None:
        super().__init__()
        self.votes = votes

    def stream(self, messages, options=None):
        prompt = messages[-1]["content"]
        self.enqueue([next((reply for key, reply in self.votes.items() if key in prompt), "maybe")])
        return super().stream(messages, options)


def test_a_judge_vetoes_an_answer_it_finds_unsupported(retriever):
    model = FakeChatModel(default_reply="Full-time employees receive 27 working days of paid vacation [1].")
    judge = ScriptedJudge({"Is every fact": "no"})
    out = NaiveRAG(model=model, retriever=retriever, judge=judge).answer("How many vacation days do full-time employees get?")
    assert out.abstained and out.answer == ABSTAIN_ANSWER and "judge" in out.reason and out.citations == []
    vote = next(s for s in out.steps if s["step"] == "judge")
    assert vote["asked"] == "grounded" and vote["verdict"] is False
    assert "27 working days" in judge.calls[0][0][-1]["content"]  # the judge saw the context


def test_a_judge_overrules_the_gate_only_when_it_says_yes(retriever):
    question = "Which Bluetooth protocol does the espresso machine use?"  # the gate declines it (test above)
    model = FakeChatModel(default_reply="The espresso machine uses the kitchen protocol [1].")
    out = NaiveRAG(model=model, retriever=retriever, judge=ScriptedJudge({"state the answer": "yes", "Is every fact": "yes"})).answer(question)
    assert not out.abstained and len(model.calls) == 1
    conf = next(s for s in out.steps if s["step"] == "confidence")
    assert conf["abstain"] is True  # the gate's own decision is recorded as it was
    assert [s["verdict"] for s in out.steps if s["step"] == "judge"] == [True, True]
    for reply, verdict in (("no", False), ("maybe", None)):  # a "no" or an unclear reply leaves the gate's decision
        model = FakeChatModel()
        out = NaiveRAG(model=model, retriever=retriever, judge=ScriptedJudge({"state the answer": reply})).answer(question)
        assert out.abstained and model.calls == []
        assert out.steps[-1]["step"] == "judge" and out.steps[-1]["verdict"] is verdict


def test_quote_mode_answers_with_the_supporting_sentence_without_the_model(retriever):
    model = FakeChatModel()  # no queued reply: a call would raise
    rag = NaiveRAG(model=model, retriever=retriever,
                   settings=RagSettings(answer_mode="quote", answer_mode_why="quoting won on this collection"))
    out = rag.answer("How many vacation days do full-time employees get?")
    assert not out.abstained and "27 working days" in out.answer and model.calls == []
    assert out.reason == "quoted the supporting sentence (quoting won on this collection)"
    assert out.citations[0].source.endswith("hr/leave.md") and "quote" in [s["step"] for s in out.steps]


def test_a_sentence_fragment_is_replaced_by_the_supporting_sentence(retriever):
    model = FakeChatModel()
    model.enqueue(["working days of paid vacation per year and"])  # what a 135M model writes mid-sentence
    out = NaiveRAG(model=model, retriever=retriever).answer("How many vacation days do full-time employees get?")
    assert not out.abstained and out.answer.startswith("Full-time employees receive 27 working days")
    assert "fragment" in out.reason and out.citations


def test_unknown_answer_mode_is_a_config_error():
    with pytest.raises(ConfigError, match="answer_mode"):
        RagSettings(answer_mode="sing")


def test_a_judge_without_logits_grades_by_its_vote():
    from rag.checks import LLMJudge

    for reply, score in (("yes", 1.0), ("No.", 0.0), ("maybe", 0.5)):  # an HTTP judge: only the generated vote
        assert LLMJudge(ScriptedJudge({"state the answer": reply})).answers_score("Q?", "P.") == score
        assert LLMJudge(ScriptedJudge({"Is every fact": reply})).grounded_score("Q?", "A.", "C.") == score
