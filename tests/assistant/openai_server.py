"""A real OpenAI-compatible server for tests: FastAPI + uvicorn on 127.0.0.1, serving the bundled
GGUF through the llama.cpp backend, plus misbehaving variants of the endpoint under prefixes:

    /v1         well-behaved: streaming SSE (with usage when asked) or plain JSON
    /flaky/v1   503 on every other request, then the real answer
    /auth/v1    401 unless "Authorization: Bearer sekret"
    /garbage/v1 200 with an event stream whose data is not JSON
    /html/v1    200 with an HTML page
    /error/v1   an event stream carrying {"error": {...}}
    /slow/v1    waits 3 s before answering
    /nostream/v1  ignores stream=true and answers one JSON object
"""

from __future__ import annotations

import json
import socket
import threading
import time
from dataclasses import dataclass, field

import pytest
from fastapi import FastAPI, Request  # module level: route annotations are resolved from here
from fastapi.responses import HTMLResponse, JSONResponse, Response, StreamingResponse


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class ServerInfo:
    url: str  # http://127.0.0.1:PORT
    hits: dict[str, int] = field(default_factory=dict)


def build_app(model, hits: dict[str, int]):
    from rag.chat_model import GenerationOptions

    app = FastAPI()

    def options(body: dict) -> GenerationOptions:
        return GenerationOptions(
            max_tokens=body.get("max_tokens") or 256, temperature=body.get("temperature", 0.7),
            top_p=body.get("top_p", 1.0), stop=tuple(body.get("stop") or ()), seed=body.get("seed"),
        )

    def usage(done) -> dict:
        return {"prompt_tokens": done.prompt_tokens, "completion_tokens": done.completion_tokens,
                "total_tokens": done.prompt_tokens + done.completion_tokens}

    def answer(body: dict, stream: bool) -> Response:
        if not stream:
            done = model.generate(body["messages"], options(body))
            return JSONResponse({"object": "chat.completion", "model": body.get("model"), "usage": usage(done),
                                 "choices": [{"index": 0, "message": {"role": "assistant", "content": done.text},
                                              "finish_reason": done.finish_reason}]})

        def events():
            pieces = model.stream(body["messages"], options(body))
            for piece in pieces:
                chunk = {"object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]}
                yield f"data: {json.dumps(chunk)}\n\n"
            done = pieces.completion
            yield f"data: {json.dumps({'choices': [{'index': 0, 'delta': {}, 'finish_reason': done.finish_reason}]})}\n\n"
            if (body.get("stream_options") or {}).get("include_usage"):
                yield f"data: {json.dumps({'choices': [], 'usage': usage(done)})}\n\n"
            yield "data: [DONE]\n\n"

        return StreamingResponse(events(), media_type="text/event-stream")

    @app.get("/v1/models")
    def models():
        return {"object": "list", "data": [{"id": "smollm2", "object": "model"}]}

    @app.post("/{prefix:path}/chat/completions")
    async def chat(prefix: str, request: Request):
        body = await request.json()
        hits[prefix] = hits.get(prefix, 0) + 1
        stream = bool(body.get("stream"))
        if prefix == "v1":
            return await _threaded(answer, body, stream)
        if prefix == "flaky/v1":
            if hits[prefix] % 2:
                return JSONResponse({"error": {"message": "warming up"}}, status_code=503)
            return await _threaded(answer, body, stream)
        if prefix == "auth/v1":
            if request.headers.get("authorization") != "Bearer sekret":
                return JSONResponse({"error": {"message": "bad key"}}, status_code=401)
            return await _threaded(answer, body, stream)
        if prefix == "garbage/v1":
            return Response("data: {this is not json\n\n", media_type="text/event-stream")
        if prefix == "html/v1":
            return HTMLResponse("<html><body>Welcome to nginx!</body></html>")
        if prefix == "error/v1":
            return Response('data: {"error": {"message": "model overloaded"}}\n\n', media_type="text/event-stream")
        if prefix == "slow/v1":
            await _threaded(time.sleep, 3)
            return await _threaded(answer, body, stream)
        if prefix == "nostream/v1":
            return await _threaded(answer, body, False)
        return JSONResponse({"error": {"message": "not found"}}, status_code=404)

    return app


async def _threaded(fn, *args):
    from starlette.concurrency import run_in_threadpool

    return await run_in_threadpool(fn, *args)


@pytest.fixture(scope="session")
def openai_server(tmp_path_factory):
    """Start the server once per session; yields its ServerInfo."""
    import uvicorn

    from assistant.llm import get_model
    from ingestion.home import Home

    model = get_model("smollm2-135m", home=Home.resolve(tmp_path_factory.mktemp("server-home")))
    info = ServerInfo(url=f"http://127.0.0.1:{free_port()}")
    port = int(info.url.rsplit(":", 1)[1])
    server = uvicorn.Server(uvicorn.Config(build_app(model, info.hits), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 30
    while not server.started:
        if time.time() > deadline or not thread.is_alive():
            raise RuntimeError("test OpenAI server did not start")
        time.sleep(0.05)
    yield info
    server.should_exit = True
    thread.join(timeout=10)
