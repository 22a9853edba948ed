"""Merge an adapter trained on the tiny Llama, quantize at load time, export GGUF and verify it."""

from __future__ import annotations

import pytest

from finetune import registry
from finetune.base_model import bundled_gguf
from finetune.export_gguf import THRESHOLDS, export_adapter, permute_qk
from finetune.merge import load_base_and_adapter, merge_adapter
from finetune.config import TrainConfig
from finetune.train import finetune
from ingestion.errors import ConfigError, TrainingError
from ingestion.home import Home
from tests.finetune.train_fixtures import write_dataset


@pytest.fixture(scope="module")
def trained(tmp_path_factory, tiny_llama_dir):
    root = tmp_path_factory.mktemp("merge")
    home = Home.resolve(root / "home")
    data = write_dataset(root / "five.jsonl")
    # A high learning rate so that the adapter visibly moves the logits.
    cfg = TrainConfig.from_preset("quick", data=data, base=str(tiny_llama_dir), max_steps=4, grad_accum=1,
                                  max_length=64, learning_rate=0.05, lora_dropout=0.0, early_stopping_patience=0)
    finetune(cfg, home)
    return home, tiny_llama_dir


def test_merged_model_gives_the_logits_of_base_plus_adapter(trained):
    import torch
    from transformers import AutoModelForCausalLM

    home, base = trained
    result = merge_adapter(home, "five", quiet=True)
    assert (result.path / "model.safetensors").is_file() and (result.path / "tokenizer.json").is_file()
    assert registry.read_entry(home, "five")["merged_dir"] == str(result.path)
    tokenizer, with_adapter = load_base_and_adapter(str(base), home.adapters_dir / "five")
    merged = AutoModelForCausalLM.from_pretrained(result.path, dtype=torch.float32).eval()
    plain = AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32).eval()
    ids = torch.tensor([tokenizer("In which year was Marrowfield Instruments founded?")["input_ids"]])
    with torch.no_grad():
        expected, got, before = with_adapter(ids).logits, merged(ids).logits, plain(ids).logits
    assert torch.allclose(expected, got, atol=1e-4)
    assert (expected - before).abs().max() > 1e-2  # the adapter did change the model


@pytest.mark.parametrize("quant", ["nf4", "int8"])
def test_merged_checkpoint_quantizes_at_load_time_with_bitsandbytes(trained, quant):
    import torch
    from transformers import AutoModelForCausalLM, BitsAndBytesConfig

    home, _ = trained
    path = registry.read_entry(home, "five")["merged_dir"] or str(merge_adapter(home, "five", quiet=True).path)
    if quant == "nf4":
        config = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_compute_dtype=torch.float32)
    else:
        config = BitsAndBytesConfig(load_in_8bit=True)
    model = AutoModelForCausalLM.from_pretrained(path, quantization_config=config, dtype=torch.float32, device_map="cpu")
    layer = type(model.model.layers[0].self_attn.q_proj).__name__
    assert layer == ("Linear4bit" if quant == "nf4" else "Linear8bitLt")
    out = model.generate(torch.tensor([[1, 2, 3]]), max_new_tokens=3, do_sample=False)
    assert out.shape == (1, 6)


def test_qk_permutation_is_the_inverse_of_what_transformers_undoes_on_load():
    import numpy as np
    from transformers.modeling_gguf_pytorch_utils import LlamaTensorProcessor

    w = np.random.default_rng(0).standard_normal((4 * 16, 64)).astype(np.float32)
    undo = LlamaTensorProcessor(config={})._reverse_permute_weights
    assert np.array_equal(undo(permute_qk(w, 4, 4), 4, 4), w)
    k = w[: 2 * 16]
    assert np.array_equal(undo(permute_qk(k, 4, 2), 4, 2), k)


@pytest.mark.parametrize("quant", ["f32", "q8_0"])
def test_gguf_export_loads_in_llama_cpp_and_agrees_with_the_merged_model(trained, quant):
    from gguf import GGUFReader

    home, _ = trained
    result = export_adapter(home, "five", quant=quant, tokenizer_gguf=bundled_gguf(), quiet=True)
    check = result.verification
    assert result.path.is_file() and result.path.name == f"five-{quant}.gguf"
    # f32 is the same arithmetic, so argmax agrees everywhere. q8_0 on this random tiny model also
    # clears the q8_0 threshold: it is deterministic (seeded weights, seeded training), and the
    # real model's figures are in benchmarks/RESULTS.md.
    assert check.passed and check.top1_agreement >= THRESHOLDS[quant] and check.tokens >= 64
    assert check.questions == 1 and check.greedy_answer_agreement is not None
    reader = GGUFReader(str(result.path))
    fields = {k: f.contents() for k, f in reader.fields.items() if not k.startswith("tokenizer.ggml.") or k.endswith("_id")}
    assert fields["general.architecture"] == "llama" and fields["llama.block_count"] == 2
    assert fields["llama.embedding_length"] == 64 and fields["llama.attention.head_count_kv"] == 2
    assert "<|im_start|>" in fields["tokenizer.chat_template"] and fields["tokenizer.ggml.eos_token_id"] == 2
    names = {t.name for t in reader.tensors}
    assert len(names) == 2 * 9 + 2 and "output.weight" not in names  # tied embeddings: llama.cpp reuses token_embd
    exports = {(e["quant"], e["path"]) for e in registry.get_adapter(home, "five")["exports"]}
    assert (quant, str(result.path)) in exports


def test_a_qwen2_adapter_exports_and_agrees_with_its_merged_model(tmp_path, tiny_llama_dir):
    """The small profile's architecture: q/k/v biases, no rotary permutation (a tiny random Qwen2
    with the SmolLM2 tokenizer, trained a few steps, exported f32 and checked token by token)."""
    import torch
    from gguf import GGUFReader
    from transformers import AutoTokenizer, Qwen2Config, Qwen2ForCausalLM

    tokenizer = AutoTokenizer.from_pretrained(tiny_llama_dir)
    config = Qwen2Config(vocab_size=len(tokenizer), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=512, rope_theta=1_000_000.0,
                         bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id, tie_word_embeddings=True)
    torch.manual_seed(0)
    base = tmp_path / "tiny-qwen2"
    Qwen2ForCausalLM(config).save_pretrained(base)
    tokenizer.save_pretrained(base)
    home = Home.resolve(tmp_path / "home")
    cfg = TrainConfig.from_preset("quick", data=write_dataset(tmp_path / "five.jsonl"), base=str(base), max_steps=3,
                                  grad_accum=1, max_length=64, learning_rate=0.05, early_stopping_patience=0)
    finetune(cfg, home)
    result = export_adapter(home, "five", quant="f32", tokenizer_gguf=bundled_gguf(), quiet=True)
    assert result.verification.passed and result.verification.top1_agreement >= THRESHOLDS["f32"]
    reader = GGUFReader(str(result.path))
    assert reader.fields["general.architecture"].contents() == "qwen2"
    assert {"blk.0.attn_q.bias", "blk.0.attn_k.bias", "blk.0.attn_v.bias"} <= {t.name for t in reader.tensors}


def test_export_errors_are_clear(trained, tmp_path):
    home, _ = trained
    with pytest.raises(ConfigError, match="--quant"):
        export_adapter(home, "five", quant="q3", tokenizer_gguf=bundled_gguf())
    with pytest.raises(ConfigError, match="--tokenizer-gguf"):  # a local base has no known GGUF tokenizer
        export_adapter(home, "five", quant="f32")
    with pytest.raises(TrainingError, match="no adapter named 'nope'"):
        export_adapter(home, "nope", quant="f32", tokenizer_gguf=bundled_gguf())


def test_without_held_out_rows_the_check_reads_sample_corpus_prose(tmp_path, tiny_llama_dir):
    # A dataset that is gone (or has no validation/test rows) must still give the check enough
    # text: with ~70 tokens, three near-tie tokens failed a q8_0 export of a good adapter.
    from transformers import AutoTokenizer

    from finetune.export_gguf import _precision_fix, held_out

    tok = AutoTokenizer.from_pretrained(tiny_llama_dir)
    sequences, prompts = held_out(tmp_path / "gone.jsonl", tok, max_tokens=512)
    assert sum(map(len, sequences)) == 512 and len(sequences) >= 3 and prompts == []
    assert "f16" in _precision_fix("q8_0") and "q8_0" not in _precision_fix("q8_0") and "--no-verify" in _precision_fix("q8_0")
