"""OpenAI-compatible HTTP backend against a real server on 127.0.0.1 (tests/assistant/openai_server.py)."""

from __future__ import annotations

import time

import pytest

from assistant.llm import get_model
from assistant.llm.base import ModelSpec
from assistant.llm.openai_http import OpenAIChatModel
from ingestion.errors import ModelError
from rag.chat_model import GenerationOptions
from tests.assistant.openai_server import free_port

QUESTION = [
    {"role": "system", "content": "You are a helpful assistant. Answer the question briefly."},
    {"role": "user", "content": "What is the capital of France?"},
]
GREEDY = GenerationOptions(deterministic=True, max_tokens=40)


def client(base_url: str, **kw) -> OpenAIChatModel:
    return OpenAIChatModel(spec=ModelSpec(name="remote", backend="openai", model="smollm2", base_url=base_url, **kw))


@pytest.mark.slow
def test_streams_the_real_model_with_server_token_counts(openai_server, home):
    remote = client(f"{openai_server.url}/v1")
    pieces: list[str] = []
    done = remote.generate(QUESTION, GREEDY, on_token=pieces.append)
    assert "Paris" in done.text and len(pieces) > 1 and "".join(pieces) == done.text
    local = get_model("smollm2-135m", home=home)  # the same object the server uses
    assert done.text == local.generate(QUESTION, GREEDY).text  # greedy + same prompt tokens
    assert done.prompt_tokens == len(local.prompt_ids(QUESTION))  # from the usage chunk
    assert done.finish_reason == "stop" and 0 < done.first_token_s <= done.total_s


def test_max_tokens_and_stop_reach_the_server(openai_server):
    remote = client(f"{openai_server.url}/v1")
    short = remote.generate(QUESTION, GenerationOptions(deterministic=True, max_tokens=2))
    assert short.finish_reason == "length" and short.completion_tokens == 2
    assert "Paris" not in remote.generate(QUESTION, GenerationOptions(deterministic=True, stop=("Paris",))).text


def test_server_that_ignores_stream_still_works(openai_server):
    assert "Paris" in client(f"{openai_server.url}/nostream/v1").generate(QUESTION, GREEDY).text


def test_retries_a_5xx_then_succeeds(openai_server):
    before = openai_server.hits.get("flaky/v1", 0)
    done = client(f"{openai_server.url}/flaky/v1", retries=2).generate(QUESTION, GREEDY)
    assert "Paris" in done.text and openai_server.hits["flaky/v1"] == before + 2


def test_endpoint_down_is_a_clear_error():
    start = time.perf_counter()
    with pytest.raises(ModelError, match=r"failed after 2 attempt\(s\): cannot connect") as err:
        client(f"http://127.0.0.1:{free_port()}/v1", retries=1).generate(QUESTION)
    assert "start the server" in str(err.value) and "\n" not in str(err.value)
    assert time.perf_counter() - start < 10


@pytest.mark.parametrize(
    ("prefix", "match"),
    [
        ("garbage/v1", "not an OpenAI chat completion"),
        ("html/v1", "without any completion events"),
        ("error/v1", "model overloaded"),
        ("missing/v1", "HTTP 404"),
    ],
)
def test_garbage_answers_are_one_line_errors(openai_server, prefix, match):
    with pytest.raises(ModelError, match=match) as err:
        client(f"{openai_server.url}/{prefix}").generate(QUESTION)
    assert "\n" not in str(err.value)


def test_timeouts_are_reported(openai_server):
    with pytest.raises(ModelError, match="no answer within the timeout"):
        client(f"{openai_server.url}/slow/v1", timeout_s=0.5, retries=0).generate(QUESTION)


def test_api_key_comes_from_the_named_env_var(openai_server, monkeypatch):
    monkeypatch.delenv("TEST_LLM_KEY", raising=False)
    with pytest.raises(ModelError, match=r"\$TEST_LLM_KEY is not set"):
        client(f"{openai_server.url}/auth/v1", api_key_env="TEST_LLM_KEY")
    monkeypatch.setenv("TEST_LLM_KEY", "wrong")
    with pytest.raises(ModelError, match=r"HTTP 401.*check the API key in \$TEST_LLM_KEY"):
        client(f"{openai_server.url}/auth/v1", api_key_env="TEST_LLM_KEY").generate(QUESTION)
    monkeypatch.setenv("TEST_LLM_KEY", "sekret")
    assert client(f"{openai_server.url}/auth/v1", api_key_env="TEST_LLM_KEY").generate(QUESTION, GREEDY).text


def test_probe_and_registry_string(openai_server, home):
    assert client(f"{openai_server.url}/v1").probe()
    assert not client(f"http://127.0.0.1:{free_port()}/v1").probe()
    model = get_model(f"openai:smollm2@{openai_server.url}/v1", home=home)
    assert isinstance(model, OpenAIChatModel) and model.model == "smollm2"
