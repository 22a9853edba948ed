"""ui.resources: a loaded route is reused until the adapter gains a GGUF export, then built again."""

from __future__ import annotations

from finetune import registry
from ui import resources


def test_a_finished_export_makes_the_next_question_load_the_route_again(home, tmp_path, monkeypatch):
    built = []
    # The route's own loading is covered by the route tests; here only when the cache builds one counts.
    monkeypatch.setattr(resources, "build_route", lambda name, context: built.append((name, context.adapter)) or object())
    data = tmp_path / "d.jsonl"
    data.write_text("{}\n")
    entry = registry.new_entry(name="docs", base={"ref": "smollm2-135m"}, qlora=False, data=data, dataset_hash="x",
                               card=None, hyperparameters={}, records_db=home.records_db)
    registry.write_entry(home, "docs", {**entry, "status": "complete"})
    resources.clear_routes()
    try:
        first = resources.route("finetuned", "docs", str(home.root))
        assert resources.route("finetuned", "docs", str(home.root)) is first and len(built) == 1

        gguf = tmp_path / "docs-q8_0.gguf"
        registry.record_export(home, "docs", {"format": "gguf", "quant": "q8_0", "path": str(gguf)})
        assert resources.route("finetuned", "docs", str(home.root)) is first  # recorded, but no file yet
        gguf.write_bytes(b"GGUF")
        second = resources.route("finetuned", "docs", str(home.root))
        assert second is not first and built == [("finetuned", "docs")] * 2
        assert resources.route("finetuned", "docs", str(home.root)) is second
        assert resources.route("naive", None, str(home.root)) is not second  # no adapter: no registry read
    finally:
        resources.clear_routes()
