"""The leaderboard as a picture: each route's Bradley-Terry score with its 95% interval.

matplotlib (Agg, no display) because it is already the project's plotting library; the CLI writes
the PNG (``ragft leaderboard --plot FILE``) and the Leaderboard page shows the same figure.
"""

from __future__ import annotations

from pathlib import Path

from assistant.arena.ratings import CENTER, Leaderboard


def figure(board: Leaderboard, title: str = "Routes by blind votes"):
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    rows = list(reversed(board.standings))  # best on top
    fig = Figure(figsize=(6.4, 0.6 + 0.45 * max(1, len(rows))))
    ax = fig.subplots()
    ys = range(len(rows))
    ax.errorbar([r.score for r in rows], list(ys),
                xerr=[[r.score - r.ci_low for r in rows], [r.ci_high - r.score for r in rows]],
                fmt="o", color="#1f77b4", ecolor="#7fa7cc", capsize=4)
    ax.axvline(CENTER, color="#999999", linewidth=0.8, linestyle=":")
    ax.set_yticks(list(ys), [f"{r.route} ({r.votes} votes)" for r in rows])
    ax.set_xlabel("Bradley-Terry score (Elo scale) with 95% bootstrap interval")
    ax.set_title(title)
    fig.tight_layout()
    return fig


def save(board: Leaderboard, path: Path, title: str = "Routes by blind votes") -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure(board, title).savefig(path, dpi=120)
    return path
