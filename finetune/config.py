"""Training settings: ``TrainConfig`` (validated; errors name the CLI flag), the quick/full presets,
and the field docstrings / types that ``ragft finetune`` turns into flags and their help.

Standard library only, so the CLI builds its parser without importing torch.
"""

from __future__ import annotations

import ast
import dataclasses
import inspect
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args, get_origin, get_type_hints

from finetune import registry
from ingestion.errors import ConfigError

DEFAULT_BASE = "smollm2-135m"


@dataclass(kw_only=True)
class TrainConfig:
    """Everything that decides what a fine-tuning run computes. Field docstrings are CLI help."""

    data: Path
    """instruction dataset (JSONL with `messages` and `split` per row, as `ragft dataset build` writes)"""
    name: str | None = None
    """adapter name under HOME/adapters (default: the dataset file's stem)"""
    base: str = DEFAULT_BASE
    """base model: the bundled SmolLM2-135M-Instruct (default; with --profile, the profile's), a model installed with `ragft models install` (qwen2.5-1.5b), a local Hugging Face checkpoint dir, or a hub id"""
    preset: Literal["quick", "full"] = "quick"
    """hyper-parameter preset: quick (minutes on a laptop CPU; teaches the answer form) or full (every paraphrase, 8 epochs, final weights; teaches the facts)"""
    qlora: bool = False
    """QLoRA: load the base in 4-bit NF4 with bitsandbytes (CPU too) and train LoRA on top"""
    epochs: float = 1.0
    """passes over the training split"""
    paraphrases_per_fact: int = 0
    """train on at most this many paraphrase rows (kind `paraphrase`) per fact, the first in file order; -1: all"""
    max_steps: int = -1
    """stop after this many optimizer steps (-1: run all epochs)"""
    learning_rate: float = 1e-3
    """peak learning rate (cosine decay after a linear warmup)"""
    warmup_ratio: float = 0.05
    """fraction of the optimizer steps spent warming the learning rate up"""
    weight_decay: float = 0.0
    """AdamW weight decay on the LoRA weights"""
    lora_r: int = 16
    """LoRA rank: the inner dimension of each low-rank update"""
    lora_alpha: int = 32
    """LoRA scaling numerator (the update is scaled by alpha / r)"""
    lora_dropout: float = 0.0
    """dropout on the LoRA input"""
    target_modules: str = "all-linear"
    """modules that get LoRA weights: all-linear, or comma-separated names such as q_proj,v_proj"""
    max_length: int = 512
    """tokens per packed row (packing) or per example (no packing); longer examples are truncated"""
    batch_size: int = 1
    """rows per device and micro-step (a packed row holds several examples)"""
    grad_accum: int = 2
    """micro-steps accumulated per optimizer step"""
    packing: bool = True
    """pack examples into rows and train padding-free; --no-packing pads each batch instead"""
    early_stopping_patience: int = 1
    """evaluations without a lower validation loss before training stops (0: never stop early)"""
    keep: Literal["best", "last"] = "best"
    """weights to keep: best (lowest validation loss on the held-out facts: guards against overfitting and hallucination) or last (the final step, no early stopping: for teaching facts, whose held-out loss rises while the trained ones are memorised)"""
    save_steps: int = 25
    """write a resumable checkpoint every this many optimizer steps (and at each epoch end)"""
    logging_steps: int = 1
    """write a metrics row every this many optimizer steps"""
    seed: int = 0
    """random seed for LoRA initialisation, dropout and data order"""
    precision: Literal["auto", "fp32", "bf16"] = "auto"
    """compute precision: bf16 autocast, fp32, or auto (bf16 where the hardware does it fast: CUDA GPUs with bf16, CPUs with AVX512-BF16 or AMX; else fp32)"""
    gradient_checkpointing: bool = False
    """recompute activations in the backward pass: less memory, about 30% slower"""

    def __post_init__(self) -> None:
        self.data = Path(self.data).expanduser().absolute()
        if self.name is None:
            self.name = re.sub(r"[^A-Za-z0-9._-]+", "-", self.data.stem).strip("-.") or "adapter"
        registry.validate_name(self.name, flag="--name")
        if not isinstance(self.base, str) or not self.base.strip():
            raise ConfigError("--base is empty", fix=f"pass a model dir or hub id, or leave it out for {DEFAULT_BASE}")
        if self.preset not in PRESETS:
            raise ConfigError(f"--preset must be one of {', '.join(PRESETS)}, got {self.preset!r}")
        _positive(self.epochs, "--epochs", number=True)
        if not isinstance(self.max_steps, int) or (self.max_steps < 1 and self.max_steps != -1):
            raise ConfigError(f"--max-steps must be a positive integer or -1, got {self.max_steps!r}")
        if not isinstance(self.learning_rate, (int, float)) or not 0 < self.learning_rate <= 1:
            raise ConfigError(f"--learning-rate must be in (0, 1], got {self.learning_rate!r}")
        if not 0 <= self.warmup_ratio < 1:
            raise ConfigError(f"--warmup-ratio must be in [0, 1), got {self.warmup_ratio!r}")
        if not 0 <= self.weight_decay < 1:
            raise ConfigError(f"--weight-decay must be in [0, 1), got {self.weight_decay!r}")
        for flag in ("lora_r", "lora_alpha", "batch_size", "grad_accum", "save_steps", "logging_steps"):
            _positive(getattr(self, flag), "--" + flag.replace("_", "-"))
        if not 0 <= self.lora_dropout < 1:
            raise ConfigError(f"--lora-dropout must be in [0, 1), got {self.lora_dropout!r}")
        if not re.fullmatch(r"all-linear|[A-Za-z_][\w.]*(,[A-Za-z_][\w.]*)*", self.target_modules or ""):
            raise ConfigError(f"--target-modules {self.target_modules!r} is not all-linear or a comma-separated list of module names")
        _positive(self.max_length, "--max-length")
        if self.max_length < 16:
            raise ConfigError(f"--max-length must be at least 16 tokens, got {self.max_length}")
        if isinstance(self.paraphrases_per_fact, bool) or not isinstance(self.paraphrases_per_fact, int) or self.paraphrases_per_fact < -1:
            raise ConfigError(f"--paraphrases-per-fact must be -1 (all) or 0 or more, got {self.paraphrases_per_fact!r}")
        if not isinstance(self.early_stopping_patience, int) or self.early_stopping_patience < 0:
            raise ConfigError(f"--early-stopping-patience must be 0 or more, got {self.early_stopping_patience!r}")
        if not isinstance(self.seed, int) or self.seed < 0:
            raise ConfigError(f"--seed must be a non-negative integer, got {self.seed!r}")
        if self.keep not in ("best", "last"):
            raise ConfigError(f"--keep must be best or last, got {self.keep!r}")
        if self.precision not in ("auto", "fp32", "bf16"):
            raise ConfigError(f"--precision must be auto, fp32 or bf16, got {self.precision!r}")

    @classmethod
    def from_preset(cls, preset: str = "quick", **overrides: Any) -> "TrainConfig":
        """The preset's values, then every override that is not None."""
        if preset not in PRESETS:
            raise ConfigError(f"--preset must be one of {', '.join(PRESETS)}, got {preset!r}")
        values = {**PRESETS[preset], **{k: v for k, v in overrides.items() if v is not None}}
        unknown = sorted(set(values) - {f.name for f in dataclasses.fields(cls)})
        if unknown:
            raise ConfigError(f"unknown training option(s): {', '.join(unknown)}")
        return cls(preset=preset, **values)

    def hyperparameters(self) -> dict[str, Any]:
        """What decides the weights (for the registry and the resume check)."""
        out = dataclasses.asdict(self)
        out.pop("name")
        out["data"] = str(self.data)
        return out


def _positive(value: Any, flag: str, *, number: bool = False) -> None:
    kinds = (int, float) if number else (int,)
    if isinstance(value, bool) or not isinstance(value, kinds) or value <= 0:
        raise ConfigError(f"{flag} must be a positive {'number' if number else 'integer'}, got {value!r}")


# The class defaults are the quick preset: one epoch over each fact's QA row (and RAFT rows, if
# any), no paraphrase rows: ~34k tokens of the sample corpus's ~121k (one paraphrase per fact
# would double it). A high learning rate (LoRA on a 135M model tolerates it), no dropout. Its
# wall time on 2 shared cores is in benchmarks/RESULTS.md (bench_train); it teaches the
# documents' answer form, not their facts. The full preset is the recipe that made the default
# model recall trained facts on held-out wordings (benchmarks/bench_knowledge.py --inject:
# 0.98 contains-gold vs 0.00 for the base): every paraphrase, 8 epochs at the same rate, and
# the final weights kept (the validation split's facts are never trained on, so their loss
# rises from epoch 2 and "best" would keep the least-trained epoch). Batch geometry as quick,
# with room for RAFT rows (up to ~660 tokens).
PRESETS: dict[str, dict[str, Any]] = {
    "quick": dict(epochs=1.0, paraphrases_per_fact=0, learning_rate=1e-3, lora_r=16, lora_alpha=32, lora_dropout=0.0, max_length=512, batch_size=1,
                  grad_accum=2, early_stopping_patience=1, keep="best", warmup_ratio=0.05, weight_decay=0.0, save_steps=25),
    "full": dict(epochs=8.0, paraphrases_per_fact=-1, learning_rate=1e-3, lora_r=16, lora_alpha=32, lora_dropout=0.0, max_length=1024, batch_size=1,
                 grad_accum=1, early_stopping_patience=0, keep="last", warmup_ratio=0.05, weight_decay=0.0, save_steps=50),
}


def field_help(cls: type = TrainConfig) -> dict[str, str]:
    """Attribute docstrings (the string right after each field), for ``--help``."""
    tree = ast.parse(inspect.getsource(cls))
    body = tree.body[0].body  # type: ignore[attr-defined]
    out: dict[str, str] = {}
    for node, nxt in zip(body, body[1:]):
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            if isinstance(nxt, ast.Expr) and isinstance(nxt.value, ast.Constant) and isinstance(nxt.value.value, str):
                out[node.target.id] = " ".join(nxt.value.value.split())
    return out


def field_types(cls: type = TrainConfig) -> dict[str, tuple[type, tuple | None]]:
    """``name -> (python type, choices or None)`` for building CLI flags."""
    out: dict[str, tuple[type, tuple | None]] = {}
    for name, hint in get_type_hints(cls).items():
        if get_origin(hint) is Literal:
            out[name] = (str, get_args(hint))
            continue
        args = [a for a in get_args(hint) if a is not type(None)]
        out[name] = (args[0] if args else hint, None)
    return out
