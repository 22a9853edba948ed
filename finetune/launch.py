"""Multi-process training through ``accelerate launch``: the same recipe, N processes.

    ragft finetune --data qa.jsonl --launcher accelerate --num-processes 2 [--accelerate-config FILE]
    # is
    accelerate launch --multi_gpu --num_processes 2 --num_machines 1 -m finetune --data qa.jsonl --json

``python -m finetune ARGS`` is ``ragft finetune ARGS``; accelerate starts it once per process
(torchrun underneath) and the recipe (``finetune.train``) is already rank-aware: the Trainer
shards each epoch across ranks (DDP; ``gloo`` on CPUs, NCCL on GPUs), rank 0 alone writes the
registry entry, the adapter and the merge, and every rank records what it trained on in
``HOME/adapters/NAME/ranks/rank-R.json``. The parent waits, relays the processes' stderr (progress),
and returns rank 0's result with the launch it ran.

Why accelerate rather than torchrun directly: its config files are how users already describe DDP,
FSDP and DeepSpeed setups (``configs/accelerate/``, docs/multi-gpu.md), and ``--multi_gpu`` on a
machine without CUDA still spawns the processes, which then meet over gloo (the CPU test does
exactly that). FSDP and DeepSpeed configs need CUDA devices and are refused on a CPU-only machine.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ingestion.errors import ConfigError, TrainingError
from ingestion.home import Home

LAUNCHERS = ("none", "accelerate")
# accelerate/torchrun set these in every process they start: such a process must train, not relaunch
LAUNCHED_ENV = ("LOCAL_RANK", "ACCELERATE_LAUNCH_PARAMS")
CONFIGS = Path(__file__).resolve().parents[1] / "configs" / "accelerate"


@dataclass(frozen=True)
class Launch:
    launcher: str
    num_processes: int
    config_file: Path | None

    def __post_init__(self) -> None:
        if self.launcher not in LAUNCHERS:
            raise ConfigError(f"--launcher must be one of {', '.join(LAUNCHERS)}, not {self.launcher!r}")
        if isinstance(self.num_processes, bool) or not isinstance(self.num_processes, int) or self.num_processes < 1:
            raise ConfigError(f"--num-processes must be a positive integer, not {self.num_processes!r}")
        if self.launcher == "none" and (self.num_processes > 1 or self.config_file):
            raise ConfigError("--num-processes and --accelerate-config need --launcher accelerate",
                              fix="add --launcher accelerate")
        if self.config_file is not None and not self.config_file.is_file():
            raise ConfigError(f"--accelerate-config {self.config_file}: no such file",
                              fix=f"pass one of {', '.join(sorted(p.name for p in CONFIGS.glob('*.yaml')))} from {CONFIGS}")

    @property
    def wanted(self) -> bool:
        """True when this process should start the others instead of training itself."""
        return self.launcher == "accelerate" and not any(os.environ.get(k) for k in LAUNCHED_ENV)


def distributed_type(config_file: Path) -> str:
    """The ``distributed_type`` an accelerate config file asks for (MULTI_GPU, FSDP, DEEPSPEED, ...)."""
    from accelerate.commands.config.config_args import load_config_from_file

    try:
        return str(load_config_from_file(str(config_file)).distributed_type).split(".")[-1]
    except (ValueError, TypeError, KeyError, OSError) as exc:
        raise ConfigError(f"--accelerate-config {config_file}: {str(exc).splitlines()[0]}",
                          fix="write it with `accelerate config`, or start from configs/accelerate/") from exc


def command(launch: Launch, argv: list[str]) -> list[str]:
    """The ``accelerate launch`` command line that runs ``ragft finetune ARGV`` in each process."""
    import torch

    cmd = [sys.executable, "-m", "accelerate.commands.launch", "--num_processes", str(launch.num_processes),
           "--num_machines", "1"]
    if launch.config_file is not None:
        kind = distributed_type(launch.config_file)
        if kind in ("FSDP", "DEEPSPEED") and not torch.cuda.is_available():
            raise ConfigError(f"--accelerate-config {launch.config_file.name} asks for {kind}, which needs CUDA GPUs",
                              fix="on CPUs leave out --accelerate-config (DDP over gloo)")
        cmd += ["--config_file", str(launch.config_file)]
    else:
        # --multi_gpu spawns the processes through torchrun even without CUDA; on CPUs they use gloo
        cmd += ["--multi_gpu", "--mixed_precision", "no", "--dynamo_backend", "no"]
    return cmd + ["-m", "finetune", *argv, "--json"]


def run(launch: Launch, argv: list[str], home: Home) -> dict[str, Any]:
    """Start the processes, wait, and return rank 0's JSON result with the launch recorded."""
    cmd = command(launch, argv)
    repo = str(Path(__file__).resolve().parents[1])
    env = {**os.environ, "RAGFT_HOME": str(home.root),
           "PYTHONPATH": os.pathsep.join(filter(None, [repo, os.environ.get("PYTHONPATH")]))}
    print(f"ragft finetune: launching {launch.num_processes} processes with accelerate", file=sys.stderr, flush=True)
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, env=env)  # Ctrl-C reaches the processes too: they checkpoint
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode == 130:
        raise KeyboardInterrupt
    if proc.returncode != 0 or not lines:
        raise TrainingError(f"accelerate launch exited {proc.returncode} (the processes' errors are above)",
                            fix="fix what they report, then re-run the same command to resume")
    payload = json.loads(lines[-1])
    payload["launch"] = {"launcher": launch.launcher, "num_processes": launch.num_processes,
                         "config_file": str(launch.config_file) if launch.config_file else None, "command": cmd}
    return payload
