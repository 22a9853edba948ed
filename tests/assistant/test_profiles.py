"""Model profiles: which model every route loads, and the errors when a profile's model is missing.

The ``small`` profile's model is stood in for by the bundled SmolLM2 GGUF registered under the
catalog name (an install record written here, as ``ragft models install`` writes it), so the
real llama.cpp load runs without the 1 GB download.
"""

from __future__ import annotations

import json

import pytest

from assistant.llm.install import CATALOG
from assistant.llm.registry import clear_cache
from assistant.profiles import PROFILES, asked_for, available, chat_model_of, profile_name, resolve_profile
from assistant.routes import RouteContext, build_route
from finetune.base_model import bundled_gguf
from ingestion.errors import ConfigError, ModelError
from ingestion.home import Home
from rag.chat_model import GenerationOptions

SMALL = "qwen2.5-1.5b"


def fake_install(home: Home, name: str = SMALL) -> None:
    """An install record whose file is the bundled GGUF (a symlink: the size check follows it)."""
    home.models_dir.mkdir(parents=True, exist_ok=True)
    gguf = bundled_gguf()
    (home.models_dir / f"{name}.gguf").symlink_to(gguf)
    record = {"file": f"{name}.gguf", "bytes": gguf.stat().st_size, "sha256": "stand-in", "packages": []}
    (home.models_dir / "installed.json").write_text(json.dumps({name: record}))


def test_the_profile_comes_from_the_flag_then_the_environment_then_tiny(monkeypatch):
    monkeypatch.delenv("RAGFT_PROFILE", raising=False)
    assert profile_name() == "tiny"
    monkeypatch.setenv("RAGFT_PROFILE", "small")
    assert profile_name() == "small" and profile_name("tiny") == "tiny"
    monkeypatch.setenv("RAGFT_PROFILE", "huge")
    with pytest.raises(ConfigError, match=r"\$RAGFT_PROFILE 'huge' is not a profile") as err:
        profile_name()
    assert "tiny, small" in err.value.fix


def test_the_small_profile_names_the_install_command_when_its_model_is_missing(tmp_path, monkeypatch):
    monkeypatch.delenv("RAGFT_PROFILE", raising=False)
    home = Home.resolve(tmp_path / "h")
    assert available(home) == ["tiny"]
    with pytest.raises(ModelError, match="profile 'small' needs model 'qwen2.5-1.5b'") as err:
        resolve_profile("small", home)
    assert f"ragft models install {SMALL}" in err.value.fix and f"MODELS={SMALL}" in err.value.fix
    assert resolve_profile(None, home) is PROFILES["tiny"]  # nothing asked for: no install needed


def test_every_profile_model_is_a_known_name():
    from assistant.llm.registry import BUILTIN

    names = {s.name for s in BUILTIN} | set(CATALOG)
    for profile in PROFILES.values():
        assert profile.chat_model in names and profile.base in names
        assert profile.judge is None or profile.judge in names


def test_a_profile_picks_the_model_of_every_generating_route_and_model_still_wins(tmp_path, monkeypatch):
    monkeypatch.delenv("RAGFT_PROFILE", raising=False)
    home = Home.resolve(tmp_path / "h")
    fake_install(home)
    assert available(home) == ["tiny", "small"]
    assert chat_model_of(RouteContext(home=home)) == "smollm2-135m"
    assert asked_for(RouteContext(home=home)) is None
    small = RouteContext(home=home, profile="small", options=GenerationOptions(max_tokens=4, deterministic=True))
    assert chat_model_of(small) == SMALL and asked_for(small) is PROFILES["small"]
    assert chat_model_of(RouteContext(home=home, profile="small", model="smollm2-135m")) == "smollm2-135m"
    monkeypatch.setenv("RAGFT_PROFILE", "small")  # the environment counts as asked for (the app reads it)
    assert asked_for(RouteContext(home=home)) is PROFILES["small"]
    try:
        out = build_route("base", small).answer("What is 2 + 2?")
        assert out.model == SMALL and out.tokens["completion"] > 0
    finally:
        clear_cache()


def test_finetuning_converts_an_installed_base_once_like_the_bundled_one(tmp_path):
    from finetune.base_model import resolve_base

    home = Home.resolve(tmp_path / "h")
    with pytest.raises(ModelError, match="--base qwen2.5-1.5b: the model is not installed") as err:
        resolve_base(SMALL, home)
    assert f"ragft models install {SMALL}" in err.value.fix
    fake_install(home)
    base = resolve_base(SMALL, home)
    assert base.ref == SMALL and base.tokenizer_gguf == str(home.models_dir / f"{SMALL}.gguf")
    assert base.path == str(home.models_dir / f"{SMALL}-hf")
    assert {"config.json", "model.safetensors", "tokenizer.json"} <= {p.name for p in (home.models_dir / f"{SMALL}-hf").iterdir()}
    mtime = (home.models_dir / f"{SMALL}-hf" / "model.safetensors").stat().st_mtime_ns
    assert resolve_base(SMALL, home).path == base.path  # cached: not converted again
    assert (home.models_dir / f"{SMALL}-hf" / "model.safetensors").stat().st_mtime_ns == mtime
