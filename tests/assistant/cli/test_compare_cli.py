"""`ragft compare`: one question on several routes, one `ask` object per route (real model, sample corpus)."""

from __future__ import annotations

import pytest

from tests.assistant.cli.conftest import json_of

QUESTION = "How many employees did Marrowfield have at the start of 2025?"
ANSWER_KEYS = {"route", "reason", "answer", "abstained", "citations", "scores", "latency_s", "tokens", "model", "steps"}


@pytest.mark.slow
def test_compare_base_and_naive_json(ragft):
    ragft("sample", "--edition", "v1", "--ingest", "--json", check=True)
    out = json_of(ragft("compare", QUESTION, "--routes", "base,naive", "--max-tokens", "48", "--json", check=True))
    assert out["question"] == QUESTION
    base, naive = out["results"]
    assert (base["route"], naive["route"]) == ("base", "naive")
    assert ANSWER_KEYS <= set(base) and ANSWER_KEYS <= set(naive)
    assert base["citations"] == [] and base["tokens"]["completion"] > 0
    # The RAG route cites the document that holds the fact; the bare model cannot.
    assert any(c["source"].endswith("overview.md") for c in naive["citations"])
    # Stored for voting: B (naive) wins, and the leaderboard counts it.
    vote = json_of(ragft("vote", out["comparison_id"], "--winner", "b", "--json", check=True))
    assert vote["winner_route"] == "naive" and vote["question"] == QUESTION
    board = json_of(ragft("leaderboard", "--json", check=True))
    assert [(r["route"], r["wins"]) for r in board["routes"]] == [("naive", 1), ("base", 0)]


@pytest.mark.parametrize(("routes", "message"), [("nope", "unknown route 'nope'"), (",", "names no route")])
def test_compare_bad_routes_exit_2(ragft, routes, message):
    proc = ragft("compare", QUESTION, "--routes", routes, "--json")
    assert proc.returncode == 2 and message in proc.stderr and proc.stdout == ""


def test_compare_fails_with_one_line_when_every_route_fails(ragft):
    # No collection ingested: the RAG route cannot open its index, and it is the only route asked.
    proc = ragft("compare", QUESTION, "--routes", "naive", "--json")
    assert proc.returncode == 1 and proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert "every route failed" in lines[-1] and "ingest" in lines[-1]
