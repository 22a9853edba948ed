"""Which chat models exist, and the one place that loads them (once per process).

Built in: the bundled SmolLM2-135M-Instruct on llama.cpp (the default) and on transformers
(fp32, NF4, int8 over the converted checkpoint); installed on request (``assistant/llm/install.py``):
Qwen2.5-Coder-1.5B-Instruct on llama.cpp, as ``qwen2.5-1.5b``. Users add models in ``HOME/models.json``::

    {"models": [{"name": "qwen-vllm", "backend": "openai", "model": "Qwen/Qwen2.5-7B-Instruct",
                 "base_url": "http://gpu-box:8000/v1", "api_key_env": "VLLM_KEY"}]}

``--model`` also takes a .gguf path, a local HF checkpoint dir, a hub id, or
``openai:MODEL@http://host:port/v1``.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import os
import re
import threading
from pathlib import Path
from typing import Any

from assistant.llm.base import BUNDLED, ModelSpec
from assistant.llm.install import CATALOG, installed
from finetune.base_model import bundled_gguf, checkpoint_problem, ensure_hf_checkpoint, hf_checkpoint_dir
from finetune.native import weight_type
from ingestion.errors import ConfigError, ModelError
from ingestion.home import Home
from rag.chat_model import ChatModel

DEFAULT_MODEL = "smollm2-135m"
BUILTIN = (
    ModelSpec(name=DEFAULT_MODEL, backend="llamacpp", path=BUNDLED, description="SmolLM2-135M-Instruct GGUF (bundled), llama.cpp"),
    ModelSpec(name="smollm2-135m-hf", backend="transformers", path=BUNDLED, quantization="fp32", description="same weights, transformers fp32"),
    ModelSpec(name="smollm2-135m-nf4", backend="transformers", path=BUNDLED, quantization="nf4", description="transformers + bitsandbytes NF4"),
    ModelSpec(name="smollm2-135m-int8", backend="transformers", path=BUNDLED, quantization="int8", description="transformers + bitsandbytes int8"),
)
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")

_loaded: dict[tuple, ChatModel] = {}
_loading = threading.Lock()


def models_file(home: Home) -> Path:
    return home.root / "models.json"


def user_specs(home: Home) -> list[ModelSpec]:
    path = models_file(home)
    if not path.is_file():
        return []
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{path} is not valid JSON ({exc})", fix='write {"models": [{"name": ..., "backend": ...}]}') from exc
    rows = data.get("models") if isinstance(data, dict) else None
    if not isinstance(rows, list):
        raise ConfigError(f'{path} must hold {{"models": [...]}}')
    specs = [ModelSpec.from_dict(row, source=f"{path} models[{i}]") for i, row in enumerate(rows)]
    names = [s.name for s in BUILTIN] + list(CATALOG) + [s.name for s in specs]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ConfigError(f"{path}: model name(s) {', '.join(dupes)} defined twice", fix="give each model a unique name")
    return specs


def installed_specs(home: Home) -> list[ModelSpec]:
    return [ModelSpec(name=name, backend="llamacpp", path=record["path"], description=CATALOG[name].description)
            for name, record in installed(home).items() if name in CATALOG]


def all_specs(home: Home) -> list[ModelSpec]:
    return [*BUILTIN, *installed_specs(home), *user_specs(home)]


def resolve_spec(ref: str, home: Home) -> ModelSpec:
    """A registry name, a .gguf path, a local HF dir, a hub id, or openai:MODEL@URL."""
    for spec in all_specs(home):
        if spec.name == ref:
            return spec
    if ref in CATALOG:
        raise ModelError(f"model {ref!r} is not installed", fix=f"run `ragft models install {ref}`; it fetches {CATALOG[ref].size / 2**30:.1f} GB from the package index")
    if ref.startswith("openai:"):
        model, sep, url = ref[len("openai:") :].rpartition("@")
        if not sep or not model:
            raise ConfigError(f"--model {ref!r} is not openai:MODEL@URL", fix="e.g. openai:llama3@http://127.0.0.1:8000/v1")
        return ModelSpec(name=ref, backend="openai", model=model, base_url=url, api_key_env=os.environ.get("RAGFT_OPENAI_KEY_ENV"))
    path = Path(ref).expanduser()
    if ref.endswith(".gguf"):
        return ModelSpec(name=path.name, backend="llamacpp", path=str(path.resolve()))
    if path.is_dir():
        return ModelSpec(name=path.name, backend="transformers", path=str(path.resolve()))
    if _HUB_ID.match(ref) and not path.exists():
        return ModelSpec(name=ref, backend="transformers", path=ref)
    raise ModelError(f"unknown model {ref!r}", fix="run `ragft models` for names, or pass a .gguf path, a checkpoint dir, a hub id or openai:MODEL@URL")


def get_model(ref: str | ModelSpec, *, home: Home, quantization: str | None = None, adapter: str | None = None) -> ChatModel:
    """The loaded model for ``ref``; loads on first use, then reuses it for the whole process."""
    spec = ref if isinstance(ref, ModelSpec) else resolve_spec(ref, home)
    if quantization or adapter:
        spec = dataclasses.replace(spec, quantization=quantization or spec.quantization, adapter=adapter or spec.adapter)
    source = _source(spec, home, convert=False)
    key = (*spec.cache_key, source)
    with _loading:  # loads are rare and large: one at a time
        if key not in _loaded:
            _loaded[key] = _load(spec, home)
        return _loaded[key]


def _source(spec: ModelSpec, home: Home, *, convert: bool) -> str | None:
    """Where the weights are: file/dir/hub id; the bundled model resolved per backend."""
    if spec.path != BUNDLED:
        return spec.path
    if spec.backend == "llamacpp":
        return str(bundled_gguf())
    return str(ensure_hf_checkpoint(home) if convert else hf_checkpoint_dir(home))


def _load(spec: ModelSpec, home: Home) -> ChatModel:
    if spec.backend == "llamacpp":
        from assistant.llm.llamacpp import LlamaCppChatModel

        return LlamaCppChatModel(spec=spec, gguf_path=Path(_source(spec, home, convert=False) or "").expanduser(),
                                 home=home)
    if spec.backend == "transformers":
        from assistant.llm.transformers_backend import TransformersChatModel

        return TransformersChatModel(spec=spec, source=_source(spec, home, convert=True) or "")
    from assistant.llm.openai_http import OpenAIChatModel

    return OpenAIChatModel(spec=spec)


def clear_cache() -> None:
    """Drop loaded models (tests; freeing memory before loading a big one)."""
    with _loading:
        _loaded.clear()


# -- `ragft models` --------------------------------------------------------------------------
def _size_mb(paths: list[Path]) -> float | None:
    files = [p for p in paths if p.is_file()]
    return round(sum(p.stat().st_size for p in files) / 2**20, 1) if files else None


def describe(spec: ModelSpec, home: Home) -> dict[str, Any]:
    """One row of ``ragft models``: backend, quantization, size on disk, ready or why not."""
    row: dict[str, Any] = {"name": spec.name, "backend": spec.backend, "quantization": spec.quantization,
                           "default": spec.name == DEFAULT_MODEL, "description": spec.description}
    ready, status, size, where = False, "", None, spec.path
    try:
        if spec.backend == "llamacpp":
            path = Path(_source(spec, home, convert=False) or "").expanduser()
            where, size = str(path), _size_mb([path])
            ready = path.is_file()
            status = "ready" if ready else "file not found"
            row["quantization"] = weight_type(path) if ready else "unknown"
        elif spec.backend == "transformers":
            where, ready, status, size = _describe_hf(spec, home)
        else:
            from assistant.llm.openai_http import OpenAIChatModel

            where = spec.base_url
            ready = OpenAIChatModel(spec=spec).probe()
            status = "ready" if ready else "endpoint not reachable"
    except ModelError as err:
        status = err.message
    row.update(ready=ready, status=status, size_mb=size, path=where)
    if spec.adapter:
        row["adapter"] = spec.adapter
    return row


def _describe_hf(spec: ModelSpec, home: Home) -> tuple[str, bool, str, float | None]:
    if spec.quantization in ("nf4", "int8") and importlib.util.find_spec("bitsandbytes") is None:
        return spec.path or "", False, "bitsandbytes is not installed", None
    if spec.path == BUNDLED:
        path = hf_checkpoint_dir(home)
        problem = checkpoint_problem(path, bundled_gguf())
        # Not converted yet is still usable offline: the first load converts it.
        status = "ready" if problem is None else f"{problem}; converted from the bundled GGUF on first use"
        return str(path), problem is None, status, _size_mb(list(path.glob("*.safetensors")))
    path = Path(spec.path or "").expanduser()
    if path.is_dir():
        weights = list(path.glob("*.safetensors"))
        ready = (path / "config.json").is_file() and bool(weights)
        return str(path), ready, "ready" if ready else "no config.json or safetensors weights", _size_mb(weights)
    from huggingface_hub import try_to_load_from_cache

    cached = try_to_load_from_cache(spec.path or "", "config.json")
    if isinstance(cached, str):
        snapshot = Path(cached).parent
        return str(snapshot), True, "ready (Hugging Face cache)", _size_mb(list(snapshot.glob("*.safetensors")))
    offline = os.environ.get("HF_HUB_OFFLINE", "") not in ("", "0")
    return spec.path or "", not offline, "not cached; offline" if offline else "downloads on first use", None
