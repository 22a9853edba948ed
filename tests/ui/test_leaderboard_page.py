"""Leaderboard page: the same standings as `ragft leaderboard`, with its plot, overall and per collection."""

from __future__ import annotations

from assistant.arena.store import ArenaStore
from tests.ui.app_fixtures import app, errors


def vote(home, routes, winner, collection="default"):
    with ArenaStore.open(home) as s:
        s.vote(s.record("q", [{"route": r, "answer": "x"} for r in routes], collection=collection), winner)


def test_no_votes_says_so(home):
    at = app("leaderboard")
    assert errors(at) == [] and at.info[0].value.startswith("No votes yet")


def test_standings_table_and_plot_overall_and_per_collection(home):
    for _ in range(3):
        vote(home, ("naive", "base"), "a")
    vote(home, ("agentic", "base"), "b", collection="docs")
    at = app("leaderboard")
    assert errors(at) == [] and not at.exception
    table = at.dataframe[0].value
    assert list(table["route"])[0] == "naive" and set(table["route"]) == {"naive", "base", "agentic"}
    assert int(table[table["route"] == "base"]["votes"].iloc[0]) == 4
    assert len(at.get("image")) == 1  # the plot
    at.selectbox(key="leaderboard_scope").set_value("docs").run()
    table = at.dataframe[0].value
    assert sorted(table["route"]) == ["agentic", "base"]
    assert at.caption[0].value.startswith("1 vote (")
