"""The auto route's rules, one signal at a time: each decision names the signal that made it."""

from __future__ import annotations

import pytest

from assistant.router import AGENTIC_COST_S, Signals, decide

CONFIDENT = dict(confidence=0.8, threshold=0.5, top_sources=["hr/leave.md", "hr/onboarding.md"])
UNSURE = dict(confidence=0.2, threshold=0.5, top_sources=["hr/leave.md"])
ADAPTER = dict(adapter="hr-v1", adapter_sources=["hr/leave.md"], adapter_recall=0.8, adapter_recall_on="held-out wordings")
FORGETFUL = dict(ADAPTER, adapter_recall=0.1)  # trained, but recalls few of its facts (the quick preset)


def test_confident_retrieval_without_an_adapter_goes_to_naive():
    d = decide(Signals(**CONFIDENT))
    assert d.route == "naive" and "confident retrieval (0.80 >= 0.50)" in d.reason


def test_a_two_part_question_goes_to_agentic_unless_the_budget_is_too_tight():
    assert decide(Signals(**CONFIDENT, multi_part=True)).route == "agentic"
    assert decide(Signals(**CONFIDENT, multi_part=True, budget_s=AGENTIC_COST_S / 2)).route == "naive"


def test_low_confidence_uses_a_fresh_adapter_else_agentic_retries():
    d = decide(Signals(**UNSURE, **ADAPTER))
    assert d.route == "finetuned" and "below the collection's threshold 0.50" in d.reason and "hr-v1" in d.reason
    assert decide(Signals(**UNSURE)).route == "agentic"
    assert decide(Signals(**UNSURE, budget_s=0.5)).route == "naive"


@pytest.mark.parametrize("adapter, said", [(FORGETFUL, "recalled 10% of held-out wordings (below 50%)"),
                                           (dict(ADAPTER, adapter_recall=None), "recall of its facts was not measured")])
def test_an_adapter_that_does_not_know_its_facts_never_answers_from_its_weights(adapter, said):
    low = decide(Signals(**UNSURE, **adapter))
    assert low.route == "agentic" and said in low.reason and "so not from its weights" in low.reason
    high = decide(Signals(**CONFIDENT, **adapter))
    assert high.route == "naive" and said in high.reason and "so not the hybrid" in high.reason
    assert decide(Signals(**UNSURE, **dict(adapter, adapter_recall=0.5))).route == "finetuned"  # at the bar: trusted


def test_confident_on_a_document_the_adapter_learned_goes_to_hybrid():
    d = decide(Signals(**CONFIDENT, **ADAPTER))
    assert d.route == "hybrid" and "leave.md" in d.reason and "recalling 80% of held-out wordings" in d.reason
    other = dict(CONFIDENT, top_sources=["policies/travel.md"])
    assert decide(Signals(**other, **ADAPTER)).route == "naive"


@pytest.mark.parametrize("base", [CONFIDENT, UNSURE])
def test_a_changed_best_document_never_reaches_the_fine_tuned_weights(base):
    d = decide(Signals(**base, **ADAPTER, changed_sources=["hr/leave.md"]))
    assert d.route in ("naive", "agentic")
    assert d.reason.startswith("the adapter hr-v1 was trained before leave.md changed, so the fine-tuned model is stale")


def test_an_adapter_stale_elsewhere_is_not_trusted_from_its_weights_alone():
    # the question's best documents are unchanged, but the adapter is stale for another one:
    # low confidence means the answer is not in the index, so the weights would be the only source
    d = decide(Signals(**UNSURE, **ADAPTER, changed_sources=["hr/onboarding.md"]))
    assert d.route == "agentic"


def test_without_an_index_the_adapter_or_the_bare_model_answers():
    assert decide(Signals(indexed=False, adapter="hr-v1")).route == "finetuned"
    d = decide(Signals(indexed=False))
    assert d.route == "base" and "no index" in d.reason


def test_the_step_records_the_choice_and_every_signal():
    step = decide(Signals(**CONFIDENT)).to_step(0.0123)
    assert step["step"] == "router" and step["chosen"] == "naive" and step["seconds"] == 0.0123
    assert step["signals"]["confident"] is True and step["signals"]["top_sources"] == CONFIDENT["top_sources"]
