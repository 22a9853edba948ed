"""The arena's SQLite store: comparisons with their answers, one vote each, races and restarts."""

from __future__ import annotations

import multiprocessing
import sqlite3

import pytest

from assistant.arena.store import ArenaStore, MIGRATIONS
from ingestion.errors import ConfigError, StoreError
from ingestion.home import Home


def result(route: str, answer: str = "27 days", **extra) -> dict:
    return {"route": route, "answer": answer, "model": "m", "scores": {"confidence": 0.5}, "citations": [], **extra}


@pytest.fixture
def store(tmp_path):
    s = ArenaStore.open(Home.resolve(tmp_path))
    yield s
    s.close()


def test_a_comparison_keeps_its_question_answers_and_snapshot(store):
    cid = store.record("How long is leave?", [result("naive"), result("base", "5")], collection="hr",
                       corpus_snapshot="abc123", profile="tiny", blind=True)
    c = store.get(cid)
    assert (c.question, c.collection, c.corpus_snapshot, c.profile, c.blind) == ("How long is leave?", "hr", "abc123", "tiny", True)
    assert c.routes == ["naive", "base"] and c.results[1]["answer"] == "5" and c.winner is None


def test_one_vote_per_comparison_and_a_second_is_refused_without_change(store):
    cid = store.record("q", [result("naive"), result("base")], collection="default")
    assert store.vote(cid, "b").winner == "b"
    with pytest.raises(ConfigError, match="already has a vote"):
        store.vote(cid, "a")
    assert store.get(cid).winner == "b"
    assert [(b.a, b.b, b.outcome) for b in store.battles()] == [("base", "naive", "a")]


@pytest.mark.parametrize(("winner", "message"), [("c", "not a choice"), ("first", "not a choice")])
def test_a_winner_that_names_no_answer_is_refused(store, winner, message):
    cid = store.record("q", [result("naive"), result("base")], collection="default")
    with pytest.raises(ConfigError, match=message):
        store.vote(cid, winner)
    assert store.counts() == {"comparisons": 1, "votes": 0}


def test_unknown_id_is_a_clear_error(store):
    with pytest.raises(ConfigError, match="no comparison 'nope'.*comparison_id"):
        store.vote("nope", "a")


def test_a_failed_route_takes_no_part_in_the_vote(store):
    one = store.record("q", [result("naive"), {"route": "finetuned", "error": "no fine-tuned adapter"}], collection="d")
    with pytest.raises(ConfigError, match="1 answered route"):
        store.vote(one, "a")
    three = store.record("q", [{"route": "finetuned", "error": "x"}, result("naive"), result("base")], collection="d")
    with pytest.raises(ConfigError, match="not a choice"):
        store.vote(three, "a")  # A failed
    store.vote(three, "c")
    assert [(b.a, b.b, b.outcome) for b in store.battles()] == [("base", "naive", "a")]


def test_votes_survive_a_restart_and_filter_by_collection(tmp_path):
    home = Home.resolve(tmp_path)
    with ArenaStore.open(home) as s:
        s.vote(s.record("q1", [result("naive"), result("base")], collection="hr"), "a")
        s.vote(s.record("q2", [result("agentic"), result("base")], collection="docs"), "tie")
    with ArenaStore.open(home) as s:
        assert s.counts() == {"comparisons": 2, "votes": 2}
        assert s.collections() == ["docs", "hr"]
        assert [b.a for b in s.battles("hr")] == ["naive"] and [b.outcome for b in s.battles("docs")] == ["tie"]


def _vote_many(path: str, ids: list[str], winner: str, out) -> None:
    from assistant.arena.store import ArenaStore as Store

    stored = refused = 0
    with Store(path) as s:
        for cid in ids:
            try:
                s.vote(cid, winner)
                stored += 1
            except ConfigError:
                refused += 1
    out.put((stored, refused))


def test_two_processes_voting_at_once_lose_nothing_and_never_double_vote(tmp_path):
    home = Home.resolve(tmp_path)
    with ArenaStore.open(home) as s:
        ids = [s.record(f"q{i}", [result("naive"), result("base")], collection="d") for i in range(60)]
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    # Two "tabs" race over the same 60 comparisons, plus each has 20 of its own.
    with ArenaStore.open(home) as s:
        own_a = [s.record(f"a{i}", [result("naive"), result("base")], collection="d") for i in range(20)]
        own_b = [s.record(f"b{i}", [result("naive"), result("base")], collection="d") for i in range(20)]
    procs = [ctx.Process(target=_vote_many, args=(str(home.root / "arena.db"), ids + own_a, "a", out)),
             ctx.Process(target=_vote_many, args=(str(home.root / "arena.db"), own_b + ids, "b", out))]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    (s1, r1), (s2, r2) = out.get(timeout=5), out.get(timeout=5)
    assert s1 + s2 == 100 and r1 + r2 == 60  # every comparison got exactly one vote
    with ArenaStore.open(home) as s:
        assert s.counts() == {"comparisons": 100, "votes": 100}
        assert all(s.get(cid).winner == "a" for cid in own_a) and all(s.get(cid).winner == "b" for cid in own_b)


def test_a_newer_schema_or_a_corrupt_file_is_one_line(tmp_path):
    path = tmp_path / "arena.db"
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version={len(MIGRATIONS) + 1}")
    db.close()
    with pytest.raises(StoreError, match="newer than this ragft knows"):
        ArenaStore(path)
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"not a database" * 100)
    with pytest.raises(StoreError, match="unreadable.*move the file away"):
        ArenaStore(bad)
    assert bad.read_bytes() == b"not a database" * 100  # nothing overwritten


def test_every_route_at_once_is_one_comparison_and_its_last_letter_can_win(store):
    from assistant.routes import ROUTES

    cid = store.record("q", [result(r) for r in ROUTES], collection="d")
    last = chr(ord("a") + len(ROUTES) - 1)
    c = store.vote(cid, last)
    assert c.winner_route == list(ROUTES)[-1]
    assert len(store.battles()) == len(ROUTES) - 1 and {b.a for b in store.battles()} == {list(ROUTES)[-1]}
