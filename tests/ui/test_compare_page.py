"""Compare page: base and naive answer the same question side by side (real model, sample corpus)."""

from __future__ import annotations

import pytest

from tests.ui.app_fixtures import MODEL_TIMEOUT, app, errors, sample_home, sample_root  # noqa: F401

QUESTION = "What were Marrowfield's revenues in fiscal 2024?"


@pytest.mark.slow
def test_compare_base_and_naive_side_by_side(sample_home):
    at = app("compare")
    routes = at.multiselect(key="compare_routes")
    assert routes.label == "Routes" and routes.value == ["naive", "agentic"]
    at.text_input(key="compare_question").set_value(QUESTION)
    routes.set_value(["base", "naive"])
    at.button(key="compare_go").click().run(timeout=MODEL_TIMEOUT)
    assert not at.exception and errors(at) == []

    assert [s.value for s in at.subheader] == ["base", "naive"]
    last = at.session_state["compare_last"]
    base, naive = last["results"]
    assert last["question"] == QUESTION and base["route"] == "base" and naive["route"] == "naive"
    assert base["citations"] == [] and naive["citations"]
    captions = [c.value for c in at.caption]
    assert any(c.startswith("base · ") for c in captions) and any(c.startswith("naive · ") for c in captions)
    labels = [e.label for e in at.expander]
    assert labels == ["Sources (0)", f"Sources ({len(naive['citations'])})"]
    from assistant.arena.store import ArenaStore  # stored for voting, named (not blind)

    with ArenaStore.open(sample_home) as store:
        stored = store.get(last["comparison_id"])
    assert stored.routes == ["base", "naive"] and not stored.blind and stored.question == QUESTION
    assert any(last["comparison_id"] in c for c in captions)


def test_compare_needs_a_question(home):
    at = app("compare")
    at.button(key="compare_go").click().run()
    assert errors(at) == ["Type a question first (the Question box is empty)."]
