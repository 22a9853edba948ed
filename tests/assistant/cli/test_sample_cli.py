"""`ragft sample`: the freshness loop the product demo rests on (v1 -> v2 re-ingest)."""

from __future__ import annotations

from pathlib import Path

from ingestion.loaders import iter_files
from ingestion.sample import edition_dir
from tests.assistant.cli.conftest import json_of


def test_switching_to_v2_reports_exactly_the_edition_changes(ragft):
    v1, v2 = edition_dir("v1"), edition_dir("v2")
    rel1 = {p.relative_to(v1) for p in iter_files(v1)}
    rel2 = {p.relative_to(v2) for p in iter_files(v2)}
    changed = sum(1 for r in rel1 & rel2 if (v1 / r).read_bytes() != (v2 / r).read_bytes())

    first = json_of(ragft("sample", "--edition", "v1", "--ingest", "--json", check=True))
    assert first["ingest"]["added"] == len(rel1) and first["ingest"]["failed"] == []
    # the corpus's questions come with it, as `ragft eval` inputs
    sets = first["eval_sets"]
    assert sets["qa"].endswith("sample-eval/qa-v1.jsonl") and all(Path(p).stat().st_size > 0 for p in sets.values())
    second = json_of(ragft("sample", "--edition", "v2", "--ingest", "--json", check=True))["ingest"]
    assert (second["added"], second["updated"], second["deleted"]) == (1, changed, 1)
    assert second["unchanged"] == len(rel1 & rel2) - changed
    assert second["chunks_added"] < first["ingest"]["chunks_added"] / 3, "only changed chunks are embedded"

    hits = json_of(ragft("search", "How many vacation days do employees get?", "-k", "3", "--json", check=True))["hits"]
    assert any("30" in h["text"] and h["source"].endswith("leave-and-holidays.md") for h in hits)
