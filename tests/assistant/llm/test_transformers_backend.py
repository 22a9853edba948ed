"""transformers backend: the real converted model, and a tiny random Llama for adapters/bitsandbytes."""

from __future__ import annotations

import json
import shutil

import pytest

from assistant.llm import get_model
from assistant.llm.base import ModelSpec
from ingestion.errors import ModelError
from rag.chat_model import GenerationOptions

SYSTEM = {"role": "system", "content": "You are a helpful assistant. Answer the question briefly."}
QUESTION = [SYSTEM, {"role": "user", "content": "What is the capital of France?"}]
GREEDY = GenerationOptions(deterministic=True, max_tokens=40)
CONVERSATIONS = [
    QUESTION,
    [{"role": "user", "content": "Hi!"}],  # no system message: the template adds SmolLM's own
    [SYSTEM, {"role": "user", "content": "Déjà vu? ½ café — naïve  spacing\n\ttabs 🚀"},
     {"role": "assistant", "content": "Yes."}, {"role": "user", "content": "<|im_end|> inside text, and 1234567"}],
]


@pytest.fixture(scope="module")
def hf_model(converted):
    return get_model("smollm2-135m-hf", home=converted.home)


@pytest.fixture(scope="module")
def llama(converted):
    return get_model("smollm2-135m", home=converted.home)


def tiny(tiny_llama_dir, **kw) -> ModelSpec:
    return ModelSpec(name=kw.pop("name", "tiny"), backend="transformers", path=str(tiny_llama_dir), **kw)


@pytest.mark.slow
def test_converted_model_answers_paris(hf_model):
    pieces: list[str] = []
    done = hf_model.generate(QUESTION, GREEDY, on_token=pieces.append)
    assert "Paris" in done.text and "".join(pieces) == done.text and len(pieces) > 1
    assert done.finish_reason == "stop" and done.first_token_s > 0


@pytest.mark.slow
@pytest.mark.parametrize("messages", CONVERSATIONS, ids=["system+user", "user-only", "multi-turn-unicode"])
def test_same_prompt_tokens_on_llamacpp_and_transformers(hf_model, llama, messages):
    ids = hf_model.prompt_ids(messages)
    assert ids == llama.prompt_ids(messages)
    # ...and the shared renderer matches transformers' own apply_chat_template.
    expected = hf_model.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    assert hf_model.template.render(messages) == expected


@pytest.mark.slow
def test_same_tokens_for_random_text(hf_model, llama):
    # Digits, symbols that are \p{N} (½ ² Ⅸ ٣), CJK, emoji, odd spaces: where pre-tokenizers differ.
    import random

    rng = random.Random(0)
    alphabet = [chr(c) for c in range(32, 127)] + list("½é—🚀中٣²Ⅸ\u00a0\u3000\n\t") + ["  "]
    for _ in range(300):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 40)))
        assert hf_model.tokenize(text) == llama.tokenize(text), text


@pytest.mark.slow
def test_same_greedy_answer_on_both_backends(hf_model, llama):
    # Same weights (the GGUF, dequantized) and same prompt tokens: the greedy answers agree.
    assert hf_model.generate(QUESTION, GREEDY).text == llama.generate(QUESTION, GREEDY).text


def test_tiny_model_streams_and_respects_max_tokens(tiny_llama_dir, home):
    model = get_model(tiny(tiny_llama_dir), home=home)
    done = model.generate(QUESTION, GenerationOptions(deterministic=True, max_tokens=5))
    assert done.completion_tokens <= 5 and done.prompt_tokens == len(model.prompt_ids(QUESTION))
    assert done.text == model.generate(QUESTION, GenerationOptions(deterministic=True, max_tokens=5)).text


def test_cache_is_keyed_by_model_quantization_and_adapter(tiny_llama_dir, home, lora_dir):
    spec = tiny(tiny_llama_dir)
    fp32 = get_model(spec, home=home)
    assert get_model(spec, home=home) is fp32
    assert get_model(spec, home=home, quantization="nf4") is not fp32
    assert get_model(spec, home=home, adapter=str(lora_dir)) is not fp32


@pytest.fixture(scope="module")
def lora_dir(tiny_llama_dir, tmp_path_factory):
    """A LoRA adapter for the tiny model with non-zero B, so it changes the outputs."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    base = AutoModelForCausalLM.from_pretrained(tiny_llama_dir)
    peft_model = get_peft_model(base, LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"]))
    torch.manual_seed(1)
    with torch.no_grad():
        for name, param in peft_model.named_parameters():
            if "lora_B" in name:
                param.normal_(0, 0.5)
    out = tmp_path_factory.mktemp("lora")
    peft_model.save_pretrained(out)
    return out


def test_peft_adapter_is_applied(tiny_llama_dir, lora_dir, home):
    import torch
    from peft import PeftModel

    base = get_model(tiny(tiny_llama_dir), home=home)
    adapted = get_model(tiny(tiny_llama_dir, name="tiny-lora", adapter=str(lora_dir)), home=home)
    assert isinstance(adapted.model, PeftModel)
    ids = torch.tensor([base.prompt_ids(QUESTION)])
    with torch.no_grad():
        assert not torch.allclose(base.model(ids).logits, adapted.model(ids).logits)
    assert adapted.generate(QUESTION, GenerationOptions(deterministic=True, max_tokens=4)).completion_tokens <= 4


def test_bad_adapters_are_one_line_errors(tiny_llama_dir, lora_dir, tmp_path, home):
    no_weights = tmp_path / "no-weights"
    no_weights.mkdir()
    shutil.copy(lora_dir / "adapter_config.json", no_weights)
    with pytest.raises(ModelError, match="adapter_model.safetensors"):
        get_model(tiny(tiny_llama_dir, name="t2", adapter=str(no_weights)), home=home)
    with pytest.raises(ModelError, match="adapter_config.json"):
        get_model(tiny(tiny_llama_dir, name="t3", adapter=str(tmp_path)), home=home)


@pytest.mark.parametrize(("quant", "layer"), [("nf4", "Linear4bit"), ("int8", "Linear8bitLt")])
def test_bitsandbytes_loads_quantized_on_cpu(tiny_llama_dir, home, quant, layer):
    fp32 = get_model(tiny(tiny_llama_dir), home=home)
    model = get_model(tiny(tiny_llama_dir, quantization=quant), home=home)
    assert layer in {type(m).__name__ for m in model.model.modules()}
    assert model.weights_bytes < fp32.weights_bytes
    done = model.generate(QUESTION, GenerationOptions(deterministic=True, max_tokens=4))
    assert done.completion_tokens <= 4


def test_pickle_only_checkpoint_is_refused(tiny_llama_dir, tmp_path, home):
    import torch
    from safetensors.torch import load_file

    ckpt = tmp_path / "pickled"
    shutil.copytree(tiny_llama_dir, ckpt)
    torch.save(load_file(str(ckpt / "model.safetensors")), ckpt / "pytorch_model.bin")
    (ckpt / "model.safetensors").unlink()
    with pytest.raises(ModelError, match="safetensors"):
        get_model(str(ckpt), home=home)


def test_remote_code_never_runs_unless_asked(tiny_llama_dir, tmp_path, home):
    ckpt = tmp_path / "custom"
    shutil.copytree(tiny_llama_dir, ckpt)
    marker = tmp_path / "code-ran"
    (ckpt / "configuration_evil.py").write_text(f"open({str(marker)!r}, 'w').write('x')\n")
    config = json.loads((ckpt / "config.json").read_text())
    config.update(model_type="evil", auto_map={"AutoConfig": "configuration_evil.EvilConfig",
                                               "AutoModelForCausalLM": "configuration_evil.EvilModel"})
    (ckpt / "config.json").write_text(json.dumps(config))
    with pytest.raises(ModelError, match="trust_remote_code"):
        get_model(str(ckpt), home=home)
    assert not marker.exists()


def test_unknown_hub_id_while_offline(home, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelError, match="offline") as err:
        get_model("nobody-here/no-such-model", home=home)
    assert "\n" not in str(err.value)
