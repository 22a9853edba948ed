"""Session fixtures for model tests: the converted default checkpoint and a tiny random Llama.

Imported by tests/finetune/conftest.py and tests/assistant/conftest.py. The conversion (~30 s on
2 cores) lives in one directory under pytest's base temp; ``ensure_hf_checkpoint`` is idempotent,
so however many conftests instantiate the fixture, the GGUF is converted once per run.
"""

from __future__ import annotations

import contextlib
import io
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from ingestion.home import Home


@dataclass(frozen=True)
class ConvertedHome:
    home: Home
    checkpoint: Path
    conversion_log: str  # stderr of the first ensure_hf_checkpoint call ("" if already cached)


_converted: list[ConvertedHome] = []  # shared by the fixture's instances in each conftest


@pytest.fixture(scope="session")
def converted(tmp_path_factory) -> ConvertedHome:
    """A data dir whose bundled model is converted; the first conversion starts from a corrupt
    cache (a config.json and a 10-byte model.safetensors) so it also proves the rebuild."""
    from finetune.base_model import checkpoint_problem, ensure_hf_checkpoint, hf_checkpoint_dir

    if _converted:
        return _converted[0]

    home = Home.resolve(tmp_path_factory.getbasetemp() / "models-home")
    target = hf_checkpoint_dir(home)
    log = ""
    if checkpoint_problem(target) is not None:
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
        (target / "config.json").write_text("{}")
        (target / "model.safetensors").write_bytes(b"\x00" * 10)
        buf = io.StringIO()
        with contextlib.redirect_stderr(buf):
            ensure_hf_checkpoint(home)
        log = buf.getvalue()
    _converted.append(ConvertedHome(home=home, checkpoint=target, conversion_log=log))
    return _converted[0]


@pytest.fixture(scope="session")
def tiny_llama_dir(tmp_path_factory, converted) -> Path:
    """A 2-layer, hidden-64 random-weight Llama with the real SmolLM2 tokenizer, as safetensors."""
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    out = tmp_path_factory.getbasetemp() / "tiny-llama"
    if (out / "model.safetensors").is_file():
        return out
    tokenizer = AutoTokenizer.from_pretrained(converted.checkpoint)
    config = LlamaConfig(
        vocab_size=len(tokenizer), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=512,
        bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id,
        tie_word_embeddings=True,
    )
    torch.manual_seed(0)
    LlamaForCausalLM(config).save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out
