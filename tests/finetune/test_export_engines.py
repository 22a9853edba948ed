"""Hand-off to vLLM and Ollama: an adapter trained on the tiny Llama (with the real SmolLM2
tokenizer), exported as the PEFT directory vLLM loads and as a Modelfile beside a verified GGUF."""

from __future__ import annotations

import json

import pytest

from finetune import registry
from finetune.base_model import bundled_gguf
from finetune.config import TrainConfig
from finetune.export_engines import OLLAMA_TEMPLATE, chatml, chatml_default_system, export_ollama, export_vllm, vllm_problems
from finetune.train import finetune
from ingestion.errors import ConfigError
from ingestion.home import Home
from tests.assistant.cli.conftest import json_of, run_ragft
from tests.finetune.train_fixtures import write_dataset


@pytest.fixture(scope="module")
def trained(tmp_path_factory, tiny_llama_dir):
    root = tmp_path_factory.mktemp("engines")
    home = Home.resolve(root / "home")
    data = write_dataset(root / "five.jsonl")
    cfg = TrainConfig.from_preset("quick", data=data, base=str(tiny_llama_dir), max_steps=3, grad_accum=1,
                                  max_length=64, learning_rate=0.05, early_stopping_patience=0)
    assert finetune(cfg, home).status == "complete"
    return home, tiny_llama_dir


def test_the_vllm_directory_is_the_adapter_peft_loads_with_its_base_named(trained):
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    home, base = trained
    out = json_of(run_ragft("export", "five", "--format", "vllm", "--json", home=home.root, check=True))
    folder = home.adapters_dir / "five" / "export" / "vllm"
    assert out["path"] == str(folder) and set(out["files"]) == {"adapter_config.json", "adapter_model.safetensors", "SERVE.md"}
    config = json.loads((folder / "adapter_config.json").read_text())
    assert config["base_model_name_or_path"] == str(base) and vllm_problems(config) == []
    assert out["commands"][0] == f"vllm serve {base} --enable-lora --max-lora-rank 16 --lora-modules five={folder}"
    assert out["commands"][0] in (folder / "SERVE.md").read_text()
    assert any(e["format"] == "vllm" for e in registry.read_entry(home, "five")["exports"])

    tokenizer = AutoTokenizer.from_pretrained(base)
    ids = torch.tensor([tokenizer("In which year was Marrowfield Instruments founded?")["input_ids"]])

    def logits(adapter):
        model = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32), str(adapter)).eval()
        with torch.no_grad():
            return model(ids).logits

    plain = AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32).eval()
    with torch.no_grad():
        before = plain(ids).logits
    exported, trained_ = logits(folder), logits(home.adapters_dir / "five")
    assert torch.equal(exported, trained_) and (exported - before).abs().max() > 1e-2


@pytest.mark.parametrize("change, message", [
    ({"modules_to_save": ["lm_head"]}, "modules_to_save"),
    ({"r": 12}, "rank 12"),
    ({"target_modules": ["q_proj", "embed_tokens"]}, "target modules embed_tokens"),
    ({"use_dora": True}, "DoRA"),
])
def test_what_vllm_would_refuse_is_named_before_anything_is_written(trained, change, message):
    home, _ = trained
    config = home.adapters_dir / "five" / "adapter_config.json"
    original = config.read_text()
    try:
        config.write_text(json.dumps({**json.loads(original), **change}))
        with pytest.raises(ConfigError, match=message):
            export_vllm(home, "five")
    finally:
        config.write_text(original)


def test_the_ollama_template_renders_what_the_tokenizer_renders(tiny_llama_dir):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_llama_dir)  # SmolLM2's: ChatML with a default system turn
    matches, default = chatml_default_system(tokenizer)
    assert matches and default and "SmolLM" in default
    conversation = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]
    assert tokenizer.apply_chat_template(conversation, tokenize=False, add_generation_prompt=True) == chatml("Be brief.", [("user", "Hi")])
    # the Go template's pieces are those chatml() joins
    assert OLLAMA_TEMPLATE.count("<|im_start|>") == 4 and OLLAMA_TEMPLATE.endswith("<|im_start|>assistant\n")
    assert OLLAMA_TEMPLATE.count("{{") == OLLAMA_TEMPLATE.count("}}")


def test_the_ollama_export_is_a_modelfile_beside_a_verified_gguf(trained):
    home, _ = trained
    tok = ("--tokenizer-gguf", str(bundled_gguf()))  # the tiny Llama has SmolLM2's tokenizer but no GGUF of its own
    out = json_of(run_ragft("export", "five", "--format", "ollama", "--quant", "f16", *tok, "--json", home=home.root, check=True))
    folder = home.adapters_dir / "five" / "export" / "ollama"
    modelfile = (folder / "Modelfile").read_text()
    assert "FROM ../five-f16.gguf" in modelfile and (folder.parent / "five-f16.gguf").is_file()
    assert f'TEMPLATE """{OLLAMA_TEMPLATE}"""' in modelfile and 'PARAMETER stop "<|im_end|>"' in modelfile
    assert 'SYSTEM """' in modelfile and "PARAMETER temperature 0" in modelfile
    gguf = next(e for e in registry.read_entry(home, "five")["exports"] if e["format"] == "gguf" and e["quant"] == "f16")
    assert gguf["verification"]["passed"]
    assert out["commands"][0] == f"ollama create five -f {folder / 'Modelfile'}"
    stamp = (folder.parent / "five-f16.gguf").stat().st_mtime_ns
    again = json_of(run_ragft("export", "five", "--format", "ollama", "--quant", "f16", *tok, "--json", home=home.root, check=True))
    assert again["path"] == out["path"] and (folder.parent / "five-f16.gguf").stat().st_mtime_ns == stamp  # reused, not rebuilt


def test_an_unfinished_adapter_is_refused(trained):
    home, _ = trained
    entry = registry.read_entry(home, "five")
    registry.update_entry(home, "five", status="running")
    try:
        bad = run_ragft("export", "five", "--format", "vllm", home=home.root)
        assert bad.returncode != 0 and "has not finished training" in bad.stderr and "Traceback" not in bad.stderr
        with pytest.raises(Exception, match="has not finished training"):
            export_ollama(home, "five")
    finally:
        registry.write_entry(home, "five", entry)
