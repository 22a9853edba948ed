"""Votes -> route ratings: a Bradley-Terry fit with bootstrap intervals, and online Elo beside it.

Bradley-Terry says route i beats route j with probability ``1 / (1 + 10 ** ((s_j - s_i) / 400))``
for one score ``s`` per route (the Elo scale, centred on 1000). It is fitted the way Chatbot Arena
fits its leaderboard: a logistic regression without intercept on rows ``x = e_i - e_j`` (scikit-
learn's ``LogisticRegression``, a well-kept solver, rather than a hand-written MM loop), a tie
counting half a win for each side. Its L2 penalty (``C``) is a weak prior that every route is
equal: without it a route that won all of a handful of votes gets an infinite score. Measured with
``C=REGULARIZATION``: one vote puts the winner 377 points above the loser (instead of infinitely);
4 wins to 1 give 228 (unpenalised 241); from 14 to 6 on, the gap is within 2% of the
unpenalised fit (146 vs 147), so with real vote counts the data decide.

Intervals: the votes are resampled with replacement ``rounds`` times (seeded, so a re-run gives
the same figures), refitted, and the 2.5th and 97.5th percentiles of each route's centred score
are its 95% interval. Online Elo (K=32, in vote order) is shown for familiarity only: it depends
on the order of the votes, which Bradley-Terry does not.

A comparison of N routes voted "x won" is N-1 battles that x won; "tie" and "bad" (both bad) are a
tie between every pair of routes that answered.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Iterable, Sequence

import numpy as np

SCALE = 400.0  # Elo points per factor 10 in the odds of winning
CENTER = 1000.0
REGULARIZATION = 1.0  # LogisticRegression's C: see the module docstring
ELO_K = 32.0
DEFAULT_ROUNDS = 200


@dataclass(frozen=True)
class Battle:
    """One pairwise result: ``a`` beat ``b`` (``outcome == "a"``), or the reverse, or a tie."""

    a: str
    b: str
    outcome: str  # "a" | "b" | "tie"
    collection: str = "default"
    bad: bool = False  # a tie because both answers were bad
    vote: str = ""  # the comparison whose vote this battle comes from

    def __post_init__(self) -> None:
        if self.outcome not in ("a", "b", "tie"):
            raise ValueError(f"Battle.outcome must be 'a', 'b' or 'tie', not {self.outcome!r}")
        if self.a == self.b:
            raise ValueError(f"Battle between {self.a!r} and itself")


def letter(position: int) -> str:
    """The letter an answer is shown and voted as: 0 -> "a" (A), 1 -> "b", ..."""
    return chr(ord("a") + position)


def position(mark: str) -> int:
    """The inverse of ``letter``: "a" (or "A") -> 0."""
    return ord(mark.lower()) - ord("a")


def battles_of(routes: Sequence[str], winner: str, *, collection: str = "default", vote: str = "") -> list[Battle]:
    """The battles one vote stands for: ``routes`` in letter order (A, B, ...), ``winner`` a letter,
    ``tie`` or ``bad``."""
    if winner in ("tie", "bad"):
        return [Battle(routes[i], routes[j], "tie", collection, bad=winner == "bad", vote=vote)
                for i in range(len(routes)) for j in range(i + 1, len(routes))]
    won = routes[position(winner)]
    return [Battle(won, other, "a", collection, vote=vote) for other in routes if other != won]


def _fit(index: dict[str, int], battles: Sequence[Battle]) -> np.ndarray:
    """Centred Bradley-Terry scores (Elo scale) for the routes in ``index``."""
    from sklearn.linear_model import LogisticRegression

    n = len(index)
    wins = np.zeros((n, n))  # wins[i, j]: times i beat j, a tie counting 1/2 each way
    for b in battles:
        i, j = index[b.a], index[b.b]
        if b.outcome == "a":
            wins[i, j] += 1.0
        elif b.outcome == "b":
            wins[j, i] += 1.0
        else:
            wins[i, j] += 0.5
            wins[j, i] += 0.5
    rows, labels, weights = [], [], []
    for i in range(n):
        for j in range(n):
            if wins[i, j] > 0:
                x = np.zeros(n)
                x[i], x[j] = math.log(10.0), -math.log(10.0)
                # the same fact seen from both sides keeps both classes present and the fit symmetric
                rows += [x, -x]
                labels += [1, 0]
                weights += [wins[i, j], wins[i, j]]
    if not rows:
        return np.zeros(n)
    model = LogisticRegression(fit_intercept=False, C=REGULARIZATION, tol=1e-8, max_iter=1000)
    model.fit(np.array(rows), np.array(labels), sample_weight=np.array(weights))
    scores = model.coef_[0] * SCALE
    return scores - scores.mean()


def bradley_terry(battles: Sequence[Battle]) -> dict[str, float]:
    """Route -> score on the Elo scale (mean ``CENTER``)."""
    index = _route_index(battles)
    return {route: float(CENTER + s) for route, s in zip(index, _fit(index, battles))}


def bootstrap(battles: Sequence[Battle], *, rounds: int = DEFAULT_ROUNDS, seed: int = 0,
              level: float = 0.95) -> dict[str, tuple[float, float]]:
    """Route -> (low, high): the percentile interval of its score over ``rounds`` resamples."""
    if rounds < 1:
        raise ValueError(f"rounds must be at least 1, not {rounds}")
    index = _route_index(battles)
    groups: dict[str, list[Battle]] = {}  # a vote's battles are resampled together: they are one judgement
    for n, b in enumerate(battles):
        groups.setdefault(b.vote or f"#{n}", []).append(b)
    votes = list(groups.values())
    rng = np.random.default_rng(seed)
    samples = np.empty((rounds, len(index)))
    for r in range(rounds):
        pick = rng.integers(0, len(votes), size=len(votes))
        samples[r] = _fit(index, [b for k in pick for b in votes[k]])
    tail = (1.0 - level) / 2 * 100
    low, high = np.percentile(samples, [tail, 100 - tail], axis=0)
    return {route: (float(CENTER + lo), float(CENTER + hi)) for route, lo, hi in zip(index, low, high)}


def online_elo(battles: Iterable[Battle], *, k: float = ELO_K) -> dict[str, float]:
    """Classic Elo, updated vote by vote from ``CENTER``."""
    rating: dict[str, float] = {}
    for b in battles:
        ra, rb = rating.setdefault(b.a, CENTER), rating.setdefault(b.b, CENTER)
        expect_a = 1.0 / (1.0 + 10 ** ((rb - ra) / SCALE))
        got_a = {"a": 1.0, "b": 0.0, "tie": 0.5}[b.outcome]
        rating[b.a] = ra + k * (got_a - expect_a)
        rating[b.b] = rb - k * (got_a - expect_a)
    return rating


@dataclass(frozen=True)
class Standing:
    route: str
    score: float  # Bradley-Terry, Elo scale
    ci_low: float
    ci_high: float
    votes: int  # votes on comparisons this route answered in
    win_rate: float  # (wins + ties / 2) / battles
    wins: int
    losses: int
    ties: int
    both_bad: int
    elo: float  # online Elo, for familiarity

    def to_dict(self) -> dict:
        return {k: (round(v, 1) if isinstance(v, float) and k != "win_rate" else round(v, 4) if isinstance(v, float) else v)
                for k, v in asdict(self).items()}


@dataclass(frozen=True)
class Leaderboard:
    standings: list[Standing] = field(default_factory=list)
    battles: int = 0
    votes: int = 0  # a vote on three routes is two or three battles
    rounds: int = DEFAULT_ROUNDS

    def to_dict(self) -> dict:
        return {"routes": [s.to_dict() for s in self.standings], "votes": self.votes, "battles": self.battles,
                "bootstrap_rounds": self.rounds}


def leaderboard(battles: Sequence[Battle], *, rounds: int = DEFAULT_ROUNDS, seed: int = 0) -> Leaderboard:
    """Standings, best first, from ``battles`` (oldest first)."""
    if not battles:
        return Leaderboard(rounds=rounds)
    scores = bradley_terry(battles)
    intervals = bootstrap(battles, rounds=rounds, seed=seed)
    elo = online_elo(battles)
    rows = []
    for route, score in scores.items():
        mine = [b for b in battles if route in (b.a, b.b)]
        won = sum(1 for b in mine if b.outcome != "tie" and (b.a if b.outcome == "a" else b.b) == route)
        tied = sum(1 for b in mine if b.outcome == "tie")
        rows.append(Standing(route=route, score=score, ci_low=intervals[route][0], ci_high=intervals[route][1],
                             votes=len({b.vote for b in mine if b.vote}) or len(mine), win_rate=(won + tied / 2) / len(mine), wins=won,
                             losses=len(mine) - won - tied, ties=tied, both_bad=sum(1 for b in mine if b.bad),
                             elo=elo[route]))
    rows.sort(key=lambda s: (-s.score, s.route))
    return Leaderboard(standings=rows, battles=len(battles), votes=len({b.vote or id(b) for b in battles}), rounds=rounds)


def simulate(strengths: dict[str, float], n_votes: int, *, seed: int, tie_rate: float = 0.0) -> list[Battle]:
    """Votes between random pairs of routes whose true scores (Elo scale) are ``strengths``, each
    winner drawn from the Bradley-Terry probability; ``tie_rate`` of them ties whatever the
    strengths. For checking the statistics above (tests, benchmarks/bench_arena.py)."""
    rng = np.random.default_rng(seed)
    names = list(strengths)
    out = []
    for v in range(n_votes):
        a, b = (str(x) for x in rng.choice(names, size=2, replace=False))
        if rng.random() < tie_rate:
            out.append(Battle(a, b, "tie", vote=f"v{v}"))
            continue
        p_a = 1.0 / (1.0 + 10 ** ((strengths[b] - strengths[a]) / SCALE))
        out.append(Battle(a, b, "a" if rng.random() < p_a else "b", vote=f"v{v}"))
    return out


def _route_index(battles: Sequence[Battle]) -> dict[str, int]:
    names = sorted({b.a for b in battles} | {b.b for b in battles})
    return {name: i for i, name in enumerate(names)}
