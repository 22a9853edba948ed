"""The ``finetuned`` route: the fine-tuned model answers alone, from what it learned in training.

Which adapter: ``--adapter NAME`` (``RouteContext.adapter``), else the newest completed one in
the registry (``finetune.registry``). Which weights, fastest first:

1. the adapter's GGUF export (``ragft export NAME --format gguf``) on llama.cpp, never one that
   failed its check against the merged model: q8_0 first (the check asks >= 95% top-1
   agreement), then f16, f32, q4_k_m;
2. else transformers: the base checkpoint with the PEFT adapter applied (NF4 base for a QLoRA
   adapter, as it was trained; fp32 otherwise).

``RouteContext.weights`` asks for one of them instead (fp32, nf4, int8, or an export's f32, f16,
q8_0, q4_k_m): how ``ragft eval --quantization`` measures the same adapter at each precision.

Every answer carries the adapter's name and ``stale``: whether any document it was trained on
changed in the index since (re-checked per answer, so re-ingesting flips it at once).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Callable

from assistant.llm import ModelSpec, get_model
from assistant.profiles import asked_for
from assistant.routes import RouteContext, RouteResult
from finetune import registry
from ingestion.errors import ConfigError, ModelError
from ingestion.home import Home
from rag.chat_model import ChatModel

# Closest to the merged model first, at the smallest size that gets there: q4_k_m changes most
# greedy answers of a 135M model (benchmarks/RESULTS.md, bench_knowledge), so it comes last.
_GGUF_PREFERENCE = ("q8_0", "f16", "f32", "q4_k_m")


def resolve_adapter(home: Home, name: str | None, *, base: str | None = None) -> dict[str, Any]:
    """The described registry entry of ``name``, or of the newest completed adapter when None
    (trained on ``base`` when given: the asked-for profile's base model)."""
    if name is not None:
        entry = registry.get_adapter(home, registry.validate_name(name, flag="--adapter"))
        if entry.get("status") != "complete" or not entry.get("adapter_dir"):
            raise ModelError(f"adapter {name} has not finished training (status {entry.get('status')})",
                             fix=f"resume it with `ragft finetune --name {name} --data FILE --resume`, or pick another --adapter")
        return entry
    done = [row for row in registry.list_adapters(home) if row.get("status") == "complete" and row.get("adapter_dir")
            and (base is None or (row.get("base") or {}).get("ref") == base)]
    if not done:
        if base is not None:
            raise ModelError(f"no fine-tuned adapter on base {base}",
                             fix=f"train one with `ragft finetune --base {base} --data FILE`, or pick one with --adapter NAME")
        raise ModelError("no fine-tuned adapter", fix="train one with `ragft finetune --data FILE`")
    return max(done, key=lambda row: (row.get("created_at") or "", row["name"]))


def pick_gguf(entry: dict[str, Any]) -> dict[str, Any] | None:
    """The preferred existing GGUF export of an adapter, or None. An export that failed its check
    against the merged model (``ragft export`` said so and kept the file) is never served."""
    found = {e.get("quant"): e for e in entry.get("exports") or [] if e.get("format") == "gguf" and e.get("exists")
             and (e.get("verification") or {}).get("passed") is not False}
    return next((found[q] for q in _GGUF_PREFERENCE if q in found), next(iter(found.values()), None))


TRANSFORMERS_WEIGHTS = ("fp32", "nf4", "int8")  # the base checkpoint + PEFT adapter, through transformers(+bitsandbytes)
GGUF_WEIGHTS = ("f32", "f16", "q8_0", "q4_k_m")  # an export of the merged model, through llama.cpp
WEIGHTS = (*TRANSFORMERS_WEIGHTS, *GGUF_WEIGHTS)


def load_finetuned(home: Home, entry: dict[str, Any], weights: str | None = None) -> tuple[ChatModel, str]:
    """(loaded model, how it is served) for a described registry entry. ``weights`` asks for one
    precision (``WEIGHTS``); None serves the fastest that passed its check (see the module docstring)."""
    name = entry["name"]
    if weights is not None and weights not in WEIGHTS:
        raise ConfigError(f"weights {weights!r} unknown", fix=f"use one of {', '.join(WEIGHTS)}")
    if weights in GGUF_WEIGHTS:
        export = next((e for e in entry.get("exports") or [] if e.get("format") == "gguf" and e.get("quant") == weights
                       and e.get("exists")), None)
        if export is None:
            raise ModelError(f"adapter {name} has no {weights} GGUF export",
                             fix=f"run `ragft export {name} --format gguf --quant {weights}`")
    else:
        export = pick_gguf(entry) if weights is None else None
    if export is not None:
        quant = export.get("quant") or "gguf"
        spec = ModelSpec(name=f"{name}-{quant}", backend="llamacpp", path=str(Path(export["path"])),
                         description=f"adapter {name}, GGUF export")
        return get_model(spec, home=home), f"GGUF {quant} export on llama.cpp"
    base = (entry.get("base") or {}).get("path")
    if not base:
        raise ModelError(f"adapter {name} records no base model", fix=f"retrain it with `ragft finetune --name {name} --overwrite`")
    quant = weights or ("nf4" if entry.get("qlora") else "fp32")
    spec = ModelSpec(name=f"{name}-peft-{quant}", backend="transformers", path=str(base), quantization=quant,
                     adapter=str(entry["adapter_dir"]), description=f"adapter {name} over its base")
    how = "no GGUF export" if weights is None else "asked for"
    return get_model(spec, home=home), f"transformers {quant} base + PEFT adapter ({how})"


def training_system_prompt(entry: dict[str, Any]) -> str | None:
    """The system turn the adapter's dataset put before each question (None: the builder's default,
    no system turn), so that questions reach the model in the shape it was trained on."""
    path = Path((entry.get("dataset") or {}).get("path") or "")
    try:
        with open(path, encoding="utf-8") as f:
            first = json.loads(f.readline())
    except (OSError, ValueError):
        return None
    messages = first.get("messages") if isinstance(first, dict) else None
    if isinstance(messages, list) and messages and isinstance(messages[0], dict) and messages[0].get("role") == "system":
        return str(messages[0].get("content") or "") or None
    return None


def profile_base(context: RouteContext) -> str | None:
    """The base model of the asked-for profile (None when none was asked for: any newest adapter)."""
    profile = asked_for(context)
    return profile.base if profile else None


def is_stale(home: Home, name: str) -> bool:
    return bool(registry.staleness(registry.read_entry(home, name), home.records_db)["stale"])


class FinetunedRoute:
    name = "finetuned"

    def __init__(self, context: RouteContext) -> None:
        if context.model:
            raise ConfigError("--model does not apply to the finetuned route", fix="pick the fine-tuned model with --adapter NAME")
        self.home, self.options = context.home, context.options
        entry = resolve_adapter(context.home, context.adapter, base=profile_base(context))
        self.adapter = entry["name"]
        self.model, self.serving = load_finetuned(context.home, entry, context.weights)
        self.system = training_system_prompt(entry)

    def answer(self, question: str, *, on_token: Callable[[str], None] | None = None) -> RouteResult:
        if not question.strip():
            raise ConfigError("the question is empty", fix="pass a question")
        start = time.perf_counter()
        messages = [{"role": "user", "content": question.strip()}]
        if self.system:
            messages.insert(0, {"role": "system", "content": self.system})
        done = self.model.generate(messages, self.options, on_token=on_token)
        return RouteResult(
            route=self.name,
            reason=f"fine-tuned adapter {self.adapter} without retrieval ({self.serving})",
            answer=done.text.strip(),
            latency_s=round(time.perf_counter() - start, 3),
            tokens=done.tokens(),
            model=self.model.name,
            adapter=self.adapter,
            stale=is_stale(self.home, self.adapter),
        )
