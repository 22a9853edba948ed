"""TrainConfig: validation that names the flag, presets, and the help text the CLI shows."""

from __future__ import annotations

import pytest

from finetune.config import PRESETS, TrainConfig, field_help
from ingestion.errors import ConfigError


@pytest.mark.parametrize(
    ("overrides", "flag"),
    [({"lora_r": 0}, "--lora-r"), ({"learning_rate": 2.0}, "--learning-rate"), ({"max_length": 8}, "--max-length"),
     ({"warmup_ratio": 1.0}, "--warmup-ratio"), ({"name": "../x"}, "--name"), ({"max_steps": 0}, "--max-steps"),
     ({"target_modules": "q_proj;v_proj"}, "--target-modules"), ({"grad_accum": True}, "--grad-accum"),
     ({"paraphrases_per_fact": -2}, "--paraphrases-per-fact"), ({"paraphrases_per_fact": True}, "--paraphrases-per-fact"),
     ({"keep": "final"}, "--keep")],
)
def test_config_errors_name_the_flag(tmp_path, overrides, flag):
    with pytest.raises(ConfigError, match=flag):
        TrainConfig.from_preset("quick", data=tmp_path / "d.jsonl", **overrides)


def test_presets_fill_unset_fields_and_every_field_has_help(tmp_path):
    cfg = TrainConfig.from_preset("full", data=tmp_path / "qa.jsonl", lora_r=8)
    assert cfg.lora_r == 8 and cfg.epochs == PRESETS["full"]["epochs"] and cfg.name == "qa"
    helps = field_help()
    assert set(helps) == {f for f in TrainConfig.__dataclass_fields__}
    assert all(len(h) > 10 for h in helps.values())


def test_quick_preset_caps_paraphrases_and_full_takes_all(tmp_path):
    quick = TrainConfig.from_preset("quick", data=tmp_path / "qa.jsonl")
    full = TrainConfig.from_preset("full", data=tmp_path / "qa.jsonl")
    assert quick.paraphrases_per_fact >= 0 and full.paraphrases_per_fact == -1
    # The cap decides the weights, so a resumed run must match it.
    assert quick.hyperparameters()["paraphrases_per_fact"] == quick.paraphrases_per_fact


def test_unknown_options_are_refused(tmp_path):
    with pytest.raises(ConfigError, match="unknown training option.*lora_rank"):
        TrainConfig.from_preset("quick", data=tmp_path / "qa.jsonl", lora_rank=4)
