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
  is ever computed), and TRL's fused LM head projects only the positions that carry a loss.
  Attention runs per conversation inside a packed row (``finetune.attention``);
- cosine schedule with warmup, gradient accumulation, a seed, eval loss each epoch on the
  validation split, early stopping on it (the best epoch's adapter is kept), checkpoints every
  ``save_steps`` and each epoch; ``--resume`` (or re-running the same command) continues an
  interrupted run from its last checkpoint with the same data order.

Layout of ``HOME/adapters/NAME``: ``adapter_model.safetensors`` + ``adapter_config.json`` (PEFT),
``metrics.jsonl`` (one row per log step, written while training), ``checkpoints/``,
``merged/`` (after ``finetune.merge``), ``export/`` (GGUF files) and ``ragft-adapter.json`` (the
registry entry, see ``finetune.registry``).

The parts live next to this file: ``finetune.config`` (settings and presets), ``finetune.examples``
(rows -> token ids + assistant mask), ``finetune.attention``, ``finetune.callbacks``. torch,
transformers, peft, trl and accelerate are imported inside the recipe's steps, so importing this
module stays cheap.
"""

from __future__ import annotations

import dataclasses
import os
import re
import resource
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from finetune import registry
from finetune.base_model import resolve_base
from finetune.config import TrainConfig
from finetune.examples import limit_paraphrases, read_card, read_examples, tokenize_examples
from finetune.recall import measure_recall, recall_probe
from ingestion.errors import ConfigError, ModelError, TrainingError
from ingestion.files import file_sha256
from ingestion.home import Home


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
    recall: dict[str, Any] | None = None  # what it recalls of its trained facts (finetune.recall); None: interrupted
    world_size: int = 1  # processes that trained it (finetune.launch)

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
        train = limit_paraphrases([e for e in examples if e.split == "train"], cfg.paraphrases_per_fact)
        self.probe = recall_probe(examples, train)
        self.train_rows, cut = tokenize_examples(self.tokenizer, train, cfg.max_length)
        self.eval_rows, cut_eval = tokenize_examples(self.tokenizer, [e for e in examples if e.split == "validation"], cfg.max_length)
        if not self.train_rows:
            raise TrainingError(f"no train row of {cfg.data} keeps an answer within --max-length {cfg.max_length}", fix="raise --max-length")
        if cut + cut_eval:
            self.notes.append(f"{cut + cut_eval} examples longer than --max-length {cfg.max_length} were truncated")
        if not self.eval_rows:
            self.notes.append("no validation rows: no eval loss and no early stopping")
        self.counts = {"train": len(self.train_rows), "train_rows_in_file": sum(e.split == "train" for e in examples),
                       "validation": len(self.eval_rows), "test": sum(e.split == "test" for e in examples)}
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
        if cfg.packing:
            from finetune.attention import attention_for_packing

            kwargs["attn_implementation"] = attention_for_packing()
        if cfg.qlora:
            try:
                import bitsandbytes  # noqa: F401
            except ImportError as exc:
                raise ModelError("--qlora needs bitsandbytes", fix="run `make setup`") from exc
            from transformers import BitsAndBytesConfig

            state = process_state()
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

        from finetune.callbacks import MetricsWriter, Progress, Stopper

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
        self.stopper = Stopper(cfg.save_steps, self.stop_after_steps)
        callbacks = [MetricsWriter(self.metrics_path), Progress(self.progress), self.stopper]
        if has_eval and cfg.early_stopping_patience and cfg.keep == "best":
            callbacks.append(EarlyStoppingCallback(early_stopping_patience=cfg.early_stopping_patience))
        try:
            self.trainer = _rank_tracing(SFTTrainer)(
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
            # keep="best" restores the checkpoint with the lowest validation loss (the split holds
            # facts never trained on); "last" keeps the final weights (see TrainConfig.keep).
            load_best_model_at_end=has_eval and cfg.keep == "best",
            metric_for_best_model="eval_loss" if has_eval else None,
            greater_is_better=False if has_eval else None,
            report_to="none",
            disable_tqdm=True,
            dataloader_num_workers=0,
            dataloader_pin_memory=_on_gpu(),
            # bf16 autocast on a CPU must be asked for explicitly (transformers assumes a GPU otherwise),
            # and only a CPU state joins the gloo group under `accelerate launch` (see process_state).
            use_cpu=not _on_gpu(),
        )

    # -- train ---------------------------------------------------------------------------------
    def train(self) -> None:
        self.started = time.perf_counter()
        if self.resume_from:
            print(f"ragft finetune: resuming {self.cfg.name} from {Path(self.resume_from).name}", file=sys.stderr, flush=True)
        from finetune.callbacks import install_sigint, restore_sigint

        previous = install_sigint(self.stopper.requested)
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
            restore_sigint(previous)
        self.interrupted = self.stopper.requested.is_set() and self.trainer.state.global_step < self.trainer.state.max_steps

    # -- save_checkpoint -----------------------------------------------------------------------
    def save_checkpoint(self) -> TrainResult:
        state = self.trainer.state
        seconds = time.perf_counter() - self.started
        world = self.trainer.args.world_size
        sharded = self.trainer.is_fsdp_enabled or self.trainer.is_deepspeed_enabled
        if not self.interrupted and sharded:
            # FSDP / ZeRO-3 hold shards: every rank takes part in gathering the adapter to save
            self.trainer.save_model(str(self.dir))
        elif not self.interrupted and self.trainer.is_world_process_zero():
            # With an eval split, the trainer has reloaded the best epoch's adapter (early stopping).
            self.trainer.model.save_pretrained(str(self.dir), safe_serialization=True)
        if not self.interrupted and world > 1:
            self._write_rank_trace(world, sharded)
        recall = None
        if not self.interrupted and self.trainer.is_world_process_zero():
            if sharded:
                self.notes.append("recall not measured: the adapter is sharded across processes (measure it with ragft eval)")
            else:
                recall = measure_recall(self.trainer.model, self.tokenizer, self.probe)
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
            examples=self.counts, notes=self.notes, recall=recall, world_size=world,
        )
        self._write_entry(status=result.status, result=result)
        return result

    def _write_rank_trace(self, world: int, sharded: bool) -> None:
        """``ranks/rank-R.json``: what this process trained on (a digest per micro-batch: the ranks'
        shards differ) and the adapter it ended with (DDP keeps the replicas equal)."""
        import json

        from peft import get_peft_model_state_dict

        rank = self.trainer.args.process_index
        folder = self.dir / "ranks"
        folder.mkdir(parents=True, exist_ok=True)
        trace = {"rank": rank, "world_size": world, "micro_batches": len(self.trainer.batch_digests),
                 "tokens": self.trainer.batch_tokens, "batch_digests": self.trainer.batch_digests,
                 "adapter_sha256": None if sharded else adapter_digest(get_peft_model_state_dict(self.trainer.model))}
        (folder / f"rank-{rank}.json").write_text(json.dumps(trace, indent=1), encoding="utf-8")

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


def _rank_tracing(trainer_cls):
    """``trainer_cls`` recording a digest of every micro-batch this process trains on."""
    import hashlib

    class RankTracingTrainer(trainer_cls):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.batch_digests: list[str] = []
            self.batch_tokens = 0

        def training_step(self, model, inputs, *args, **kwargs):
            ids = inputs["input_ids"].detach().to("cpu")
            self.batch_digests.append(hashlib.sha256(ids.numpy().tobytes()).hexdigest()[:16])
            self.batch_tokens += int(ids.numel())
            return super().training_step(model, inputs, *args, **kwargs)

    return RankTracingTrainer


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


def process_state():
    """accelerate's process state, made the way the Trainer makes it (``use_cpu`` without CUDA), so
    that under ``accelerate launch`` on CPUs every process sees the gloo group and its rank, not a
    lone process each; accelerate keeps one state per process, the first made wins."""
    from accelerate import PartialState

    return PartialState(cpu=not _on_gpu())


def _is_main_process() -> bool:
    """Rank 0 under ``accelerate launch`` (and always in a single process)."""
    return process_state().is_main_process


def _wait_for_everyone() -> None:
    process_state().wait_for_everyone()


def adapter_digest(tensors: dict[str, Any]) -> str:
    """sha256 over an adapter's tensors (name, dtype, shape, bytes), in name order: equal digests,
    equal weights. Takes a PEFT state dict or what ``safetensors`` loads from the saved file."""
    import hashlib

    import torch

    h = hashlib.sha256()
    for key in sorted(tensors):
        t = tensors[key].detach().to("cpu").contiguous()
        h.update(f"{key}|{t.dtype}|{tuple(t.shape)}|".encode())
        h.update(t.view(-1).view(torch.uint8).numpy().tobytes())
    return h.hexdigest()


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

