"""Adapter registry: lineage entries and the stale flag against a real record database."""

from __future__ import annotations


import pytest

from finetune import registry
from ingestion.errors import ConfigError, TrainingError
from ingestion.records import DocumentChange, RecordManager


def _index(records: RecordManager, source: str, digest: str | None, collection: str = "default") -> None:
    """Record ``source`` with content hash ``digest`` (None deletes it), as an ingest would."""
    records.commit(collection, [DocumentChange(source, "md", digest or "", "chunker-v1", [] if digest else None)])


def _entry(home, name: str, sources: list[tuple[str, str]]) -> dict:
    data = home.root / f"{name}.jsonl"
    data.write_text("{}\n")
    card = {"sources": [{"source": s, "hash": h} for s, h in sources], "corpus_snapshot": "snap"}
    entry = registry.new_entry(name=name, base={"ref": "tiny", "path": "/x", "tokenizer_gguf": None}, qlora=False,
                               data=data, dataset_hash="d" * 64, card=card, hyperparameters={"lora_r": 16},
                               records_db=home.records_db)
    entry["status"] = "complete"
    registry.write_entry(home, name, entry)
    return entry


def test_stale_flips_when_a_source_document_changes_in_the_index(home):
    records = RecordManager(home.records_db)
    try:
        _index(records, "/docs/pricing.md", "h1")
        _index(records, "/docs/overview.md", "h2", collection="handbook")  # any collection counts
        entry = _entry(home, "qa", [("/docs/pricing.md", "h1"), ("/docs/overview.md", "h2"), ("/docs/never.md", "h3")])
        assert [s["indexed"] for s in entry["sources"]] == [True, True, False]
        row = registry.get_adapter(home, "qa")
        assert row["stale"] is False and row["stale_sources"] == [] and row["unindexed"] == ["/docs/never.md"]

        _index(records, "/docs/pricing.md", "h1-edited")  # re-ingested after an edit
        row = registry.get_adapter(home, "qa")
        assert row["stale"] is True and row["stale_sources"] == [{"source": "/docs/pricing.md", "reason": "changed"}]

        _index(records, "/docs/pricing.md", "h1")  # edited back: fresh again
        assert registry.get_adapter(home, "qa")["stale"] is False

        _index(records, "/docs/overview.md", None, collection="handbook")  # deleted from the index
        row = registry.get_adapter(home, "qa")
        assert row["stale"] is True and row["stale_sources"] == [{"source": "/docs/overview.md", "reason": "deleted"}]
    finally:
        records.close()


def test_no_record_database_means_nothing_indexed(home):
    entry = _entry(home, "qa", [("/docs/a.md", "h1")])
    assert not home.records_db.exists() and entry["sources"][0]["indexed"] is False
    assert registry.get_adapter(home, "qa")["stale"] is False


def test_listing_survives_a_broken_entry_and_names_it(home):
    _entry(home, "good", [])
    bad = home.adapters_dir / "bad"
    bad.mkdir()
    (bad / registry.ENTRY_FILE).write_text("{truncated")
    rows = {r["name"]: r for r in registry.list_adapters(home)}
    assert rows["good"]["status"] == "complete" and rows["good"]["stale"] is False
    assert rows["bad"]["status"] == "broken" and "unreadable" in rows["bad"]["error"]


def test_entries_are_written_atomically_and_validated(home):
    _entry(home, "qa", [])
    assert not [p for p in (home.adapters_dir / "qa").iterdir() if p.name.startswith(".entry-")]
    registry.record_export(home, "qa", {"format": "gguf", "quant": "q8_0", "path": "/x/a.gguf"})
    registry.record_export(home, "qa", {"format": "gguf", "quant": "q8_0", "path": "/x/b.gguf"})  # replaces
    assert [e["path"] for e in registry.read_entry(home, "qa")["exports"]] == ["/x/b.gguf"]
    with pytest.raises(TrainingError, match="no adapter named 'missing'"):
        registry.read_entry(home, "missing")
    for bad in ("", "../up", "a b", "x" * 65):
        with pytest.raises(ConfigError, match="valid adapter name"):
            registry.validate_name(bad)
    registry.remove_adapter(home, "qa")
    assert not (home.adapters_dir / "qa").exists()


def test_a_live_training_process_blocks_a_second_run(home):
    import os
    import subprocess
    import sys

    entry = _entry(home, "qa", [])
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        with pytest.raises(TrainingError, match=f"being trained by process {child.pid}"):
            registry.check_not_running({**entry, "status": "training", "pid": child.pid})
    finally:
        child.kill()
        child.wait()
    registry.check_not_running({**entry, "status": "training", "pid": child.pid})  # dead: counts as interrupted
    registry.check_not_running({**entry, "status": "training", "pid": os.getpid()})


def test_paths_inside_the_data_dir_are_stored_relative_to_it(home):
    import json

    entry = _entry(home, "qa", [(str(home.root / "docs" / "a.md"), "h1")])
    registry.update_entry(home, "qa", adapter_dir=str(home.adapters_dir / "qa"), base={"ref": "b", "path": str(home.root / "models" / "b")},
                          exports=[{"format": "gguf", "path": str(home.adapters_dir / "qa" / "export" / "qa-f16.gguf")}])
    on_disk = json.loads((home.adapters_dir / "qa" / registry.ENTRY_FILE).read_text())
    assert on_disk["base"]["path"] == "$RAGFT_HOME/models/b" and on_disk["adapter_dir"] == "$RAGFT_HOME/adapters/qa"
    assert on_disk["exports"][0]["path"] == "$RAGFT_HOME/adapters/qa/export/qa-f16.gguf"
    assert on_disk["sources"][0]["source"] == str(home.root / "docs" / "a.md")  # a document key, as the index holds it
    assert str(home.root) not in json.dumps({k: v for k, v in on_disk.items() if k != "sources"})
    back = registry.read_entry(home, "qa")
    assert back["base"]["path"] == str(home.root / "models" / "b") and back["adapter_dir"] == str(home.adapters_dir / "qa")


def test_an_entry_written_with_absolute_paths_is_read_under_the_data_dir_it_moved_to(tmp_path):
    import json

    from ingestion.home import Home

    old, new = tmp_path / "old-home", tmp_path / "new-home"
    (new / "adapters" / "qa").mkdir(parents=True)
    legacy = {"name": "qa", "status": "complete", "adapter_dir": str(old / "adapters" / "qa"),
              "base": {"ref": "b", "path": str(old / "models" / "b")}, "dataset": {"path": "/elsewhere/data.jsonl"}}
    (new / "adapters" / "qa" / registry.ENTRY_FILE).write_text(json.dumps(legacy))
    entry = registry.read_entry(Home.resolve(new), "qa")
    assert entry["base"]["path"] == str(new / "models" / "b") and entry["adapter_dir"] == str(new / "adapters" / "qa")
    assert entry["dataset"]["path"] == "/elsewhere/data.jsonl"  # outside the data dir: as recorded
