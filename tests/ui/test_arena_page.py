"""Arena page: two hidden routes answer, the vote is stored, only then the names show (real model)."""

from __future__ import annotations

import pytest

from assistant.arena.store import ArenaStore
from assistant.routes import ROUTES
from tests.ui.app_fixtures import MODEL_TIMEOUT, app, errors, sample_home, sample_root  # noqa: F401

QUESTION = "What were Marrowfield's revenues in fiscal 2024?"


def texts(at) -> list[str]:
    return [e.value for e in (*at.markdown, *at.caption, *at.subheader, *at.success, *at.info)]


@pytest.mark.slow
def test_blind_pair_vote_then_reveal(sample_home):
    at = app("arena")
    at.text_input(key="arena_question").set_value(QUESTION)
    at.button(key="arena_go").click().run(timeout=MODEL_TIMEOUT)
    assert not at.exception and errors(at) == []
    current = at.session_state["arena_current"]
    a, b = (r["route"] for r in current["results"])
    assert a != b and {a, b} <= {"base", "naive", "agentic"}  # no adapter in this home
    assert [s.value for s in at.subheader] == ["A", "B"]
    shown = " ".join(texts(at))
    assert not any(f"{name} ·" in shown or f"**{name}**" in shown for name in ROUTES)  # nothing names a route yet
    assert not any(r.get("model", "~") in shown for r in current["results"])

    at.button(key="arena_vote_b").click().run(timeout=MODEL_TIMEOUT)
    assert not at.exception and errors(at) == []
    assert [s.value for s in at.subheader] == [f"A: {a}", f"B: {b}"]
    assert at.success[0].value.startswith("Vote stored: B was better. A was ")
    with ArenaStore.open(sample_home) as store:
        c = store.get(current["comparison_id"])
    assert c.blind and c.winner == "b" and c.routes == [a, b] and c.question == QUESTION and c.corpus_snapshot


def test_arena_needs_a_question(home):
    at = app("arena")
    at.button(key="arena_go").click().run()
    assert errors(at) == ["Type a question first (the Question box is empty)."]


def test_arena_on_an_empty_home_explains_what_is_missing(home):
    at = app("arena")
    at.text_input(key="arena_question").set_value(QUESTION)
    at.button(key="arena_go").click().run()
    assert len(errors(at)) == 1 and "needs two routes" in errors(at)[0] and "ragft ingest" in errors(at)[0]
