"""``ragft models`` and ``ragft ask --route base`` through the real console entry point."""

from __future__ import annotations

import json

import pytest

from tests.assistant.cli.conftest import json_of, run_ragft
from tests.assistant.openai_server import free_port

QUESTION = "What is the capital of France?"
ANSWER_KEYS = {"route", "reason", "answer", "abstained", "citations", "scores", "latency_s", "tokens"}


def test_models_json_lists_builtins_and_user_models(converted, tmp_path, openai_server):
    home = tmp_path / "home"
    home.mkdir()
    # A fresh home sees the transformers variants as "converts on first use"...
    models = {m["name"]: m for m in json_of(run_ragft("models", "--json", home=home, check=True))["models"]}
    assert models["smollm2-135m"]["ready"] and models["smollm2-135m"]["backend"] == "llamacpp"
    assert not models["smollm2-135m-hf"]["ready"] and "first use" in models["smollm2-135m-hf"]["status"]
    # ...the converted one sees them ready, with their size on disk; models.json adds endpoints.
    (converted.home.root / "models.json").write_text(json.dumps({"models": [
        {"name": "up", "backend": "openai", "model": "smollm2", "base_url": f"{openai_server.url}/v1"},
        {"name": "down", "backend": "openai", "model": "x", "base_url": f"http://127.0.0.1:{free_port()}/v1"},
    ]}))
    try:
        proc = run_ragft("models", "--json", home=converted.home.root, check=True)
    finally:
        (converted.home.root / "models.json").unlink()
    models = {m["name"]: m for m in json_of(proc)["models"]}
    for name, quant in [("smollm2-135m-hf", "fp32"), ("smollm2-135m-nf4", "nf4"), ("smollm2-135m-int8", "int8")]:
        row = models[name]
        assert row["ready"] and row["backend"] == "transformers" and row["quantization"] == quant and row["size_mb"] > 400
    assert models["up"]["ready"] and not models["down"]["ready"]
    assert {"name", "backend", "quantization", "ready", "size_mb", "path"} <= set(models["up"])


def test_models_human_table(home):
    proc = run_ragft("models", home=home.root, check=True)
    assert proc.stdout.splitlines()[0].split()[:3] == ["NAME", "BACKEND", "QUANT"]
    assert "smollm2-135m (default)" in proc.stdout


@pytest.mark.slow
def test_ask_base_json_answers_paris(home):
    out = json_of(run_ragft("ask", "--route", "base", "--json", QUESTION, home=home.root, check=True))
    assert ANSWER_KEYS <= set(out) and out["route"] == "base" and "Paris" in out["answer"]
    assert out["abstained"] is False and out["citations"] == [] and out["tokens"]["completion"] > 0
    # no context: nothing to be faithful to; relevance is the kind check alone (a capital, not a number)
    assert "faithfulness" not in out["scores"] and out["scores"]["answer_relevance"] == 1.0


@pytest.mark.slow
def test_ask_streams_text_without_json(home):
    proc = run_ragft("ask", QUESTION, home=home.root, check=True)
    assert "Paris" in proc.stdout and not proc.stdout.lstrip().startswith("{")
    assert "tokens" in proc.stderr  # the footer goes to stderr, not into the answer


@pytest.mark.slow
def test_ask_questions_file_loads_once(home, tmp_path):
    questions = tmp_path / "q.txt"
    questions.write_text(f"{QUESTION}\n\nWhat is 2 + 2?\n")
    out = json_of(run_ragft("ask", "--questions", str(questions), "--max-tokens", "16", "--json", home=home.root, check=True))
    assert [r["question"] for r in out["results"]] == [QUESTION, "What is 2 + 2?"]
    assert all(ANSWER_KEYS <= set(r) for r in out["results"])


@pytest.mark.slow
def test_ask_through_an_openai_endpoint(home, openai_server):
    model = f"openai:smollm2@{openai_server.url}/v1"
    out = json_of(run_ragft("ask", "--model", model, "--json", QUESTION, home=home.root, check=True))
    assert "Paris" in out["answer"] and out["model"] == model


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (["--model", "no-such-model"], "unknown model 'no-such-model'"),
        (["--model", "/nowhere/model.gguf"], "does not exist"),
        (["--model", "openai:m@http://127.0.0.1:{port}/v1"], "cannot connect"),
    ],
)
def test_ask_model_failures_exit_1_with_one_line(home, args, match):
    args = [a.format(port=free_port()) for a in args]
    proc = run_ragft("ask", *args, "--json", QUESTION, home=home.root)
    assert proc.returncode == 1 and proc.stdout == ""
    errors = [line for line in proc.stderr.splitlines() if "error:" in line]
    assert len(errors) == 1 and match in errors[0]


@pytest.mark.parametrize(
    "args",
    [
        ["--max-tokens", "abc", QUESTION],
        ["--max-tokens", "0", QUESTION],
        ["--temperature", "5", QUESTION],
        ["--route", "nope", QUESTION],
        [],  # neither QUESTION nor --questions
        ["--questions", "/no/such/file.txt"],
    ],
)
def test_ask_usage_errors_exit_2(home, args):
    proc = run_ragft("ask", *args, home=home.root)
    assert proc.returncode == 2 and "error" in proc.stderr
