"""docs/engines.md's llama.cpp recipe, run: llama.cpp's own OpenAI server (``python -m
llama_cpp.server``, started here on 127.0.0.1 with the bundled GGUF) as the chat model of ragft's
routes through ``--model openai:MODEL@URL``."""

from __future__ import annotations

import subprocess
import sys
import time

import httpx
import pytest

from assistant.llm.base import ModelSpec
from assistant.llm.openai_http import OpenAIChatModel
from finetune.base_model import bundled_gguf
from rag.chat_model import GenerationOptions
from tests.assistant.cli.conftest import json_of, run_ragft
from tests.assistant.openai_server import free_port


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory):
    port = free_port()
    log = tmp_path_factory.mktemp("llama-server") / "stderr.log"  # a file: llama.cpp's loader output would fill a pipe
    proc = subprocess.Popen([sys.executable, "-m", "llama_cpp.server", "--model", str(bundled_gguf()), "--model_alias", "smollm2",
                             "--n_ctx", "4096", "--host", "127.0.0.1", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=log.open("w"))
    url = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + 120
    try:
        while True:
            try:
                if httpx.get(f"{url}/models", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"llama_cpp.server did not start: {log.read_text()[-2000:]}")
            time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_the_base_route_answers_through_llama_cpp_server(llama_server, home):
    out = json_of(run_ragft("ask", "What is the capital of France?", "--route", "base", "--model", f"openai:smollm2@{llama_server}",
                            "--max-tokens", "16", "--json", home=home.root, check=True))
    assert out["model"] == f"openai:smollm2@{llama_server}" and "Paris" in out["answer"]
    assert out["tokens"]["prompt"] > 0 and out["tokens"]["completion"] > 0  # the server's own counts


def test_the_stream_arrives_token_by_token_with_the_servers_usage(llama_server):
    model = OpenAIChatModel(spec=ModelSpec(name="engine", backend="openai", model="smollm2", base_url=llama_server))
    stream = model.stream([{"role": "user", "content": "Name three colours."}], GenerationOptions(max_tokens=24, deterministic=True))
    pieces = list(stream)
    done = stream.completion
    assert len(pieces) > 3 and "".join(pieces) == done.text and 0 < done.completion_tokens <= 24
    assert done.prompt_tokens > 0 and done.finish_reason in ("stop", "length")
