"""``ragft vote COMPARISON_ID --winner a|b|tie|bad [--json]``: the one vote of a stored comparison.

The letters name the answers in the order ``ragft compare`` printed them (A is the first route);
``tie`` means both were as good, ``bad`` that both were bad. A second vote on a comparison, or an
id that is not stored, is a one-line error and changes nothing.
"""

from __future__ import annotations

import argparse

from assistant.arena.ratings import letter
from assistant.arena.store import WINNERS, ArenaStore
from assistant.cli import add_json_flag
from assistant.cli.common import home_of


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("vote", help="vote on a stored comparison (A/B/tie/both bad)")
    parser.add_argument("comparison_id", help="the comparison_id that `ragft compare --json` printed")
    parser.add_argument("--winner", required=True, type=str.lower, choices=WINNERS,
                        help="a or b (c, d, ... with more routes): that answer was better; tie; bad: both were bad")
    add_json_flag(parser)
    parser.set_defaults(handler=run, render=render)


def run(args: argparse.Namespace) -> dict:
    with ArenaStore.open(home_of(args)) as store:
        c = store.vote(args.comparison_id, args.winner)
    return {"comparison_id": c.id, "winner": c.winner, "winner_route": c.winner_route, "routes": c.routes,
            "question": c.question, "collection": c.collection, "voted_at": c.voted_at}


def render(payload: dict) -> str:
    routes = ", ".join(f"{letter(i).upper()} = {r}" for i, r in enumerate(payload["routes"]))
    said = {"tie": "a tie", "bad": "both bad"}.get(payload["winner"], f"{payload['winner_route']} won")
    return f"vote stored for {payload['comparison_id']}: {said} ({routes})"
