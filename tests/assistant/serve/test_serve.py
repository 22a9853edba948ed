"""`ragft serve` over the real routes and the bundled model, driven by the real `openai` client
(and LangChain's ChatOpenAI) against a uvicorn server started on 127.0.0.1 by the test."""

from __future__ import annotations

import contextlib
import json
import threading
import time

import httpx
import openai
import pytest

from assistant.serve import ServeSettings, create_app
from ingestion.home import Home
from tests.assistant.cli.conftest import run_ragft
from tests.assistant.openai_server import free_port

DOC = ("# Marrowfield\n\nMarrowfield Instruments was founded in 2011 in Rotterdam.\n\n"
       "Marrowfield had 612 employees at the start of 2025.\n")


@contextlib.contextmanager
def serving(settings: ServeSettings):
    import uvicorn

    port = free_port()
    app = create_app(settings)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "server did not start"
    try:
        yield f"http://127.0.0.1:{port}", app
    finally:
        server.should_exit = True
        thread.join(timeout=30)


@pytest.fixture(scope="module")
def served(tmp_path_factory, embedder):
    from rag.indexing import ingest_paths

    home = Home.resolve(tmp_path_factory.mktemp("serve-home"))
    doc = home.root / "docs" / "marrowfield.md"
    doc.parent.mkdir(parents=True)
    doc.write_text(DOC)
    assert ingest_paths(home, [str(doc)], embedder=embedder).added == 1
    with serving(ServeSettings(home=home, default_max_tokens=48)) as (url, app):
        yield url, app, home


def client(url: str, key: str = "none") -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{url}/v1", api_key=key, max_retries=0, timeout=300)


def test_models_list_one_per_route(served):
    url, _, _ = served
    ids = [m.id for m in client(url).models.list().data]
    assert ids == ["ragft-auto", "ragft-base", "ragft-naive", "ragft-agentic", "ragft-finetuned", "ragft-hybrid"]
    assert httpx.get(f"{url}/healthz").json()["status"] == "ok"


def test_a_completion_carries_the_routes_citations_and_scores(served):
    url, _, _ = served
    out = client(url).chat.completions.create(model="ragft-naive", max_tokens=32, messages=[
        {"role": "system", "content": "ignored: the route has its own prompt"},
        {"role": "user", "content": "How many employees did Marrowfield have at the start of 2025?"}])
    assert out.object == "chat.completion" and out.model == "ragft-naive" and out.choices[0].finish_reason == "stop"
    extra = out.model_extra["ragft"]
    assert out.choices[0].message.content == extra["answer"] and extra["route"] == "naive"
    assert extra["citations"] and extra["citations"][0]["source"].endswith("marrowfield.md")
    assert "faithfulness" in extra["scores"] or extra["abstained"]
    assert out.usage.completion_tokens > 0 and out.usage.total_tokens == out.usage.prompt_tokens + out.usage.completion_tokens


def test_streaming_sends_pieces_then_the_final_chunk_and_done(served):
    url, _, _ = served
    stream = client(url).chat.completions.create(model="ragft-base", max_tokens=16, stream=True,
                                                 messages=[{"role": "user", "content": "Name a colour."}])
    chunks = list(stream)
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    final = chunks[-1]
    assert final.choices[0].finish_reason == "stop" and final.model_extra["ragft"]["answer"].strip() == text.strip() != ""
    raw = httpx.post(f"{url}/v1/chat/completions", timeout=300, json={
        "model": "ragft-base", "stream": True, "max_tokens": 4, "messages": [{"role": "user", "content": "Hi"}]}).text
    assert raw.rstrip().endswith("data: [DONE]")


@pytest.mark.parametrize("body, status, param, code", [
    ({"model": "gpt-4", "messages": [{"role": "user", "content": "Hi"}]}, 404, "model", "model_not_found"),
    ({"model": "ragft-base", "messages": []}, 400, "messages", "invalid_value"),
    ({"model": "ragft-base", "messages": [{"role": "robot", "content": "Hi"}]}, 400, "messages.0.role", "invalid_value"),
    ({"model": "ragft-base", "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 100000}, 400, "max_tokens",
     "max_tokens_too_large"),
    ({"model": "ragft-base", "messages": [{"role": "user", "content": "Hi"}] * 101}, 400, "messages", "too_many_messages"),
    ({"model": "ragft-finetuned", "messages": [{"role": "user", "content": "Hi"}]}, 400, "model", "route_unavailable"),
])
def test_bad_requests_get_openai_error_bodies(served, body, status, param, code):
    url, _, _ = served
    r = httpx.post(f"{url}/v1/chat/completions", json=body, timeout=60)
    assert r.status_code == status
    error = r.json()["error"]
    assert (error["param"], error["code"]) == (param, code) and error["message"] and error["type"]


def test_the_openai_client_raises_its_own_errors_and_size_and_json_limits_hold(served):
    url, _, _ = served
    with pytest.raises(openai.NotFoundError, match="ragft-auto"):
        client(url).chat.completions.create(model="nope", messages=[{"role": "user", "content": "Hi"}])
    big = httpx.post(f"{url}/v1/chat/completions", content=b"{" + b" " * 1_100_000 + b"}",
                     headers={"content-type": "application/json"})
    assert big.status_code == 413 and big.json()["error"]["code"] == "body_too_large"
    bad = httpx.post(f"{url}/v1/chat/completions", content=b"not json", headers={"content-type": "application/json"})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_json"


def test_a_client_that_disconnects_mid_stream_stops_its_generation(served):
    url, app, _ = served
    cancelled = app.state.metrics.cancelled.labels("base")
    before = cancelled._value.get()
    body = {"model": "ragft-base", "stream": True, "max_tokens": 1024, "temperature": 0.9,
            "messages": [{"role": "user", "content": "Write a very long story about the sea, with many chapters."}]}
    with httpx.stream("POST", f"{url}/v1/chat/completions", json=body, timeout=120) as r:
        lines = r.iter_lines()
        got = [next(lines) for _ in range(6)]  # the role chunk and a few pieces, then hang up
    assert any('"content"' in line for line in got)
    deadline = time.monotonic() + 60
    while cancelled._value.get() == before and time.monotonic() < deadline:
        time.sleep(0.1)
    assert cancelled._value.get() == before + 1
    # the model's lock is free again: the next request on the same route answers
    out = client(url).chat.completions.create(model="ragft-base", max_tokens=4, temperature=0.9,
                                              messages=[{"role": "user", "content": "Hi"}])
    assert out.choices[0].message.content is not None
    metrics = httpx.get(f"{url}/metrics").text
    assert 'ragft_cancelled_total{route="base"}' in metrics and 'ragft_requests_total{route="base",status="200"}' in metrics
    assert "ragft_request_seconds_bucket" in metrics


def test_langchain_chat_openai_talks_to_it(served):
    from langchain_openai import ChatOpenAI

    url, _, _ = served
    llm = ChatOpenAI(model="ragft-naive", base_url=f"{url}/v1", api_key="none", max_tokens=32, max_retries=0, timeout=300)
    reply = llm.invoke("In which year was Marrowfield Instruments founded?")
    assert isinstance(reply.content, str) and reply.content


def test_api_keys_are_required_when_set(tmp_path):
    home = Home.resolve(tmp_path / "home")
    with serving(ServeSettings(home=home, api_keys=("sekret",), default_max_tokens=8)) as (url, _):
        with pytest.raises(openai.AuthenticationError) as err:
            client(url, "wrong").models.list()
        assert err.value.status_code == 401 and err.value.body["code"] == "invalid_api_key"
        assert httpx.get(f"{url}/metrics").status_code == 401
        assert httpx.get(f"{url}/healthz").status_code == 200  # liveness needs no key
        assert [m.id for m in client(url, "sekret").models.list().data][0] == "ragft-auto"
        out = client(url, "sekret").chat.completions.create(model="ragft-base", messages=[{"role": "user", "content": "Hi"}])
        assert out.choices[0].message.content is not None


def test_serving_beyond_loopback_without_a_key_is_refused(tmp_path):
    proc = run_ragft("serve", "--host", "0.0.0.0", home=tmp_path / "home", env={"RAGFT_API_KEYS": ""})
    assert proc.returncode == 2
    assert proc.stderr.strip() == ("ragft serve: error: --host 0.0.0.0 listens beyond this machine without an API key "
                                   "(set $RAGFT_API_KEYS or pass --api-keys FILE, or keep --host 127.0.0.1)")
    keys = tmp_path / "keys.txt"
    keys.write_text("# team keys\n")
    assert run_ragft("serve", "--host", "10.1.2.3", "--api-keys", str(keys), home=tmp_path / "home",
                     env={"RAGFT_API_KEYS": ""}).returncode == 2  # a file of comments holds no key
