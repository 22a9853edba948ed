"""``ragft finetune --data FILE [--name NAME] [--base MODEL] [--qlora] [--preset quick|full] ... [--json]``

Trains a LoRA/QLoRA adapter (``finetune.train``), then merges it (``finetune.merge``) so that
bitsandbytes quantization at load time and ``ragft export`` can start from the merged checkpoint.
The flags are ``TrainConfig``'s fields; their help is the fields' docstrings. A flag left out
takes the preset's value. Ctrl-C stops after the current step with a checkpoint; re-running the
same command (or adding ``--resume``) continues from it.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
from pathlib import Path

from assistant.cli.common import home_of, profile_of, progress_enabled
from finetune.config import PRESETS, TrainConfig, field_help, field_types

_POSITIONAL_LIKE = {"data"}  # required, no preset default


def register(sub: argparse._SubParsersAction) -> None:
    from assistant.cli import add_json_flag

    p = sub.add_parser("finetune", help="train a LoRA/QLoRA adapter on an instruction dataset",
                       description="Train a LoRA/QLoRA adapter on an instruction dataset (see `ragft dataset build`).")
    helps, types = field_help(), field_types()
    for f in dataclasses.fields(TrainConfig):
        flag = _flag(f.name)
        kind, choices = types[f.name]
        text = helps.get(f.name, "").replace("%", "%%")  # argparse %-formats help strings
        preset_values = {name: values[f.name] for name, values in PRESETS.items() if f.name in values}
        if preset_values:
            text += " (" + ", ".join(f"{k}: {v}" for k, v in preset_values.items()) + ")"
        elif f.default is not dataclasses.MISSING and f.default is not None and f.name != "preset":
            text += f" (default: {f.default})"
        if f.name in _POSITIONAL_LIKE:
            p.add_argument(flag, required=True, type=Path, metavar="FILE", help=text)
        elif kind is bool:
            p.add_argument(flag, action=argparse.BooleanOptionalAction, default=None, help=text)
        elif choices:
            p.add_argument(flag, choices=choices, default=None, help=text + " (default: quick)" if f.name == "preset" else text)
        else:
            p.add_argument(flag, type=kind if kind in (int, float) else str, default=None, help=text)
    p.add_argument("--resume", action="store_true", help="continue an interrupted run of --name from its last checkpoint "
                   "(re-running the same command does this too)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing adapter of the same name")
    p.add_argument("--no-merge", dest="merge", action="store_false", help="skip merging the adapter into the base weights")
    p.add_argument("--launcher", choices=("none", "accelerate"), default="none",
                   help="accelerate: train in --num-processes processes (DDP; gloo on CPUs) through `accelerate launch`")
    p.add_argument("--num-processes", type=int, default=1, metavar="N", help="processes under --launcher accelerate (default 1)")
    p.add_argument("--accelerate-config", type=Path, default=None, metavar="FILE",
                   help="an accelerate config (FSDP, DeepSpeed ZeRO-2/3: configs/accelerate/); default: DDP")
    p.add_argument("--threads", type=int, default=None, metavar="N",
                   help="CPU threads for torch (default: one per core; on a busy machine fewer can be faster)")
    add_json_flag(p)
    p.set_defaults(handler=run, render=render)


def _flag(field_name: str) -> str:
    """The CLI flag of a TrainConfig field (``lora_r`` -> ``--lora-r``)."""
    return "--" + field_name.replace("_", "-")


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    values = {f.name: getattr(args, f.name) for f in dataclasses.fields(TrainConfig) if f.name != "preset"}
    if values.get("base") is None:  # the asked-for profile's base, so its routes find this adapter
        from assistant.profiles import PROFILES, profile_name

        if profile_of(args) or os.environ.get("RAGFT_PROFILE"):
            values["base"] = PROFILES[profile_name(profile_of(args))].base
    return TrainConfig.from_preset(args.preset or "quick", **values)


def run(args: argparse.Namespace) -> dict | None:
    from finetune import launch
    from finetune.merge import merge_adapter
    from finetune.train import finetune, process_state

    config = config_from_args(args)
    home = home_of(args)
    plan = launch.Launch(args.launcher, args.num_processes, args.accelerate_config)
    if plan.wanted:  # this process starts the others and reports rank 0's result
        return launch.run(plan, launch_argv(config, args), home)
    result = finetune(config, home, resume=args.resume, overwrite=args.overwrite, progress=progress_enabled(),
                      threads=args.threads)
    if result.status == "interrupted":
        # The CLI edge reports it ("interrupted; re-run the same command to resume") with exit 130.
        raise KeyboardInterrupt
    if not process_state().is_main_process:  # under `accelerate launch`, rank 0 merges and reports
        return None
    payload = result.as_json()
    payload["merged_dir"] = str(merge_adapter(home, config.name).path) if args.merge else None  # type: ignore[arg-type]
    return payload


def launch_argv(config: TrainConfig, args: argparse.Namespace) -> list[str]:
    """The resolved settings as ``ragft finetune`` flags: every process trains exactly this config."""
    argv = []
    for f in dataclasses.fields(TrainConfig):
        value = getattr(config, f.name)
        if value is None:
            continue
        flag = _flag(f.name)
        if isinstance(value, bool):
            argv.append(flag if value else "--no-" + flag[2:])
        else:
            argv += [flag, str(value)]
    argv += ["--resume"] * args.resume + ["--overwrite"] * args.overwrite + ["--no-merge"] * (not args.merge)
    return argv + (["--threads", str(args.threads)] if args.threads else [])


def render(payload: dict) -> str:
    lines = [
        f"adapter {payload['name']}: {payload['global_step']} steps, {payload['epochs']} epochs in {payload['seconds']:.0f} s "
        f"({payload['tokens_per_s']:.0f} tokens/s)",
        f"  train loss {_num(payload['train_loss'])}" + (f", best eval loss {payload['best_eval_loss']:.3f}" if payload["best_eval_loss"] is not None else "")
        + (" (stopped early)" if payload["early_stopped"] else ""),
        f"  adapter: {payload['adapter_dir']}",
    ]
    if payload.get("merged_dir"):
        lines.append(f"  merged:  {payload['merged_dir']}")
    lines += [f"  note: {n}" for n in payload.get("notes") or []]
    return "\n".join(lines)


def _num(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"
