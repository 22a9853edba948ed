"""Bradley-Terry from votes: it recovers known route strengths, and its intervals mean what they say."""

from __future__ import annotations

import numpy as np
import pytest

from assistant.arena.ratings import CENTER, Battle, battles_of, bootstrap, bradley_terry, leaderboard, online_elo
from assistant.arena.ratings import simulate as simulate_votes

TRUE = {"naive": 120.0, "hybrid": 40.0, "agentic": -20.0, "base": -140.0}  # centred, Elo scale


def simulate(n_votes: int, seed: int, *, tie_rate: float = 0.0) -> list[Battle]:
    """Votes between random pairs, the winner drawn from the Bradley-Terry probabilities of TRUE."""
    return simulate_votes(TRUE, n_votes, seed=seed, tie_rate=tie_rate)


def test_fit_recovers_the_order_and_the_gaps():
    scores = bradley_terry(simulate(3000, seed=1, tie_rate=0.05))
    assert sorted(scores, key=scores.get, reverse=True) == ["naive", "hybrid", "agentic", "base"]
    assert abs(np.mean(list(scores.values())) - CENTER) < 1e-6
    for route, truth in TRUE.items():  # 3000 votes: each score within ~25 points of the truth
        assert abs(scores[route] - CENTER - truth) < 30, (route, scores[route])


def test_intervals_cover_the_truth_at_about_their_nominal_rate():
    # 40 independent arenas of 400 votes each; 95% intervals for 4 routes = 160 chances to cover.
    covered = total = 0
    for seed in range(40):
        intervals = bootstrap(simulate(400, seed=100 + seed), rounds=100, seed=seed)
        for route, truth in TRUE.items():
            low, high = intervals[route]
            covered += low <= CENTER + truth <= high
            total += 1
    rate = covered / total
    assert 0.88 <= rate <= 0.99, rate  # nominal 0.95 (benchmarks/bench_arena.py: 0.94 at 400 votes)


def test_one_sided_votes_stay_finite_and_ordered():
    battles = [Battle("naive", "base", "a", vote=f"v{i}") for i in range(5)]
    scores = bradley_terry(battles)
    assert scores["naive"] > scores["base"] and all(np.isfinite(list(scores.values())))


def test_a_tie_is_half_a_win_each_way():
    scores = bradley_terry([Battle("naive", "base", "tie", vote="v1"), Battle("base", "naive", "tie", vote="v2")])
    assert scores["naive"] == pytest.approx(scores["base"])


def test_a_vote_on_three_routes_is_two_battles_and_bad_is_a_tie_for_every_pair():
    won = battles_of(["naive", "base", "agentic"], "c", vote="x")
    assert [(b.a, b.b, b.outcome) for b in won] == [("agentic", "naive", "a"), ("agentic", "base", "a")]
    bad = battles_of(["naive", "base", "agentic"], "bad", vote="y")
    assert len(bad) == 3 and all(b.outcome == "tie" and b.bad for b in bad)


def test_leaderboard_rows_count_votes_wins_and_both_bad():
    battles = battles_of(["naive", "base"], "a", vote="1") + battles_of(["base", "naive"], "bad", vote="2") \
        + battles_of(["naive", "agentic", "base"], "a", vote="3")
    board = leaderboard(battles, rounds=50)
    rows = {s.route: s for s in board.standings}
    assert board.standings[0].route == "naive"
    assert (rows["naive"].votes, rows["naive"].wins, rows["naive"].ties, rows["naive"].both_bad) == (3, 3, 1, 1)
    assert rows["base"].losses == 2 and rows["base"].win_rate == pytest.approx(0.5 / 3)
    assert all(s.ci_low <= s.score <= s.ci_high for s in board.standings)
    assert leaderboard(battles, rounds=50).to_dict() == board.to_dict()  # seeded: a re-run gives the same intervals


def test_no_battles_is_an_empty_board():
    assert leaderboard([]).to_dict()["routes"] == []


def test_online_elo_moves_the_winner_up():
    elo = online_elo([Battle("naive", "base", "a")])
    assert elo["naive"] == pytest.approx(CENTER + 16) and elo["base"] == pytest.approx(CENTER - 16)


def test_a_battle_checks_its_fields():
    with pytest.raises(ValueError, match="outcome"):
        Battle("a", "b", "won")
    with pytest.raises(ValueError, match="itself"):
        Battle("a", "a", "tie")
