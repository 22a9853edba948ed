"""The llama.cpp self-check: a child that really dies by SIGSEGV leads to the safe configuration
and one line; a passing check does not; verdicts are stored per combination and reused."""

from __future__ import annotations

import json
import sys

import pytest

from finetune import native
from finetune.base_model import bundled_gguf
from ingestion.errors import ModelError

# A real native crash: reading address 0 through ctypes kills the interpreter with SIGSEGV.
SEGFAULT = [sys.executable, "-c", "import ctypes; ctypes.string_at(0)"]


def crash_when_fast(path, extra_bufts):
    """The fast configuration's child segfaults (as on an affected AMX Xeon); the safe one is the real check."""
    if extra_bufts:
        return native.check_in_child(path, True, argv=SEGFAULT)
    return native.check_in_child(path, False)


def test_a_child_killed_by_sigsegv_is_reported_as_such():
    result = native.check_in_child(bundled_gguf(), True, argv=SEGFAULT)
    assert not result.ok and result.how == "killed by SIGSEGV"


def test_the_real_check_passes_in_both_configurations():
    for extra in (True, False):
        result = native.check_in_child(bundled_gguf(), extra)
        assert result.ok, result.how


def test_a_crashing_check_falls_back_to_safe_buffers_with_one_line(home):
    lines: list[str] = []
    verdict = native.llama_verdict(home, bundled_gguf(), checker=crash_when_fast, notify=lines.append)
    assert verdict.extra_bufts is False
    assert [c.how for c in verdict.checks] == ["killed by SIGSEGV", "ok"]
    assert len(lines) == 1 and "SIGSEGV" in lines[0] and "plain CPU buffers" in lines[0] and "#20824" in lines[0]
    # remembered under the data dir, without absolute paths: the next use neither checks nor prints
    stored = json.loads((home.root / "runtime" / "llamacpp.json").read_text())
    assert str(home.root) not in json.dumps(stored) and str(bundled_gguf()) not in json.dumps(stored)
    again = native.llama_verdict(home, bundled_gguf(), checker=lambda *a: pytest.fail("checked twice"),
                                 notify=lines.append)
    assert again.extra_bufts is False and len(lines) == 1


def test_a_passing_check_keeps_the_fast_path_silently(home):
    lines: list[str] = []
    verdict = native.llama_verdict(home, bundled_gguf(), notify=lines.append)
    assert verdict.extra_bufts is True and [c.how for c in verdict.checks] == ["ok"]
    assert lines == []


def test_the_safe_configuration_really_loads_without_extra_buffers(home):
    import llama_cpp.llama_cpp as lib

    seen = []
    original = lib.llama_model_default_params

    def spy():
        params = original()
        seen.append(params)
        return params

    lib.llama_model_default_params = spy
    try:
        llm = native.load_llama(bundled_gguf(), extra_bufts=False, n_ctx=128, verbose=False)
    finally:
        lib.llama_model_default_params = original
    assert seen and seen[-1].use_extra_bufts is False
    out = llm.create_completion("The capital of France is", max_tokens=4, temperature=0.0)
    assert out["choices"][0]["text"].strip()
    assert lib.llama_model_default_params is original  # the override ends with the load


def test_crash_in_both_configurations_is_a_one_line_error_with_a_fix(home):
    with pytest.raises(ModelError, match="both configurations") as err:
        native.llama_verdict(home, bundled_gguf(), checker=lambda p, e: native.check_in_child(p, e, argv=SEGFAULT),
                             notify=lambda line: None)
    assert "\n" not in str(err.value) and "smollm2-135m-hf" in err.value.fix
    assert not (home.root / "runtime" / "llamacpp.json").exists()


def test_the_backend_uses_the_stored_verdict(home):
    from assistant.llm.base import ModelSpec
    from assistant.llm.llamacpp import LlamaCppChatModel

    native.llama_verdict(home, bundled_gguf(), checker=crash_when_fast, notify=lambda line: None)
    model = LlamaCppChatModel(spec=ModelSpec(name="m", backend="llamacpp", path=str(bundled_gguf())),
                              gguf_path=bundled_gguf(), home=home)
    assert model.verdict.extra_bufts is False
    from rag.chat_model import GenerationOptions

    done = model.generate([{"role": "system", "content": "You are a helpful assistant. Answer the question briefly."},
                           {"role": "user", "content": "What is the capital of France?"}],
                          GenerationOptions(deterministic=True, max_tokens=24))
    assert "Paris" in done.text


def test_doctor_reports_cpu_build_and_configuration(home, capsys):
    from assistant.cli import main

    native.llama_verdict(home, bundled_gguf(), checker=crash_when_fast, notify=lambda line: None)
    assert main(["--home", str(home.root), "doctor", "--json"]) == 0
    runtime = json.loads(capsys.readouterr().out)["runtime"]
    assert runtime["cpu"]["machine"] and isinstance(runtime["cpu"]["flags"], list)
    assert runtime["llama_cpp"]["llama_cpp_python"] and "CPU" in runtime["llama_cpp"]["system_info"]
    [check] = runtime["llamacpp_checks"]
    assert check["configuration"] == "safe" and check["weight_type"] == "q4_1"
