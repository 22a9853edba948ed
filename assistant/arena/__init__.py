"""The A/B arena: comparisons stored with their answers, votes on them, and the leaderboard.

    store = ArenaStore.open(home)
    cid = store.record(question, outcomes, collection="default", blind=True)  # after compare(...)
    store.vote(cid, "a")                                                       # A won
    board = leaderboard(store.battles())                                       # Bradley-Terry + CIs

``store`` keeps comparisons and votes in SQLite (``HOME/arena.db``, numbered migrations);
``ratings`` turns votes into pairwise battles and fits Bradley-Terry scores with bootstrap
intervals (Elo beside them); ``draw`` picks the routes of a blind comparison.
"""
