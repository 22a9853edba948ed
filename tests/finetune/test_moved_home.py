"""A data dir copied to another place (backup, restore, another machine) keeps its adapters working:
trained on a base inside the data dir (as the default base is, converted under HOME/models), the
adapter answers from the copy after the original is gone."""

from __future__ import annotations

import json
import shutil

from finetune import registry
from finetune.config import TrainConfig
from finetune.train import finetune
from ingestion.home import Home
from tests.assistant.cli.conftest import json_of, run_ragft
from tests.finetune.train_fixtures import write_dataset


def test_a_moved_data_dir_still_answers_with_its_adapter(tmp_path, tiny_llama_dir):
    old = Home.resolve(tmp_path / "old")
    base = old.root / "models" / "tiny-llama"
    shutil.copytree(tiny_llama_dir, base)
    data = write_dataset(old.root / "data" / "five.jsonl")
    cfg = TrainConfig.from_preset("quick", data=data, base=str(base), max_steps=2, grad_accum=1, max_length=64, early_stopping_patience=0)
    assert finetune(cfg, old).status == "complete"

    shutil.copytree(old.root, tmp_path / "new")
    shutil.rmtree(old.root)
    new = Home.resolve(tmp_path / "new")
    entry = registry.read_entry(new, "five")
    assert entry["base"]["path"] == str(new.root / "models" / "tiny-llama") and entry["dataset"]["path"] == str(data).replace(
        str(tmp_path / "old"), str(tmp_path / "new"))
    out = json_of(run_ragft("ask", "In which year was Marrowfield founded?", "--route", "finetuned", "--adapter", "five",
                            "--max-tokens", "4", "--json", home=new.root, check=True))
    assert out["adapter"] == "five" and out["route"] == "finetuned"
    listed = json_of(run_ragft("adapters", "--json", home=new.root, check=True))
    assert str(tmp_path / "old") not in json.dumps(listed)
