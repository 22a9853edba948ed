"""``ragft finetune --launcher accelerate``: two processes on this CPU (DDP over gloo) train a tiny
random-weight Llama for a few steps; each rank trained on its own shard, and the saved adapter is
the one every rank ended with."""

from __future__ import annotations

import json
import sys

import pytest

from finetune.launch import CONFIGS, Launch, command, distributed_type
from finetune.train import adapter_digest
from ingestion.errors import ConfigError
from ingestion.home import Home
from tests.assistant.cli.conftest import json_of, run_ragft
from tests.finetune.train_fixtures import write_dataset


@pytest.mark.parametrize("kwargs, message", [
    ({"launcher": "slurm", "num_processes": 2, "config_file": None}, "--launcher must be one of"),
    ({"launcher": "accelerate", "num_processes": 0, "config_file": None}, "--num-processes must be a positive integer"),
    ({"launcher": "none", "num_processes": 2, "config_file": None}, "need --launcher accelerate"),
])
def test_launch_settings_are_checked_by_flag(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        Launch(**kwargs)


def test_a_missing_config_is_named_with_the_shipped_ones(tmp_path):
    with pytest.raises(ConfigError, match=r"--accelerate-config .*nope.yaml: no such file.*fsdp.yaml"):
        Launch("accelerate", 2, tmp_path / "nope.yaml")


def test_the_shipped_configs_are_what_their_names_say():
    kinds = {p.name: distributed_type(p) for p in CONFIGS.glob("*.yaml")}
    assert kinds == {"ddp.yaml": "MULTI_GPU", "fsdp.yaml": "FSDP", "deepspeed-zero2.yaml": "DEEPSPEED",
                     "deepspeed-zero3.yaml": "DEEPSPEED"}


def test_the_command_is_accelerate_launch_of_python_m_finetune():
    import torch

    cmd = command(Launch("accelerate", 2, None), ["--data", "x.jsonl", "--max-steps", "3"])
    assert cmd[:3] == [sys.executable, "-m", "accelerate.commands.launch"] and "--multi_gpu" in cmd
    assert cmd[cmd.index("--num_processes") + 1] == "2"
    assert cmd[cmd.index("-m", 3):] == ["-m", "finetune", "--data", "x.jsonl", "--max-steps", "3", "--json"]
    if not torch.cuda.is_available():
        with pytest.raises(ConfigError, match="asks for FSDP, which needs CUDA GPUs"):
            command(Launch("accelerate", 2, CONFIGS / "fsdp.yaml"), [])


@pytest.mark.timeout(900)
def test_two_processes_train_on_different_data_and_save_the_adapter_every_rank_holds(tmp_path, tiny_llama_dir):
    from safetensors.torch import load_file

    home = Home.resolve(tmp_path / "home")
    data = write_dataset(tmp_path / "five.jsonl")
    out = json_of(run_ragft("finetune", "--data", str(data), "--base", str(tiny_llama_dir), "--max-steps", "3", "--grad-accum", "1",
                            "--max-length", "64", "--early-stopping-patience", "0", "--no-packing", "--no-merge",
                            "--launcher", "accelerate", "--num-processes", "2", "--json", home=home.root, check=True))
    assert out["status"] == "complete" and out["world_size"] == 2 and out["global_step"] == 3
    assert out["launch"]["num_processes"] == 2 and "--multi_gpu" in out["launch"]["command"]
    folder = home.adapters_dir / "five"
    ranks = [json.loads((folder / "ranks" / f"rank-{r}.json").read_text()) for r in (0, 1)]
    assert [t["rank"] for t in ranks] == [0, 1] and all(t["world_size"] == 2 for t in ranks)
    assert all(t["micro_batches"] == 3 for t in ranks)
    # DDP: at every step the two processes trained on different rows of the shuffled epoch
    assert all(a != b for a, b in zip(ranks[0]["batch_digests"], ranks[1]["batch_digests"]))
    saved = adapter_digest(load_file(str(folder / "adapter_model.safetensors")))
    assert ranks[0]["adapter_sha256"] == ranks[1]["adapter_sha256"] == saved
    rows = [json.loads(line) for line in (folder / "metrics.jsonl").read_text().splitlines()]
    steps = [r["step"] for r in rows if "loss" in r]
    assert steps == sorted(set(steps))  # one process logged: no step twice
