"""ragft finetune --data qa.jsonl --preset quick [--name NAME] [--base MODEL] [--qlora] [--resume]

LoRA / QLoRA supervised fine-tuning of a causal LM on an instruction dataset (the JSONL that
``ragft dataset build`` writes), in the style of a torchtune recipe: ``LoRARecipe`` reads top to
bottom as ``setup`` (data, model, trainer) / ``train`` / ``save_checkpoint`` / ``cleanup``, and
``finetune(config, home)`` runs those four steps.

The recipe, on TRL's ``SFTTrainer`` (so ``accelerate launch`` brings multi-GPU and DeepSpeed):

- each conversation is rendered with the model's own chat template and tokenized once; the
  assistant turns (their end-of-turn token included, so the model learns to stop) are the only
  tokens with a loss. The mask comes from rendering the conversation prefix by prefix, which works
  for any prefix-preserving template (TRL's ``assistant_only_loss`` needs ``{% generation %}``
  markers that most templates, SmolLM2's included, lack);
- sequences are packed best-fit into ``max_length`` rows and trained padding-free (no pad token
  is ever computed; position ids restart per conversation, so attention never crosses one), and
  TRL's fused LM head projects only the positions that carry a loss;
- cosine schedule with warmup, gradient accumulation, a seed, eval loss each epoch on the
  validation split, early stopping on it (the best epoch's adapter is kept), checkpoints every
  ``save_steps`` and each epoch; ``--resume`` (or re-running the same command) continues an
  interrupted run from its last checkpoint with the same data order.

Layout of ``HOME/adapters/NAME``: ``adapter_model.safetensors`` + ``adapter_config.json`` (PEFT),
``metrics.jsonl`` (one row per log step, written while training), ``checkpoints/``,
``merged/`` (after ``finetune.merge``), ``export/`` (GGUF files) and ``ragft-adapter.json`` (the
registry entry, see ``finetune.registry``).
"""

from __future__ import annotations

import ast
import dataclasses
import hashlib
import inspect
import json
import os
import re
import resource
import signal
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args, get_origin, get_type_hints

from finetune import registry
from finetune.base_model import bundled_gguf, ensure_hf_checkpoint
from ingestion.errors import ConfigError, ModelError, TrainingError
from ingestion.home import Home

DEFAULT_BASE = "smollm2-135m"
_BASE_ALIASES = {DEFAULT_BASE, "default", "bundled", "smollm2-135m-hf"}
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")
ROLES = ("system", "user", "assistant")
SPLITS = ("train", "validation", "test")


# --------------------------------------------------------------------------------------------
# Configuration
# --------------------------------------------------------------------------------------------
@dataclass(kw_only=True)
class TrainConfig:
    """Everything that decides what a fine-tuning run computes. Field docstrings are CLI help."""

    data: Path
    """instruction dataset (JSONL with `messages` and `split` per row, as `ragft dataset build` writes)"""
    name: str | None = None
    """adapter name under HOME/adapters (default: the dataset file's stem)"""
    base: str = DEFAULT_BASE
    """base model: the bundled SmolLM2-135M-Instruct (default), a local Hugging Face checkpoint dir, or a hub id"""
    preset: Literal["quick", "full"] = "quick"
    """hyper-parameter preset: quick (minutes on a laptop CPU) or full (more epochs, larger rank)"""
    qlora: bool = False
    """QLoRA: load the base in 4-bit NF4 with bitsandbytes (CPU too) and train LoRA on top"""
    epochs: float = 1.0
    """passes over the training split"""
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
        if not isinstance(self.early_stopping_patience, int) or self.early_stopping_patience < 0:
            raise ConfigError(f"--early-stopping-patience must be 0 or more, got {self.early_stopping_patience!r}")
        if not isinstance(self.seed, int) or self.seed < 0:
            raise ConfigError(f"--seed must be a non-negative integer, got {self.seed!r}")
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


# The class defaults are the quick preset. It trains a useful adapter on the sample corpus in minutes
# on 2 CPU cores: one epoch (the dataset builder's paraphrases already show each fact several times),
# a high learning rate (LoRA on a 135M model tolerates it), no dropout, short packed rows.
PRESETS: dict[str, dict[str, Any]] = {
    "quick": dict(epochs=1.0, learning_rate=1e-3, lora_r=16, lora_alpha=32, lora_dropout=0.0, max_length=512, batch_size=1,
                  grad_accum=2, early_stopping_patience=1, warmup_ratio=0.05, weight_decay=0.0, save_steps=25),
    "full": dict(epochs=6.0, learning_rate=4e-4, lora_r=32, lora_alpha=64, lora_dropout=0.05, max_length=1024, batch_size=2,
                 grad_accum=4, early_stopping_patience=2, warmup_ratio=0.05, weight_decay=0.01, save_steps=50),
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


# --------------------------------------------------------------------------------------------
# Data: JSONL rows -> token ids + assistant-only loss mask
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Example:
    messages: list[dict[str, str]]
    split: str
    line: int


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_examples(path: Path) -> list[Example]:
    """Rows of the dataset, validated; errors name the file, the line and the field."""
    if not path.is_file():
        raise TrainingError(f"dataset {path} does not exist", fix="build one with `ragft dataset build PATH... --out FILE`")
    out: list[Example] = []
    with open(path, encoding="utf-8") as f:
        for n, raw in enumerate(f, 1):
            if not raw.strip():
                continue
            where = f"{path}:{n}"
            try:
                row = json.loads(raw)
            except json.JSONDecodeError as exc:
                raise TrainingError(f"{where} is not valid JSON ({exc.msg})", fix="one JSON object per line") from exc
            if not isinstance(row, dict):
                raise TrainingError(f"{where} is not a JSON object", fix='write {"messages": [...], "split": "train"}')
            split = row.get("split", "train")
            if split not in SPLITS:
                raise TrainingError(f"{where}: split is {split!r}", fix=f"use one of {', '.join(SPLITS)}")
            messages = row.get("messages")
            if not isinstance(messages, list) or not messages:
                raise TrainingError(f"{where}: messages is missing or empty", fix='give a list of {"role", "content"} objects')
            for i, msg in enumerate(messages):
                if not isinstance(msg, dict) or msg.get("role") not in ROLES:
                    role = msg.get("role") if isinstance(msg, dict) else msg
                    raise TrainingError(f"{where}: messages[{i}].role is {role!r}", fix=f"use one of {', '.join(ROLES)}")
                if not isinstance(msg.get("content"), str) or not msg["content"].strip():
                    raise TrainingError(f"{where}: messages[{i}].content is empty or not text")
            if messages[-1]["role"] != "assistant":
                raise TrainingError(f"{where}: the last message is not the assistant's", fix="end each conversation with the answer to learn")
            out.append(Example([{"role": m["role"], "content": m["content"]} for m in messages], split, n))
    if not out:
        raise TrainingError(f"dataset {path} has no rows", fix="build it with `ragft dataset build`")
    if not any(e.split == "train" for e in out):
        raise TrainingError(f"dataset {path} has no train rows", fix='mark training rows with "split": "train"')
    return out


def read_card(data: Path) -> dict | None:
    """The data card next to the dataset (``<stem>.card.json``), or None."""
    card = data.with_name(data.stem + ".card.json")
    if not card.is_file():
        return None
    try:
        value = json.loads(card.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise TrainingError(f"data card {card} is not valid JSON ({exc})", fix="rebuild the dataset with `ragft dataset build`") from exc
    return value if isinstance(value, dict) else None


def encode_conversation(tokenizer: Any, messages: list[dict[str, str]]) -> tuple[list[int], list[int]]:
    """Token ids of the templated conversation and a 0/1 mask of the assistant tokens.

    For each assistant turn, the text between ``template(messages[:i], generation prompt)`` and
    ``template(messages[:i+1])`` is that turn's answer with its end-of-turn token; token offsets
    map it onto the ids of the whole conversation.
    """
    def render(msgs: list[dict[str, str]], gen: bool) -> str:
        return tokenizer.apply_chat_template(msgs, tokenize=False, add_generation_prompt=gen)

    full = render(messages, False)
    spans: list[tuple[int, int]] = []
    for i, msg in enumerate(messages):
        if msg["role"] != "assistant":
            continue
        start, end = render(messages[:i], True), render(messages[: i + 1], False)
        if not (full.startswith(start) and full.startswith(end) and len(end) > len(start)):
            raise TrainingError(
                "the chat template does not render conversations prefix by prefix, so assistant tokens cannot be located",
                fix="use a base model whose chat template is prefix-preserving (most are), or single-turn rows",
            )
        spans.append((len(start), len(end)))
    enc = tokenizer(full, add_special_tokens=False, return_offsets_mapping=True)
    mask = [int(any(a < e and b > s for s, e in spans)) for a, b in enc["offset_mapping"]]
    return list(enc["input_ids"]), mask


def tokenize_examples(tokenizer: Any, examples: list[Example], max_length: int) -> tuple[list[dict], int]:
    """Rows for TRL (``input_ids`` + ``assistant_masks``); returns (rows, number truncated)."""
    rows, truncated = [], 0
    for ex in examples:
        ids, mask = encode_conversation(tokenizer, ex.messages)
        if len(ids) > max_length:
            truncated += 1
            ids, mask = ids[:max_length], mask[:max_length]
        if sum(mask) == 0:
            continue  # the answer fell off the end: nothing to learn from this row
        rows.append({"input_ids": ids, "assistant_masks": mask})
    return rows, truncated


# --------------------------------------------------------------------------------------------
# Base model
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class BaseModel:
    ref: str  # what the user asked for
    path: str  # local dir or hub id that from_pretrained takes
    tokenizer_gguf: str | None  # a GGUF with this model's tokenizer (export copies it), if known


def resolve_base(ref: str, home: Home) -> BaseModel:
    if ref in _BASE_ALIASES:
        return BaseModel(DEFAULT_BASE, str(ensure_hf_checkpoint(home)), str(bundled_gguf()))
    path = Path(ref).expanduser()
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise ModelError(f"--base {path} has no config.json", fix="pass a Hugging Face checkpoint directory")
        return BaseModel(ref, str(path.resolve()), None)
    if ref.endswith(".gguf"):
        raise ConfigError(f"--base {ref}: training needs a Hugging Face checkpoint, not a GGUF file",
                          fix=f"leave --base out for the bundled model, or pass a checkpoint dir or hub id")
    if _HUB_ID.match(ref):
        return BaseModel(ref, ref, None)
    raise ModelError(f"--base {ref!r} is not a checkpoint dir or a hub id", fix="pass owner/name or a local directory")


# --------------------------------------------------------------------------------------------
# Callbacks: metrics file, progress bar, graceful stop
# --------------------------------------------------------------------------------------------
def _callbacks():
    from transformers import TrainerCallback

    class MetricsWriter(TrainerCallback):
        """Appends one JSON row per log event to metrics.jsonl (flushed, so the UI can plot live)."""

        def __init__(self, path: Path) -> None:
            self.path = path
            self.started = time.time()

        def on_train_begin(self, args, state, control, **kwargs):
            if self.path.is_file():  # resuming: drop rows logged after the checkpoint we resume from
                keep = [l for l in self.path.read_text().splitlines() if l.strip() and json.loads(l).get("step", 0) <= state.global_step]
                self.path.write_text("".join(l + "\n" for l in keep))

        def on_log(self, args, state, control, logs=None, **kwargs):
            if not logs or not state.is_world_process_zero:
                return
            row = {"step": state.global_step, "epoch": round(state.epoch or 0.0, 4), "time": round(time.time(), 3)}
            row.update({k: v for k, v in logs.items() if isinstance(v, (int, float))})
            with open(self.path, "a") as f:
                f.write(json.dumps(row) + "\n")

    class Progress(TrainerCallback):
        """A tqdm bar on stderr with the latest loss; plain lines when stderr is not a terminal."""

        def __init__(self, enabled: bool) -> None:
            self.enabled, self.bar, self.last = enabled, None, {}

        def on_train_begin(self, args, state, control, **kwargs):
            if not state.is_world_process_zero:
                return
            from tqdm import tqdm

            self.bar = tqdm(total=state.max_steps, initial=state.global_step, desc="finetune", unit="step",
                            file=sys.stderr, disable=not self.enabled, dynamic_ncols=True)

        def on_step_end(self, args, state, control, **kwargs):
            if self.bar is not None:
                self.bar.update(state.global_step - self.bar.n)

        def on_log(self, args, state, control, logs=None, **kwargs):
            if self.bar is None or not logs:
                return
            for key in ("loss", "eval_loss"):
                if key in logs:
                    self.last[key] = f"{logs[key]:.3f}"
            if self.enabled:
                self.bar.set_postfix(self.last, refresh=True)
            elif "eval_loss" in logs or ("loss" in logs and state.global_step % max(1, state.max_steps // 10) == 0):
                print(f"ragft finetune: step {state.global_step}/{state.max_steps} epoch {state.epoch or 0:.2f} "
                      + " ".join(f"{k} {v}" for k, v in self.last.items()), file=sys.stderr, flush=True)

        def on_train_end(self, args, state, control, **kwargs):
            if self.bar is not None:
                self.bar.close()

    class Stopper(TrainerCallback):
        """Stops at the end of the current step and saves a checkpoint (Ctrl-C, or a step limit in tests);
        also adds a checkpoint every ``save_steps`` on top of the per-epoch ones."""

        def __init__(self, save_steps: int, stop_after: int | None) -> None:
            self.save_steps, self.stop_after = save_steps, stop_after
            self.requested = threading.Event()

        def on_step_end(self, args, state, control, **kwargs):
            if self.stop_after is not None and state.global_step >= self.stop_after:
                self.requested.set()
            if state.global_step % self.save_steps == 0:
                control.should_save = True
            if self.requested.is_set():
                control.should_training_stop = True
                # Mid-epoch: checkpoint now. At an epoch's end, the epoch's eval runs first and the
                # per-epoch save follows it, so the checkpoint knows that eval (early stopping state).
                if not _epoch_boundary(state):
                    control.should_save = True
            return control

        def on_epoch_end(self, args, state, control, **kwargs):
            if self.requested.is_set() and not _epoch_boundary(state):
                # The loop left a half epoch: no eval on it, and the checkpoint is already written.
                control.should_evaluate = False
                control.should_save = False
            return control

    return MetricsWriter, Progress, Stopper


# --------------------------------------------------------------------------------------------
# The recipe
# --------------------------------------------------------------------------------------------
@dataclass
class TrainResult:
    name: str
    status: Literal["complete", "interrupted"]
    adapter_dir: Path
    metrics_path: Path
    global_step: int
    max_steps: int
    epochs: float
    resumed_from_step: int | None
    train_loss: float | None
    eval_loss: float | None
    best_eval_loss: float | None
    early_stopped: bool
    train_tokens: int
    seconds: float
    tokens_per_s: float
    peak_rss_mb: float
    precision: str  # what --precision resolved to on this machine
    model_bytes: int  # the base model's weights in memory (NF4 under --qlora) plus the adapter
    examples: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["adapter_dir"], out["metrics_path"] = str(self.adapter_dir), str(self.metrics_path)
        return out


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


class LoRARecipe:
    """setup -> train -> save_checkpoint -> cleanup; see the module docstring."""

    def __init__(self, config: TrainConfig, home: Home, *, resume: bool = False, overwrite: bool = False,
                 progress: bool = False, stop_after_steps: int | None = None, threads: int | None = None) -> None:
        if threads is not None and (isinstance(threads, bool) or not isinstance(threads, int) or threads < 1):
            raise ConfigError(f"--threads must be a positive integer, got {threads!r}")
        self.cfg, self.home, self.threads = config, home, threads
        self.resume, self.overwrite, self.progress = resume, overwrite, progress
        self.stop_after_steps = stop_after_steps
        self.dir = home.adapters_dir / config.name  # type: ignore[operator]
        self.checkpoints = self.dir / "checkpoints"
        self.metrics_path = self.dir / "metrics.jsonl"
        self.notes: list[str] = []

    # -- setup ---------------------------------------------------------------------------------
    def setup(self) -> None:
        cfg = self.cfg
        examples = read_examples(cfg.data)
        self.dataset_hash = file_sha256(cfg.data)
        self.card = read_card(cfg.data)
        self.resume_from = self._prepare_dir()
        self.base = resolve_base(cfg.base, self.home)
        self.bf16 = use_bf16(cfg.precision)
        self._load_model_and_tokenizer()
        self.train_rows, cut = tokenize_examples(self.tokenizer, [e for e in examples if e.split == "train"], cfg.max_length)
        self.eval_rows, cut_eval = tokenize_examples(self.tokenizer, [e for e in examples if e.split == "validation"], cfg.max_length)
        if not self.train_rows:
            raise TrainingError(f"no train row of {cfg.data} keeps an answer within --max-length {cfg.max_length}", fix="raise --max-length")
        if cut + cut_eval:
            self.notes.append(f"{cut + cut_eval} examples longer than --max-length {cfg.max_length} were truncated")
        if not self.eval_rows:
            self.notes.append("no validation rows: no eval loss and no early stopping")
        self.counts = {"train": len(self.train_rows), "validation": len(self.eval_rows),
                       "test": sum(e.split == "test" for e in examples)}
        self._write_entry(status="training")
        self._build_trainer()

    def _prepare_dir(self) -> str | None:
        """Decide between a fresh run and a resume; returns the checkpoint to resume from."""
        name = self.cfg.name
        entry = registry.read_entry(self.home, name) if (self.dir / registry.ENTRY_FILE).is_file() else None
        if entry is None and self.resume:
            raise TrainingError(f"adapter {name} does not exist, so there is nothing to resume", fix="run without --resume")
        if entry is not None:
            registry.check_not_running(entry)  # even --overwrite must not pull the rug from a live run
        if entry is not None and not self.overwrite:
            if entry.get("status") == "complete":
                raise TrainingError(f"adapter {name} already exists (training finished)",
                                    fix="pass another --name, or --overwrite to retrain it")
            last = _last_checkpoint(self.checkpoints)
            if last is None and self.resume:
                raise TrainingError(f"adapter {name} was interrupted before its first checkpoint", fix="run without --resume to start over")
            if last is not None:
                hyper = self.cfg.hyperparameters()
                if entry.get("hyperparameters") != hyper or entry.get("dataset", {}).get("hash") != self.dataset_hash:
                    raise TrainingError(
                        f"adapter {name} has an unfinished run with other settings ({_config_diff(entry, hyper, self.dataset_hash)})",
                        fix="re-run with the same settings to resume, pass --overwrite to start over, or pick another --name",
                    )
                return last
        # A fresh run: clear whatever a previous run of this name left (one process does it).
        import shutil

        if _is_main_process():
            if self.dir.exists():
                for child in self.dir.iterdir():
                    shutil.rmtree(child) if child.is_dir() else child.unlink()
            self.dir.mkdir(parents=True, exist_ok=True)
        _wait_for_everyone()
        return None

    def _load_model_and_tokenizer(self) -> None:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        if self.threads:
            torch.set_num_threads(self.threads)
        cfg = self.cfg
        kwargs: dict[str, Any] = {"use_safetensors": True, "dtype": torch.float32}
        if cfg.qlora:
            try:
                import bitsandbytes  # noqa: F401
            except ImportError as exc:
                raise ModelError("--qlora needs bitsandbytes", fix="run `make setup`") from exc
            from accelerate import PartialState
            from transformers import BitsAndBytesConfig

            state = PartialState()
            compute = torch.bfloat16 if self.bf16 else torch.float32
            kwargs["quantization_config"] = BitsAndBytesConfig(
                load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True, bnb_4bit_compute_dtype=compute,
            )
            kwargs["device_map"] = {"": state.local_process_index} if state.device.type == "cuda" else {"": "cpu"}
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(self.base.path)
            self.model = AutoModelForCausalLM.from_pretrained(self.base.path, **kwargs)
        except (OSError, ValueError) as exc:
            text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise ModelError(f"cannot load base model {self.base.ref}: {text}",
                             fix="pass a local checkpoint dir with safetensors weights, or a cached hub id") from exc
        if not getattr(self.tokenizer, "is_fast", False):
            raise ModelError(f"{self.base.ref} has no fast tokenizer (tokenizer.json)", fix="use a base model with a tokenizer.json")
        if not self.tokenizer.chat_template:
            raise ModelError(f"{self.base.ref} has no chat template", fix="use an instruct/chat model as the base")
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token

    def _build_trainer(self) -> None:
        from datasets import Dataset, disable_progress_bars
        from peft import LoraConfig
        from transformers import EarlyStoppingCallback, PrinterCallback, ProgressCallback
        from trl import SFTTrainer

        disable_progress_bars()
        _quiet_library_noise()
        cfg = self.cfg
        has_eval = bool(self.eval_rows)
        try:
            args = self._sft_config(has_eval)
        except ValueError as exc:  # transformers/TRL reject a combination of settings
            raise TrainingError(f"cannot set up training: {str(exc).splitlines()[0]}", fix="check the training flags") from exc
        lora = LoraConfig(
            r=cfg.lora_r, lora_alpha=cfg.lora_alpha, lora_dropout=cfg.lora_dropout, bias="none", task_type="CAUSAL_LM",
            target_modules="all-linear" if cfg.target_modules == "all-linear" else cfg.target_modules.split(","),
        )
        MetricsWriter, Progress, Stopper = _callbacks()
        self.stopper = Stopper(cfg.save_steps, self.stop_after_steps)
        callbacks = [MetricsWriter(self.metrics_path), Progress(self.progress), self.stopper]
        if has_eval and cfg.early_stopping_patience:
            callbacks.append(EarlyStoppingCallback(early_stopping_patience=cfg.early_stopping_patience))
        try:
            self.trainer = SFTTrainer(
                model=self.model, args=args, processing_class=self.tokenizer, peft_config=lora, callbacks=callbacks,
                train_dataset=Dataset.from_list(self.train_rows),
                eval_dataset=Dataset.from_list(self.eval_rows) if has_eval else None,
            )
        except ValueError as exc:  # e.g. target modules that the model lacks
            raise TrainingError(f"cannot set up training: {str(exc).splitlines()[0]}", fix="check --target-modules and the base model") from exc
        # The default printer/progress callbacks print log dicts on stdout; ours go to stderr.
        for cb in (PrinterCallback, ProgressCallback):
            self.trainer.remove_callback(cb)

    def _sft_config(self, has_eval: bool):
        from trl import SFTConfig

        cfg = self.cfg
        return SFTConfig(
            output_dir=str(self.checkpoints),
            num_train_epochs=cfg.epochs,
            max_steps=cfg.max_steps,
            per_device_train_batch_size=cfg.batch_size,
            per_device_eval_batch_size=cfg.batch_size,
            gradient_accumulation_steps=cfg.grad_accum,
            learning_rate=cfg.learning_rate,
            lr_scheduler_type="cosine",
            warmup_steps=cfg.warmup_ratio,  # a float < 1 is a ratio of the total steps
            weight_decay=cfg.weight_decay,
            seed=cfg.seed,
            data_seed=cfg.seed,
            bf16=self.bf16,
            fp16=False,
            gradient_checkpointing=cfg.gradient_checkpointing,
            packing=cfg.packing,
            packing_strategy="bfd",
            padding_free=cfg.packing,
            max_length=cfg.max_length,
            assistant_only_loss=False,  # the rows carry their own assistant masks (see encode_conversation)
            logging_steps=cfg.logging_steps,
            eval_strategy="epoch" if has_eval else "no",
            save_strategy="epoch",
            save_total_limit=2,
            load_best_model_at_end=has_eval,
            metric_for_best_model="eval_loss" if has_eval else None,
            greater_is_better=False if has_eval else None,
            report_to="none",
            disable_tqdm=True,
            dataloader_num_workers=0,
            dataloader_pin_memory=_on_gpu(),
            # bf16 autocast on a CPU must be asked for explicitly (transformers assumes a GPU otherwise).
            use_cpu=self.bf16 and not _on_gpu(),
        )

    # -- train ---------------------------------------------------------------------------------
    def train(self) -> None:
        self.started = time.perf_counter()
        if self.resume_from:
            print(f"ragft finetune: resuming {self.cfg.name} from {Path(self.resume_from).name}", file=sys.stderr, flush=True)
        previous = _install_sigint(self.stopper.requested)
        try:
            self.output = self.trainer.train(resume_from_checkpoint=self.resume_from)
        except (RuntimeError, ValueError) as exc:  # out of memory, NaN checks, shape errors ...
            self._write_entry(status="interrupted")
            step = self.trainer.state.global_step
            raise TrainingError(f"training failed at step {step}: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}",
                                fix="lower --max-length or --batch-size, then re-run the same command to resume") from exc
        except BaseException:
            self._write_entry(status="interrupted")
            raise
        finally:
            _restore_sigint(previous)
        self.interrupted = self.stopper.requested.is_set() and self.trainer.state.global_step < self.trainer.state.max_steps

    # -- save_checkpoint -----------------------------------------------------------------------
    def save_checkpoint(self) -> TrainResult:
        state = self.trainer.state
        seconds = time.perf_counter() - self.started
        if not self.interrupted and self.trainer.is_world_process_zero():
            # With an eval split, the trainer has reloaded the best epoch's adapter (early stopping).
            self.trainer.model.save_pretrained(str(self.dir), safe_serialization=True)
        evals = [h["eval_loss"] for h in state.log_history if "eval_loss" in h]
        tokens_now = int(getattr(self.trainer, "_total_train_tokens", 0))
        resumed_step = int(_checkpoint_step(self.resume_from)) if self.resume_from else None
        train_loss = None
        if getattr(self, "output", None) is not None and self.output.training_loss == self.output.training_loss:
            train_loss = float(self.output.training_loss)
        result = TrainResult(
            name=self.cfg.name, status="interrupted" if self.interrupted else "complete",  # type: ignore[arg-type]
            adapter_dir=self.dir, metrics_path=self.metrics_path,
            global_step=state.global_step, max_steps=state.max_steps, epochs=round(state.epoch or 0.0, 4),
            resumed_from_step=resumed_step, train_loss=train_loss,
            eval_loss=evals[-1] if evals else None, best_eval_loss=min(evals) if evals else None,
            early_stopped=bool(evals) and not self.interrupted and state.global_step < state.max_steps,
            train_tokens=tokens_now, seconds=round(seconds, 2),
            tokens_per_s=round(tokens_now / seconds, 1) if seconds > 0 else 0.0,
            peak_rss_mb=round(peak_rss_mb(), 1), precision="bf16" if self.bf16 else "fp32", model_bytes=int(self.trainer.model.get_memory_footprint()),
            examples=self.counts, notes=self.notes,
        )
        self._write_entry(status=result.status, result=result)
        return result

    # -- cleanup -------------------------------------------------------------------------------
    def cleanup(self) -> None:
        import gc

        for attr in ("trainer", "model"):
            if hasattr(self, attr):
                delattr(self, attr)
        gc.collect()

    # -- registry ------------------------------------------------------------------------------
    def _write_entry(self, *, status: str, result: TrainResult | None = None) -> None:
        if not _is_main_process():
            return
        entry = registry.read_entry(self.home, self.cfg.name) if (self.dir / registry.ENTRY_FILE).is_file() else {}
        if not entry:  # a fresh run (a resumed one keeps its entry and lineage)
            entry = registry.new_entry(
                name=self.cfg.name, base={"ref": self.base.ref, "path": self.base.path, "tokenizer_gguf": self.base.tokenizer_gguf},
                qlora=self.cfg.qlora, data=self.cfg.data, dataset_hash=self.dataset_hash, card=self.card,
                hyperparameters=self.cfg.hyperparameters(), records_db=self.home.records_db,
            )
        entry["status"] = status
        entry["pid"] = os.getpid() if status == "training" else None
        entry["examples"] = self.counts
        if result is not None:
            entry["adapter_dir"] = str(self.dir) if result.status == "complete" else None
            entry["metrics"] = {k: v for k, v in result.as_json().items()
                                if k not in ("name", "status", "adapter_dir", "metrics_path", "notes", "examples")}
            entry["notes"] = result.notes
        registry.write_entry(self.home, self.cfg.name, entry)


def use_bf16(precision: str) -> bool:
    """Resolve ``--precision``: auto means bf16 only where it is fast (and numerically supported)."""
    if precision != "auto":
        return precision == "bf16"
    import torch

    if torch.cuda.is_available():
        return torch.cuda.is_bf16_supported()
    try:  # private but stable helpers; /proc/cpuinfo as the fallback
        return bool(torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported())
    except AttributeError:
        try:
            flags = Path("/proc/cpuinfo").read_text()
        except OSError:
            return False
        return "avx512_bf16" in flags or "amx_bf16" in flags


def _is_main_process() -> bool:
    """Rank 0 under ``accelerate launch`` (and always in a single process)."""
    from accelerate import PartialState

    return PartialState().is_main_process


def _wait_for_everyone() -> None:
    from accelerate import PartialState

    PartialState().wait_for_everyone()


def _epoch_boundary(state) -> bool:
    return abs((state.epoch or 0.0) - round(state.epoch or 0.0)) < 1e-6


def _on_gpu() -> bool:
    import torch

    return torch.cuda.is_available()


def _quiet_library_noise() -> None:
    import warnings

    # TRL's config still sets transformers' deprecated `gradient_checkpointing` alias itself.
    warnings.filterwarnings("ignore", message=r".*gradient_checkpointing.* is deprecated", category=FutureWarning)


def _last_checkpoint(folder: Path) -> str | None:
    """The newest complete checkpoint (one interrupted mid-write lacks trainer_state.json)."""
    if not folder.is_dir():
        return None
    found = sorted((p for p in folder.glob("checkpoint-*") if p.is_dir() and (p / "trainer_state.json").is_file()),
                   key=_checkpoint_step)
    return str(found[-1]) if found else None


def _checkpoint_step(path: str | Path) -> int:
    match = re.search(r"checkpoint-(\d+)$", str(path))
    return int(match.group(1)) if match else -1


def _config_diff(entry: dict, hyper: dict, dataset_hash: str) -> str:
    old = entry.get("hyperparameters") or {}
    keys = sorted(k for k in set(old) | set(hyper) if old.get(k) != hyper.get(k))
    parts = [f"--{k.replace('_', '-')} {old.get(k)!r} -> {hyper.get(k)!r}" for k in keys]
    if entry.get("dataset", {}).get("hash") != dataset_hash:
        parts.append("the dataset file changed")
    return "; ".join(parts) or "unknown difference"


def _install_sigint(flag: threading.Event):
    """First Ctrl-C: finish the step, save a checkpoint, stop. Second Ctrl-C: abort."""
    if threading.current_thread() is not threading.main_thread():
        return None

    def handler(signum, frame):
        if flag.is_set():
            raise KeyboardInterrupt
        flag.set()
        print("\nragft finetune: stopping after this step and saving a checkpoint (Ctrl-C again to abort)", file=sys.stderr, flush=True)

    return signal.signal(signal.SIGINT, handler)


def _restore_sigint(previous) -> None:
    if previous is not None:
        signal.signal(signal.SIGINT, previous)


def finetune(config: TrainConfig, home: Home, *, resume: bool = False, overwrite: bool = False, progress: bool = False,
             stop_after_steps: int | None = None, threads: int | None = None) -> TrainResult:
    """Run the recipe. ``stop_after_steps`` stops the run like a Ctrl-C would (checkpoint, status
    ``interrupted``); re-running with the same config (or ``resume=True``) continues it. ``threads``
    sets torch's CPU threads (default: torch's choice, one per core)."""
    recipe = LoRARecipe(config, home, resume=resume, overwrite=overwrite, progress=progress,
                        stop_after_steps=stop_after_steps, threads=threads)
    try:
        recipe.setup()
        recipe.train()
        return recipe.save_checkpoint()
    finally:
        recipe.cleanup()

