"""One slow test: the recipe on the real default model (SmolLM2-135M-Instruct, converted once)."""

from __future__ import annotations

import pytest

from finetune import registry
from finetune.config import TrainConfig
from finetune.train import finetune
from tests.finetune.train_fixtures import write_dataset


@pytest.mark.slow
def test_the_default_model_trains_a_few_steps_and_the_adapter_loads(converted, tmp_path):
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    data = write_dataset(tmp_path / "five.jsonl")
    cfg = TrainConfig.from_preset("quick", data=data, name="real-default", max_steps=2, max_length=128, grad_accum=1,
                                  early_stopping_patience=0)
    result = finetune(cfg, converted.home, overwrite=True)  # the default --base: the converted bundled model
    assert result.status == "complete" and result.global_step == 2 and result.train_loss < 10
    entry = registry.read_entry(converted.home, "real-default")
    assert entry["base"]["ref"] == "smollm2-135m" and entry["base"]["path"] == str(converted.checkpoint)
    assert entry["base"]["tokenizer_gguf"].endswith(".gguf")
    base = AutoModelForCausalLM.from_pretrained(converted.checkpoint, dtype=torch.float32)
    model = PeftModel.from_pretrained(base, str(converted.home.adapters_dir / "real-default"))
    assert sum(p.numel() for n, p in model.named_parameters() if "lora_" in n) > 1_000_000  # r=16 on all linear layers
