"""`ragft vote` and `ragft leaderboard` on a real arena database (comparisons stored as compare does)."""

from __future__ import annotations

from assistant.arena.store import ArenaStore
from tests.assistant.cli.conftest import json_of


def stored(home, routes=("naive", "base"), collection="default") -> str:
    with ArenaStore.open(home) as s:
        return s.record("How many days of leave?", [{"route": r, "answer": f"{r} says 27", "scores": {}} for r in routes],
                        collection=collection)


def test_leaderboard_without_votes_says_so_in_one_line(ragft):
    proc = ragft("leaderboard")
    assert proc.returncode == 0 and proc.stdout.strip().startswith("no votes yet") and len(proc.stdout.splitlines()) == 1
    out = json_of(ragft("leaderboard", "--json", check=True))
    assert out["routes"] == [] and out["votes"] == 0 and "no votes yet" in out["message"]


def test_vote_then_leaderboard_overall_and_by_collection(ragft, home, tmp_path):
    ids = [stored(home) for _ in range(4)] + [stored(home, ("agentic", "base"), "docs")]
    for cid, winner in zip(ids, ["a", "a", "b", "tie", "A"]):
        ragft("vote", cid, "--winner", winner, "--json", check=True)
    last = json_of(ragft("vote", stored(home), "--winner", "bad", "--json", check=True))
    assert last["winner"] == "bad" and last["winner_route"] is None and last["routes"] == ["naive", "base"]

    plot = tmp_path / "board.png"
    out = json_of(ragft("leaderboard", "--by", "collection", "--plot", str(plot), "--json", check=True))
    assert out["votes"] == 6 and out["battles"] == 6 and plot.stat().st_size > 1000
    rows = {r["route"]: r for r in out["routes"]}
    assert set(rows) == {"naive", "base", "agentic"}
    assert rows["naive"]["wins"] == 2 and rows["naive"]["losses"] == 1 and rows["naive"]["ties"] == 2
    assert rows["naive"]["both_bad"] == 1 and rows["base"]["votes"] == 6
    assert {"score", "ci_low", "ci_high", "votes", "win_rate", "elo"} <= set(rows["agentic"])
    assert set(out["collections"]) == {"default", "docs"} and out["collections"]["docs"]["votes"] == 1
    only = json_of(ragft("leaderboard", "--collection", "docs", "--json", check=True))
    assert [r["route"] for r in only["routes"]] == ["agentic", "base"]
    text = ragft("leaderboard", check=True).stdout
    assert "6 votes" in text and "naive" in text


def test_second_vote_and_unknown_id_are_one_line_errors_that_change_nothing(ragft, home):
    cid = stored(home)
    ragft("vote", cid, "--winner", "a", check=True)
    again = ragft("vote", cid, "--winner", "b", "--json")
    assert again.returncode == 2 and again.stdout == ""
    assert "already has a vote (a," in again.stderr and len(again.stderr.strip().splitlines()) == 1
    unknown = ragft("vote", "feedc0ffee00", "--winner", "a")
    assert unknown.returncode == 2 and "no comparison 'feedc0ffee00'" in unknown.stderr
    with ArenaStore.open(home) as s:
        assert s.get(cid).winner == "a" and s.counts() == {"comparisons": 1, "votes": 1}


def test_bad_options_exit_2(ragft, home):
    cid = stored(home)
    assert ragft("vote", cid, "--winner", "x").returncode == 2
    assert ragft("vote", cid, "--winner", "c").returncode == 2  # two routes: no C
    assert ragft("leaderboard", "--rounds", "0").returncode == 2
