"""Model specs, the registry, ``--model`` strings and HOME/models.json."""

from __future__ import annotations

import json

import pytest

from assistant.llm import DEFAULT_MODEL, ModelSpec, all_specs, describe, resolve_spec
from assistant.llm.base import BUNDLED
from ingestion.errors import ConfigError, ModelError


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"backend": "onnx", "path": "x"}, "backend"),
        ({"backend": "transformers", "path": "x", "quantization": "q2"}, "quantization"),
        ({"backend": "llamacpp", "path": "x.gguf", "quantization": "nf4"}, "transformers backend only"),
        ({"backend": "llamacpp", "path": "x.gguf", "adapter": "a"}, "adapter"),
        ({"backend": "openai", "model": "m", "base_url": "ftp://x"}, "base_url"),
        ({"backend": "openai", "base_url": "http://x/v1"}, "model is required"),
        ({"backend": "transformers"}, "path is required"),
        ({"backend": "transformers", "path": "x", "context_window": 0}, "context_window"),
        ({"backend": "openai", "model": "m", "base_url": "http://x/v1", "retries": 99}, "retries"),
    ],
)
def test_spec_errors_name_the_field(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        ModelSpec(name="m", **kwargs)


def test_builtin_models_and_default(home):
    specs = {s.name: s for s in all_specs(home)}
    assert specs[DEFAULT_MODEL].backend == "llamacpp" and specs[DEFAULT_MODEL].path == BUNDLED
    assert {specs[n].quantization for n in ("smollm2-135m-hf", "smollm2-135m-nf4", "smollm2-135m-int8")} == {"fp32", "nf4", "int8"}
    assert not any(s.trust_remote_code for s in specs.values())


def test_model_strings(home, tmp_path):
    assert resolve_spec("smollm2-135m-nf4", home).quantization == "nf4"
    assert resolve_spec(str(tmp_path / "m.Q8_0.gguf"), home).backend == "llamacpp"
    ckpt = tmp_path / "ckpt"
    ckpt.mkdir()
    assert resolve_spec(str(ckpt), home).backend == "transformers"
    assert resolve_spec("HuggingFaceTB/SmolLM2-360M-Instruct", home).path == "HuggingFaceTB/SmolLM2-360M-Instruct"
    remote = resolve_spec("openai:qwen2.5:7b@http://127.0.0.1:11434/v1", home)
    assert (remote.backend, remote.model, remote.base_url) == ("openai", "qwen2.5:7b", "http://127.0.0.1:11434/v1")
    with pytest.raises(ModelError, match="unknown model 'nope'"):
        resolve_spec("nope", home)
    with pytest.raises(ConfigError, match="openai:MODEL@URL"):
        resolve_spec("openai:no-url", home)


def test_user_models_from_models_json(home):
    (home.root / "models.json").write_text(json.dumps({"models": [
        {"name": "my-vllm", "backend": "openai", "model": "llama3", "base_url": "http://127.0.0.1:9/v1"},
        {"name": "qlora", "backend": "transformers", "path": "/nowhere", "quantization": "nf4", "adapter": "/a"},
    ]}))
    names = [s.name for s in all_specs(home)]
    assert names[-2:] == ["my-vllm", "qlora"]
    assert resolve_spec("qlora", home).adapter == "/a"


@pytest.mark.parametrize(
    ("content", "match"),
    [
        ("{not json", "not valid JSON"),
        ('{"models": {}}', "must hold"),
        ('{"models": [{"name": "x", "backend": "openai", "modle": "typo"}]}', r"models\[0\]: unknown field\(s\) modle"),
        ('{"models": [{"name": "x", "backend": "nope", "path": "p"}]}', r"models\[0\]: model 'x': backend"),
        ('{"models": [{"name": "smollm2-135m", "backend": "llamacpp", "path": "p.gguf"}]}', "defined twice"),
    ],
)
def test_bad_models_json_names_file_and_field(home, content, match):
    (home.root / "models.json").write_text(content)
    with pytest.raises(ConfigError, match=match) as err:
        all_specs(home)
    assert "models.json" in str(err.value)


def test_describe_reports_size_quantization_and_readiness(home, tmp_path):
    row = describe(resolve_spec(DEFAULT_MODEL, home), home)
    assert row["ready"] and row["quantization"] == "q4_1" and 80 < row["size_mb"] < 120 and row["default"]
    hf = describe(resolve_spec("smollm2-135m-hf", home), home)  # fresh home: not converted yet
    assert not hf["ready"] and "first use" in hf["status"] and hf["size_mb"] is None
    missing = describe(resolve_spec(str(tmp_path / "gone.gguf"), home), home)
    assert not missing["ready"] and missing["status"] == "file not found"
