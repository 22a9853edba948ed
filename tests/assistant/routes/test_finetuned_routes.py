"""The finetuned and hybrid routes with a tiny random-weight Llama adapter trained for a few steps.

The weights are random, so the answers are noise; what is asserted is the plumbing: which adapter
answers, on which weights (PEFT, then its GGUF export), with retrieval or without, and that
``stale`` flips once the document the adapter learned from changes and is re-ingested.
"""

from __future__ import annotations

import hashlib

import pytest

from assistant.llm.registry import clear_cache
from assistant.routes import RouteContext, build_route
from finetune import registry
from finetune.config import TrainConfig
from finetune.train import finetune
from ingestion.errors import ModelError, TrainingError
from ingestion.home import Home
from rag.chat_model import GenerationOptions
from tests.assistant.cli.conftest import json_of, run_ragft
from tests.finetune.train_fixtures import write_dataset

OPTIONS = GenerationOptions(max_tokens=8, deterministic=True)
DOC = "# Marrowfield\n\nMarrowfield Instruments was founded in 2011 in Rotterdam.\n\nIt had 612 employees at the start of 2025.\n"


def train(home: Home, data, base, name: str) -> None:
    cfg = TrainConfig.from_preset("quick", data=data, name=name, base=str(base), max_steps=2, grad_accum=1, max_length=64,
                                  early_stopping_patience=0, save_steps=100)
    assert finetune(cfg, home).status == "complete"


@pytest.fixture(scope="module")
def ft_home(tmp_path_factory, tiny_llama_dir, embedder):
    """A data dir with one ingested document and two adapters trained on a dataset built from it
    (``older``, then ``newer``)."""
    from rag.indexing import ingest_paths

    home = Home.resolve(tmp_path_factory.mktemp("ft-home"))
    doc = home.root / "docs" / "marrowfield.md"
    doc.parent.mkdir(parents=True)
    doc.write_text(DOC)
    report = ingest_paths(home, [str(doc)], embedder=embedder)
    assert report.added == 1 and not report.failed
    data = write_dataset(home.root / "data" / "five.jsonl", source=str(doc), source_hash=hashlib.sha256(doc.read_bytes()).hexdigest())
    train(home, data, tiny_llama_dir, "older")
    train(home, data, tiny_llama_dir, "newer")
    yield home, doc
    clear_cache()


def test_finetuned_route_answers_with_the_newest_adapter_over_peft(ft_home):
    home, _ = ft_home
    route = build_route("finetuned", RouteContext(home=home, options=OPTIONS))
    out = route.answer("In which year was Marrowfield Instruments founded?")
    assert out.route == "finetuned" and out.adapter == "newer" and out.stale is False
    assert out.model == "newer-peft-fp32" and "PEFT adapter" in out.reason
    assert out.tokens["completion"] > 0 and out.citations == []  # no retrieval on this route


def test_an_adapter_is_picked_by_name_and_bad_names_are_clear(ft_home):
    home, _ = ft_home
    assert build_route("finetuned", RouteContext(home=home, options=OPTIONS, adapter="older")).answer("Who?").adapter == "older"
    with pytest.raises(TrainingError, match="no adapter named 'nope'"):
        build_route("finetuned", RouteContext(home=home, adapter="nope"))
    registry.update_entry(home, "older", status="interrupted")
    try:
        with pytest.raises(ModelError, match="has not finished training"):
            build_route("hybrid", RouteContext(home=home, adapter="older"))
    finally:
        registry.update_entry(home, "older", status="complete")


def test_an_asked_for_profile_serves_only_adapters_trained_on_its_base(ft_home, monkeypatch):
    home, _ = ft_home
    monkeypatch.delenv("RAGFT_PROFILE", raising=False)
    for name in ("finetuned", "hybrid"):  # both adapters were trained on the tiny random Llama, not on SmolLM2
        with pytest.raises(ModelError, match="no fine-tuned adapter on base smollm2-135m") as err:
            build_route(name, RouteContext(home=home, profile="tiny"))
        assert "--base smollm2-135m" in err.value.fix
    entry = registry.read_entry(home, "older")
    registry.update_entry(home, "older", base={**entry["base"], "ref": "smollm2-135m"})
    try:
        assert build_route("finetuned", RouteContext(home=home, options=OPTIONS, profile="tiny")).adapter == "older"
        assert build_route("finetuned", RouteContext(home=home, options=OPTIONS)).adapter == "newer"  # none asked: newest
    finally:
        registry.update_entry(home, "older", base=entry["base"])


def test_without_any_adapter_the_routes_say_how_to_train_one(tmp_path):
    for name in ("finetuned", "hybrid"):
        with pytest.raises(ModelError, match="no fine-tuned adapter") as err:
            build_route(name, RouteContext(home=Home.resolve(tmp_path / "empty")))
        assert "ragft finetune --data FILE" in err.value.fix


def test_a_gguf_export_is_preferred_over_peft(ft_home):
    from finetune.base_model import bundled_gguf
    from finetune.export_gguf import export_adapter

    home, _ = ft_home
    export_adapter(home, "older", quant="f32", tokenizer_gguf=bundled_gguf(), verify=False, quiet=True)
    route = build_route("finetuned", RouteContext(home=home, options=OPTIONS, adapter="older"))
    out = route.answer("In which year was Marrowfield Instruments founded?")
    assert out.model == "older-f32" and "GGUF f32 export on llama.cpp" in out.reason and out.adapter == "older"
    assert out.tokens["completion"] > 0


def test_the_served_export_is_the_most_faithful_that_passed_its_check():
    from assistant.routes.finetuned import pick_gguf

    def export(quant, passed=True, exists=True):
        return {"format": "gguf", "quant": quant, "exists": exists, "path": f"/x-{quant}.gguf",
                "verification": None if passed is None else {"passed": passed}}

    pick = lambda *exports: (pick_gguf({"exports": list(exports)}) or {}).get("quant")  # noqa: E731
    assert pick(export("q4_k_m"), export("f16"), export("q8_0")) == "q8_0"
    assert pick(export("q4_k_m"), export("f16"), export("q8_0", passed=False)) == "f16"  # a failed check is never served
    assert pick(export("q4_k_m"), export("f32", exists=False)) == "q4_k_m"
    assert pick(export("q8_0", passed=None)) == "q8_0"  # --no-verify: the user's call
    assert pick(export("q8_0", passed=False)) is None  # then the PEFT adapter answers


def test_hybrid_retrieves_then_the_adapter_answers(ft_home):
    home, doc = ft_home
    route = build_route("hybrid", RouteContext(home=home, options=OPTIONS, adapter="newer"))
    try:
        out = route.answer("How many employees did Marrowfield have at the start of 2025?")
    finally:
        route.close()
    assert out.route == "hybrid" and out.adapter == "newer" and out.stale is False
    assert out.model == "newer-peft-fp32" and "fine-tuned adapter newer" in out.reason
    assert out.steps[0]["step"] == "retrieve"
    assert out.abstained or {c["source"] for c in out.citations} == {str(doc)}


def test_stale_flips_after_the_source_document_changes_and_is_reingested(ft_home, embedder):
    from rag.indexing import ingest_paths

    home, doc = ft_home
    route = build_route("finetuned", RouteContext(home=home, options=OPTIONS, adapter="newer"))
    assert route.answer("Who?").stale is False
    doc.write_text(DOC.replace("612", "650"))
    assert route.answer("Who?").stale is False  # changed on disk, not yet in the index
    assert ingest_paths(home, [str(doc)], embedder=embedder).updated == 1
    assert route.answer("Who?").stale is True  # the same loaded route sees it at once
    cli = json_of(run_ragft("ask", "Who founded Marrowfield?", "--route", "finetuned", "--adapter", "newer",
                            "--max-tokens", "4", "--json", home=home.root))
    assert cli["route"] == "finetuned" and cli["adapter"] == "newer" and cli["stale"] is True
    assert isinstance(cli["answer"], str) and cli["tokens"]["completion"] > 0
