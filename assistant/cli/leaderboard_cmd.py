"""``ragft leaderboard [--collection NAME | --by collection] [--plot FILE] [--json]``: routes ranked by votes.

Prints ``{"routes": [{"route", "score", "ci_low", "ci_high", "votes", "win_rate", "elo", ...}],
"votes", "battles"}``: a Bradley-Terry fit of every vote with bootstrap 95% intervals, online Elo
beside it (``assistant.arena.ratings``). ``--by collection`` adds ``"collections": {NAME: {...}}``,
the same table per collection. With no votes it says so in one line (and ``"routes": []``).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from assistant.arena.plot import save
from assistant.arena.ratings import DEFAULT_ROUNDS, leaderboard
from assistant.arena.store import NO_VOTES, ArenaStore
from assistant.cli import add_json_flag
from assistant.cli.common import home_of
from ingestion.errors import ConfigError


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("leaderboard", help="routes ranked by the votes on their comparisons")
    parser.add_argument("--collection", default=None, help="only the votes on this collection's comparisons")
    parser.add_argument("--by", choices=("collection",), default=None, help="also rank the routes per collection")
    parser.add_argument("--rounds", type=int, default=DEFAULT_ROUNDS,
                        help=f"bootstrap resamples for the 95%% intervals (default {DEFAULT_ROUNDS})")
    parser.add_argument("--seed", type=int, default=0, help="bootstrap seed (default 0: a re-run gives the same intervals)")
    parser.add_argument("--plot", default=None, metavar="FILE.png", help="also draw the scores and intervals to this PNG")
    add_json_flag(parser)
    parser.set_defaults(handler=run, render=render)


def run(args: argparse.Namespace) -> dict:
    if args.rounds < 1:
        raise ConfigError(f"--rounds must be at least 1, not {args.rounds}", fix="pass e.g. --rounds 200")
    with ArenaStore.open(home_of(args)) as store:
        everything = store.battles()  # one read; the collection filters below are in memory
    battles = [b for b in everything if b.collection == args.collection] if args.collection else everything
    board = leaderboard(battles, rounds=args.rounds, seed=args.seed)
    payload = board.to_dict()
    payload["collection"] = args.collection
    if not battles:
        payload["message"] = NO_VOTES if not args.collection else f"no votes on collection {args.collection!r} yet"
    if args.by == "collection" and everything:
        names = sorted({b.collection for b in everything})
        payload["collections"] = {name: leaderboard([b for b in everything if b.collection == name], rounds=args.rounds,
                                                    seed=args.seed).to_dict() for name in names}
    if args.plot and battles:
        payload["plot"] = str(save(board, Path(args.plot)))
    return payload


def render(payload: dict) -> str:
    if not payload["routes"]:
        return payload.get("message", NO_VOTES)
    lines = [_table(payload, f"{payload['votes']} votes, {payload['battles']} pairwise results"
                    + (f" on collection {payload['collection']}" if payload.get("collection") else ""))]
    for name, sub in (payload.get("collections") or {}).items():
        lines += ["", _table(sub, f"collection {name}: {sub['votes']} votes")]
    if payload.get("plot"):
        lines += ["", f"plot: {payload['plot']}"]
    return "\n".join(lines)


def _table(board: dict, title: str) -> str:
    rows = [title, f"{'route':<10} {'score':>7} {'95% interval':>17} {'votes':>6} {'win rate':>9} {'elo':>7}"]
    for r in board["routes"]:
        rows.append(f"{r['route']:<10} {r['score']:>7.0f} {r['ci_low']:>8.0f}..{r['ci_high']:<7.0f} {r['votes']:>6} "
                    f"{r['win_rate']:>9.2f} {r['elo']:>7.0f}")
    return "\n".join(rows)
