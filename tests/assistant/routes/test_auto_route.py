"""The auto route on real indexes: the sample corpus with the bundled model, and a tiny adapter
whose training document then changes (the router must stop trusting its weights for it)."""

from __future__ import annotations

import hashlib

import pytest

from assistant.llm.registry import clear_cache
from assistant.routes import RouteContext, build_route
from ingestion.home import Home
from rag.chat_model import GenerationOptions
from tests.assistant.cli.conftest import json_of, run_ragft
from tests.assistant.routes.test_finetuned_routes import DOC, train
from tests.finetune.train_fixtures import write_dataset

OPTIONS = GenerationOptions(max_tokens=8, deterministic=True)


def router_step(result) -> dict:
    assert result.steps[0]["step"] == "router"
    return result.steps[0]


def test_an_empty_home_falls_back_to_the_bare_model(home):
    out = json_of(run_ragft("ask", "What is the capital of France?", "--max-tokens", "8", "--json", home=home.root, check=True))
    assert out["route"] == "auto" and out["reason"].startswith("chose base: the collection has no index")
    assert out["steps"][0]["chosen"] == "base" and out["steps"][0]["signals"]["indexed"] is False


@pytest.fixture(scope="module")
def adapter_home(tmp_path_factory, tiny_llama_dir, embedder):
    from rag.indexing import ingest_paths

    home = Home.resolve(tmp_path_factory.mktemp("auto-home"))
    doc = home.root / "docs" / "marrowfield.md"
    doc.parent.mkdir(parents=True)
    doc.write_text(DOC)
    assert ingest_paths(home, [str(doc)], embedder=embedder).added == 1
    data = write_dataset(home.root / "data" / "five.jsonl", source=str(doc), source_hash=hashlib.sha256(doc.read_bytes()).hexdigest())
    train(home, data, tiny_llama_dir, "facts")
    yield home, doc
    clear_cache()


def test_an_adapter_that_does_not_recall_its_facts_is_not_asked(adapter_home):
    from finetune.registry import read_entry

    home, doc = adapter_home
    recall = read_entry(home, "facts")["metrics"]["recall"]  # measured at training's end
    assert recall["trained"] < 0.5  # two steps on random weights teach nothing
    route = build_route("auto", RouteContext(home=home, options=OPTIONS))
    result = route.answer("How many employees did Marrowfield have at the start of 2025?")
    step = router_step(result)
    assert step["signals"]["adapter"] == "facts" and step["signals"]["adapter_recall"] == recall["trained"]  # no held-out wordings in five rows
    assert step["chosen"] in ("naive", "agentic") and result.adapter is None
    assert "the adapter facts recalled" in result.reason and "so not" in result.reason
    route.close()


def test_the_adapter_is_used_until_its_document_changes(adapter_home, embedder):
    from finetune.registry import read_entry, update_entry
    from rag.indexing import ingest_paths

    home, doc = adapter_home
    metrics = read_entry(home, "facts")["metrics"]
    # an adapter that recalls what it was taught (as one trained with the facts preset does)
    update_entry(home, "facts", metrics={**metrics, "recall": {**metrics["recall"], "trained": 1.0, "held_out_wordings": 0.9}})
    route = build_route("auto", RouteContext(home=home, options=OPTIONS))
    question = "How many employees did Marrowfield have at the start of 2025?"
    fresh = route.answer(question)
    step = router_step(fresh)
    assert step["signals"]["adapter"] == "facts" and step["signals"]["top_sources"][0] == str(doc)
    assert step["signals"]["adapter_recall"] == 0.9
    # confident retrieval from the document the adapter learned -> hybrid; an unsure one -> its weights
    assert step["chosen"] == ("hybrid" if step["signals"]["confident"] else "finetuned")
    assert fresh.route == "auto" and fresh.adapter == "facts" and fresh.stale is False

    doc.write_text(DOC.replace("612", "650"))
    assert ingest_paths(home, [str(doc)], embedder=embedder).updated == 1
    changed = route.answer(question)
    step = router_step(changed)
    assert step["chosen"] in ("naive", "agentic") and step["signals"]["changed_sources"] == [str(doc)]
    assert changed.reason.startswith("chose ") and "was trained before marrowfield.md changed" in changed.reason
    assert changed.adapter is None  # answered from the index, not the stale weights
    route.close()


@pytest.mark.slow
def test_sample_corpus_questions_reach_the_route_their_signals_call_for(tmp_path_factory, embedder):
    from assistant.calibration import calibrate_collection
    from ingestion.sample import materialize
    from rag.indexing import ingest_paths

    home = Home.resolve(tmp_path_factory.mktemp("auto-sample"))
    materialize("v1", home.root / "sample-corpus")
    assert not ingest_paths(home, [str(home.root / "sample-corpus")], embedder=embedder).failed
    calibrate_collection(home)
    route = build_route("auto", RouteContext(home=home, options=GenerationOptions(max_tokens=64, deterministic=True)))
    fact = route.answer("How much does the Lanternfish Team plan cost per seat?")
    assert router_step(fact)["chosen"] == "naive" and "49" in fact.answer and fact.scores["faithfulness"] == 1.0
    two = route.answer("Who is the CEO of Marrowfield and when was the company established?")
    assert router_step(two)["chosen"] == "agentic" and router_step(two)["signals"]["multi_part"] is True
    missing = route.answer("What is the Bluetooth range of the Heron S4?")
    assert router_step(missing)["chosen"] == "agentic" and missing.abstained  # low confidence: retried, then declined
    route.close()


def test_a_budget_that_is_not_positive_is_a_usage_error(home):
    proc = run_ragft("ask", "Anything?", "--budget-s", "0", home=home.root)
    assert proc.returncode == 2 and "--budget-s must be more than 0" in proc.stderr and "loading" not in proc.stderr
