"""Leaderboard: the routes ranked by every vote (Bradley-Terry with 95% intervals, Elo beside it).

The same table as ``ragft leaderboard --json`` (``assistant.arena.ratings.leaderboard`` over the
votes in ``HOME/arena.db``), overall or for one collection, with the plot ``--plot`` draws.
"""

from __future__ import annotations

import streamlit as st

from assistant.arena.plot import figure
from assistant.arena.ratings import leaderboard
from assistant.arena.store import NO_VOTES, ArenaStore
from ui import resources
from ingestion.home import Home
from ui.components import guard

ALL = "all collections"


@st.cache_data(show_spinner="Fitting the leaderboard...", max_entries=32)
def standings(home_root: str, scope: str, votes: int):
    """The fit (200 bootstrap refits, about a second) once per scope and vote count, not per rerun."""
    del votes  # part of the cache key only: a new vote refits
    with ArenaStore.open(Home.resolve(home_root)) as store:
        battles = store.battles(None if scope == ALL else scope)
    return leaderboard(battles) if battles else None

st.title("Leaderboard")
home = resources.home()
with guard("Leaderboard"):
    with ArenaStore.open(home) as store:
        scope = st.selectbox("Votes on", [ALL, *store.collections()], key="leaderboard_scope")
        counts = store.counts()
    board = standings(str(home.root), scope, counts["votes"])
    if board is None:
        st.info(NO_VOTES[0].upper() + NO_VOTES[1:] + ".")
    else:
        votes = board.votes
        st.caption(f"{votes} vote{'' if votes == 1 else 's'} ({counts['comparisons']} comparisons stored) · scores on the Elo scale, "
                   f"95% intervals from {board.rounds} bootstrap resamples of the votes")
        st.dataframe([{"route": s.route, "score": round(s.score), "95% low": round(s.ci_low), "95% high": round(s.ci_high),
                       "votes": s.votes, "win rate": round(s.win_rate, 2), "wins": s.wins, "losses": s.losses,
                       "ties": s.ties, "both bad": s.both_bad, "Elo": round(s.elo)} for s in board.standings],
                     hide_index=True)
        st.pyplot(figure(board, f"Routes by votes ({scope})"), clear_figure=False)
