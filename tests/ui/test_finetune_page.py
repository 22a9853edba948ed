"""Fine-tune page: build a dataset (card + rows), start and cancel a background job, adapters table."""

from __future__ import annotations

import time
from pathlib import Path

from assistant import jobs
from finetune import registry
from ingestion.records import RecordManager
from tests.ui.app_fixtures import app, errors, sample_home, sample_root  # noqa: F401

PAGE = "finetune"


def test_build_dataset_start_and_cancel_training(sample_home):
    at = app(PAGE)
    assert at.radio(key="finetune_preset").options == ["quick", "full"] and at.radio(key="finetune_preset").value == "quick"
    docs = at.multiselect(key="finetune_docs")
    overview = [s for s in docs.options if s.endswith("overview.md")]
    docs.set_value(overview)
    at.text_input(key="finetune_dataset_name").set_value("ui-overview")
    at.button(key="finetune_build").click().run()
    assert not at.exception and errors(at) == []
    dataset = sample_home.root / "datasets" / "ui-overview.jsonl"
    assert dataset.is_file() and at.session_state["finetune_dataset"] == str(dataset)
    assert any("leakage check passed" in s.value for s in at.success)
    assert any(e.label == "Data card and sample rows" for e in at.expander)
    rows = at.dataframe[0].value
    assert len(rows) > 0 and {"split", "question", "answer"} <= set(rows.columns)

    at.text_input(key="finetune_adapter_name").set_value("ui-job")
    at.button(key="finetune_start").click().run()
    assert not at.exception and errors(at) == []
    job = jobs.read_job(sample_home, "ui-job")
    assert job is not None and "finetune" in job["command"] and "--json" in job["command"]
    try:
        assert jobs.status(sample_home, "ui-job")["state"] == "running"
        at.run()  # a reload finds the job from HOME, not from this session
        assert any(m.value.startswith("**ui-job · quick · ") for m in at.markdown)
    finally:
        jobs.cancel(sample_home, "ui-job")
    deadline = time.monotonic() + 60
    while jobs.status(sample_home, "ui-job")["state"] == "running":
        assert time.monotonic() < deadline, "the job did not stop after SIGINT"
        time.sleep(0.3)


def test_adapters_table_shows_staleness_and_use_in_chat(sample_home, tmp_path):
    records = RecordManager(sample_home.records_db)
    try:
        source = sorted(records.documents("default"))[0]
    finally:
        records.close()
    data = tmp_path / "d.jsonl"
    data.write_text("{}\n")
    card = {"sources": [{"source": source, "hash": "0" * 64}], "corpus_snapshot": "snap-test"}
    entry = registry.new_entry(name="old-facts", base={"ref": "smollm2-135m"}, qlora=False, data=data, dataset_hash="x",
                               card=card, hyperparameters={"preset": "quick"}, records_db=sample_home.records_db)
    registry.write_entry(sample_home, "old-facts", {**entry, "status": "complete", "metrics": {"train_loss": 1.25}})
    try:
        at = app(PAGE)
        table = at.dataframe[-1].value
        row = table[table["name"] == "old-facts"].iloc[0]
        # Indexed hash differs from the one trained on: the adapter is stale, and it says which file changed.
        assert row["status"] == "complete" and bool(row["stale"]) is True
        assert row["changed sources"] == Path(source).name
        assert row["corpus snapshot"] == "snap-test" and row["loss"] == 1.25
        at.selectbox(key="finetune_pick").set_value("old-facts")
        at.button(key="finetune_use").click().run()
        assert at.session_state["adapter"] == "old-facts"
        at.switch_page("pages/chat.py").run()
        assert [s.value for s in at.selectbox if s.label == "Adapter"] == ["old-facts"]
    finally:
        registry.remove_adapter(sample_home, "old-facts")


def test_export_button_starts_a_background_job_that_the_page_shows(sample_home, tmp_path):
    data = tmp_path / "d.jsonl"
    data.write_text("{}\n")
    # A registered, complete adapter with no weights on disk: the export starts, then fails with its one line.
    entry = registry.new_entry(name="no-weights", base={"ref": "smollm2-135m"}, qlora=False, data=data, dataset_hash="x",
                               card={"sources": []}, hyperparameters={"preset": "quick"}, records_db=sample_home.records_db)
    registry.write_entry(sample_home, "no-weights", {**entry, "status": "complete"})
    try:
        at = app(PAGE)
        assert at.radio(key="finetune_quant").options == ["q8_0", "q4_k_m"]
        at.selectbox(key="finetune_pick").set_value("no-weights")
        at.radio(key="finetune_quant").set_value("q4_k_m")
        before = errors(at)  # other tests' jobs in the shared data dir may show theirs
        at.button(key="finetune_export").click().run()  # returns at once: the export runs in its own process
        assert not at.exception and errors(at) == before
        job = jobs.read_job(sample_home, "no-weights", kind="export")
        assert job is not None and job["command"][-6:] == ["no-weights", "--format", "gguf", "--quant", "q4_k_m", "--json"]
        assert any(m.value.startswith("**export · no-weights · q4_k_m · ") for m in at.markdown)

        deadline = time.monotonic() + 120
        while (state := jobs.export_status(sample_home, "no-weights"))["state"] == "running":
            assert time.monotonic() < deadline, state["log_tail"]
            time.sleep(0.5)
        at.run()  # a reload reads the finished job back from HOME
        assert state["state"] == "failed" and "ragft export: error:" in state["error"]
        assert "**export · no-weights · q4_k_m · failed**" in [m.value for m in at.markdown]
        assert sorted(errors(at)) == sorted([*before, state["error"]])  # its one-line error, no traceback
    finally:
        registry.remove_adapter(sample_home, "no-weights")
