"""The leaderboard's statistics on simulated votes: does it find the true order, and do its
95% intervals cover the truth 95% of the time?

    .venv/bin/python benchmarks/bench_arena.py [--arenas 50] [--rounds 200] [--json]

Four routes with known Bradley-Terry strengths (Elo scale, centred: +120, +40, -20, -140) vote in ``--arenas`` independent seeded arenas of 25, 100, 400 and 1600 votes. Per size it
prints how often the fitted order equals the true one (and the mean Kendall tau) for Bradley-Terry
and, as the baselines in the same run, online Elo (K=32, vote order) and raw win rate; the
coverage and mean width of the bootstrap intervals; and the seconds one ``leaderboard`` call takes
(fit + ``--rounds`` resamples) against one online-Elo pass over the same votes.

``--ties 0.1`` makes that share of votes ties regardless of strength. Counting a tie as half a win
each way (as Chatbot Arena does) then pulls every score toward the centre by the tie share, so
the fitted gaps are those of the votes, not of the strengths that drew them; the coverage of the
true strengths drops as the intervals narrow (reported, not hidden).
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import sys
import time
from datetime import date
from pathlib import Path


REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from assistant.arena.ratings import CENTER, Battle, bootstrap, bradley_terry, leaderboard, online_elo  # noqa: E402
from assistant.arena.ratings import simulate as simulate_votes  # noqa: E402
from benchmarks.bench_generate import cpu_model  # noqa: E402

TRUE = {"naive": 120.0, "hybrid": 40.0, "agentic": -20.0, "base": -140.0}
SIZES = (25, 100, 400, 1600)


def simulate(n: int, seed: int, tie_rate: float = 0.0) -> list[Battle]:
    return simulate_votes(TRUE, n, seed=seed, tie_rate=tie_rate)


def win_rate(battles: list[Battle]) -> dict[str, float]:
    got: dict[str, list[float]] = {}
    for b in battles:
        s = {"a": 1.0, "b": 0.0, "tie": 0.5}[b.outcome]
        got.setdefault(b.a, []).append(s)
        got.setdefault(b.b, []).append(1.0 - s)
    return {k: statistics.fmean(v) for k, v in got.items()}


def kendall(scores: dict[str, float]) -> float:
    pairs = list(itertools.combinations(TRUE, 2))
    agree = sum(1 if (scores.get(x, 0) - scores.get(y, 0)) * (TRUE[x] - TRUE[y]) > 0 else -1 for x, y in pairs)
    return agree / len(pairs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arenas", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--ties", type=float, default=0.0, help="share of votes that are ties (default 0)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rows = []
    for n in SIZES:
        exact = {"bradley_terry": 0, "elo": 0, "win_rate": 0}
        tau = {k: [] for k in exact}
        covered = widths = total = 0
        for arena in range(args.arenas):
            battles = simulate(n, seed=1000 * n + arena, tie_rate=args.ties)
            fits = {"bradley_terry": bradley_terry(battles), "elo": online_elo(battles), "win_rate": win_rate(battles)}
            for name, scores in fits.items():
                exact[name] += kendall(scores) == 1.0
                tau[name].append(kendall(scores))
            for route, (low, high) in bootstrap(battles, rounds=args.rounds, seed=arena).items():
                covered += low <= CENTER + TRUE[route] <= high
                widths += high - low
                total += 1
        battles = simulate(n, seed=7, tie_rate=args.ties)
        t = time.perf_counter()
        leaderboard(battles, rounds=args.rounds)
        board_s = time.perf_counter() - t
        t = time.perf_counter()
        online_elo(battles)
        elo_s = time.perf_counter() - t
        rows.append({"votes": n, **{f"exact_order_{k}": round(v / args.arenas, 3) for k, v in exact.items()},
                     **{f"kendall_{k}": round(statistics.fmean(v), 3) for k, v in tau.items()},
                     "coverage_95": round(covered / total, 3), "mean_width": round(widths / total, 1),
                     "leaderboard_s": round(board_s, 3), "elo_s": round(elo_s, 5), "ratio": round(board_s / max(elo_s, 1e-9))})
    out = {"date": date.today().isoformat(), "cpu": cpu_model(), "arenas": args.arenas, "rounds": args.rounds,
           "ties": args.ties, "rows": rows}
    if args.json:
        print(json.dumps(out))
        return
    print(f"{out['date']} · {out['cpu']} · {args.arenas} arenas per size · {args.rounds} bootstrap rounds · ties {args.ties:.0%}")
    print(f"{'votes':>6} {'exact order BT/Elo/WR':>24} {'kendall BT/Elo/WR':>22} {'coverage':>9} {'width':>7} {'board s':>8} {'elo s':>8}")
    for r in rows:
        print(f"{r['votes']:>6} {r['exact_order_bradley_terry']:>8.2f}/{r['exact_order_elo']:.2f}/{r['exact_order_win_rate']:.2f}"
              f"      {r['kendall_bradley_terry']:>6.2f}/{r['kendall_elo']:.2f}/{r['kendall_win_rate']:.2f}"
              f"   {r['coverage_95']:>9.3f} {r['mean_width']:>7.0f} {r['leaderboard_s']:>8.3f} {r['elo_s']:>8.4f}")


if __name__ == "__main__":
    main()
