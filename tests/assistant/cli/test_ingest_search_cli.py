"""The `ragft ingest / docs / search` contract, through the real console entry point."""

from __future__ import annotations

import pytest

from tests.assistant.cli.conftest import json_of


@pytest.fixture
def docs(tmp_path):
    root = tmp_path / "docs"
    root.mkdir()
    (root / "pricing.md").write_text("# Pricing\n\nThe Team plan costs 38 EUR per seat per month.", encoding="utf-8")
    (root / "support.txt").write_text("Support answers tickets within 4 business hours.", encoding="utf-8")
    (root / "bad.pdf").write_bytes(b"%PDF-1.7 truncated")
    return root


def test_ingest_docs_search_json_contract(ragft, docs):
    out = json_of(ragft("ingest", str(docs), "--json", check=True))
    assert set(out) >= {"collection", "added", "updated", "unchanged", "deleted", "chunks_added", "chunks_deleted", "failed", "seconds"}
    assert out["added"] == 2 and out["collection"] == "default"
    assert [f["path"].rsplit("/", 1)[-1] for f in out["failed"]] == ["bad.pdf"]

    listed = json_of(ragft("docs", "--json", check=True))["documents"]
    assert {d["source"].rsplit("/", 1)[-1] for d in listed} == {"pricing.md", "support.txt"}
    assert all(set(d) >= {"source", "version", "hash", "chunks", "ingested_at"} for d in listed)

    hits = json_of(ragft("search", "how much is the team plan", "-k", "1", "--json", check=True))["hits"]
    assert len(hits) == 1 and hits[0]["source"].endswith("pricing.md")
    assert set(hits[0]) >= {"source", "chunk_id", "score", "text"}


def test_search_queries_file_loads_once_and_answers_each(ragft, docs, tmp_path):
    ragft("ingest", str(docs), check=True)
    qfile = tmp_path / "q.txt"
    qfile.write_text("team plan price\n\nticket response time\n", encoding="utf-8")
    out = json_of(ragft("search", "--queries", str(qfile), "-k", "1", "--mode", "lexical", "--json", check=True))
    assert [r["query"] for r in out["results"]] == ["team plan price", "ticket response time"]
    assert out["results"][1]["hits"][0]["source"].endswith("support.txt")


def test_human_output_and_progress_go_to_the_right_streams(ragft, docs):
    proc = ragft("ingest", str(docs), check=True, env={"RAGFT_PROGRESS": "1"})
    assert "2 added" in proc.stdout and "failed: " in proc.stdout
    assert "ingest" in proc.stderr  # the progress bar


@pytest.mark.parametrize(
    "args, code, needle",
    [
        (("ingest",), 2, "PATH"),
        (("search", "x", "--mode", "fuzzy"), 2, "--mode"),
        (("ingest", "x", "--collection", "Bad Name!"), 2, "--collection"),
        (("ingest", "x", "--store", "mongo"), 2, "--store"),
        (("ingest", "x", "--chunk-overlap", "500"), 2, "--chunk-overlap"),
        (("search", "anything"), 1, "ragft ingest"),
        (("frobnicate",), 2, "invalid choice"),
    ],
)
def test_errors_are_one_line_with_exit_codes(ragft, args, code, needle):
    proc = ragft(*args)
    assert proc.returncode == code, proc.stderr
    assert needle in proc.stderr
    if code == 1:
        assert len(proc.stderr.strip().splitlines()) == 1


def test_docs_delete_removes_a_document_everywhere(ragft, docs):
    ragft("ingest", str(docs), check=True)
    target = str(docs / "pricing.md")
    out = json_of(ragft("docs", "--delete", target, str(docs / "nope.md"), "--json", check=True))
    assert out["deleted"] == 1 and out["chunks_deleted"] >= 1
    assert [f["path"] for f in out["failed"]] == [str(docs / "nope.md")]
    listed = json_of(ragft("docs", "--json", check=True))["documents"]
    assert target not in {d["source"] for d in listed}
    hits = json_of(ragft("search", "team plan seat price", "--mode", "lexical", "--json", check=True))["hits"]
    assert all(h["source"] != target for h in hits)
    health = json_of(ragft("doctor", "--json", check=True))
    assert health["ok"] is True
