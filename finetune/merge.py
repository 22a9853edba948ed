"""Merge a trained LoRA adapter into its base weights: a plain Hugging Face checkpoint.

    merge_adapter(home, "sample-qa")   # -> HOME/adapters/sample-qa/merged/ (safetensors + tokenizer)

The base is loaded in fp32 even when the adapter was trained with QLoRA (merging into 4-bit
weights would round the update away); PEFT's ``merge_and_unload`` folds ``B @ A * alpha / r``
into each target weight. The merged checkpoint is what every deployment path starts from:
bitsandbytes NF4 / int8 quantize it at load time (``from_pretrained(merged,
quantization_config=...)``, as the assistant's transformers backend does) and
``finetune.export_gguf`` converts it for llama.cpp / Ollama. The directory is written next to
the adapter under a temporary name and renamed into place, so it is either complete or absent.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from finetune import registry
from ingestion.errors import ModelError, TrainingError
from ingestion.files import replace_dir
from ingestion.home import Home

MERGED_DIRNAME = "merged"


@dataclass(frozen=True)
class MergeResult:
    path: Path
    size_bytes: int
    seconds: float

    def as_json(self) -> dict:
        return {"path": str(self.path), "size_bytes": self.size_bytes, "seconds": self.seconds}


def load_base_and_adapter(base_path: str, adapter_dir: Path):
    """(tokenizer, PeftModel) in fp32 eval mode: base + adapter, unmerged."""
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    if not (adapter_dir / "adapter_model.safetensors").is_file():
        raise TrainingError(f"{adapter_dir} has no adapter_model.safetensors", fix="finish training it: re-run the `ragft finetune` command")
    try:
        tokenizer = AutoTokenizer.from_pretrained(base_path)
        base = AutoModelForCausalLM.from_pretrained(base_path, dtype=torch.float32, use_safetensors=True)
    except (OSError, ValueError) as exc:
        raise ModelError(f"cannot load base model {base_path}: {str(exc).splitlines()[0]}",
                         fix="the base the adapter was trained on must still be on disk (see `ragft adapters`)") from exc
    model = PeftModel.from_pretrained(base, str(adapter_dir), is_trainable=False)
    return tokenizer, model.eval()


def merge_into(base_path: str, adapter_dir: Path, out: Path) -> MergeResult:
    """Merge ``adapter_dir`` into ``base_path`` and save the result at ``out`` (replaced atomically)."""
    start = time.perf_counter()
    tokenizer, model = load_base_and_adapter(base_path, adapter_dir)
    merged = model.merge_and_unload()
    tmp = out.parent / f".{out.name}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        merged.save_pretrained(str(tmp), safe_serialization=True)
        tokenizer.save_pretrained(str(tmp))
        replace_dir(tmp, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    size = sum(p.stat().st_size for p in out.glob("*.safetensors"))
    return MergeResult(out, size, round(time.perf_counter() - start, 2))


def merge_adapter(home: Home, name: str, *, quiet: bool = False) -> MergeResult:
    """Merge a registered adapter; records ``merged_dir`` in its registry entry."""
    entry = registry.complete_entry(home, name)
    folder = registry.adapter_dir(home, name)
    if not quiet:
        print(f"ragft: merging adapter {name} into {entry['base']['ref']}...", file=sys.stderr, flush=True)
    result = merge_into(entry["base"]["path"], folder, folder / MERGED_DIRNAME)
    registry.update_entry(home, name, merged_dir=str(result.path), merged_size_bytes=result.size_bytes)
    return result


def ensure_merged(home: Home, name: str, *, quiet: bool = False) -> Path:
    """The adapter's merged checkpoint, merging first if it is missing."""
    entry = registry.read_entry(home, name)
    merged = entry.get("merged_dir")
    if merged and (Path(merged) / "config.json").is_file() and list(Path(merged).glob("*.safetensors")):
        return Path(merged)
    return merge_adapter(home, name, quiet=quiet).path
