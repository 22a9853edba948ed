"""The FastAPI app behind ``ragft serve`` (see the package docstring for the endpoints).

A question's trip: the body is read and size-checked, parsed into ``schema.ChatRequest`` (a bad
field is a 400 naming it), the model id names the route, the route is loaded once and cached, and
``Route.answer`` runs on a worker thread; streamed pieces cross to the event loop through an
asyncio queue. When the client goes away, the response generator is cancelled and sets a flag
that the route's next token sees, which stops the generation there (llama.cpp and transformers
generate token by token, so this frees the model's lock within one token).
"""

from __future__ import annotations

import asyncio
import hmac
import json
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any, AsyncIterator

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from prometheus_client import CONTENT_TYPE_LATEST
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from assistant.routes import ROUTES, Route, RouteContext, RouteResult, build_route
from assistant.serve.metrics import Metrics
from assistant.serve.schema import ChatRequest, error_body
from ingestion.errors import ConfigError, RagftError
from ingestion.home import Home
from rag.chat_model import GenerationOptions

PREFIX = "ragft-"


@dataclass(frozen=True, kw_only=True)
class ServeSettings:
    home: Home
    api_keys: tuple[str, ...] = ()
    collection: str = "default"
    adapter: str | None = None
    profile: str | None = None
    model: str | None = None
    default_max_tokens: int = 256
    max_tokens_limit: int = 2048
    max_body_bytes: int = 1_000_000  # a chat request is a few KB; a megabyte is a mistake or an attack
    max_messages: int = 100

    def __post_init__(self) -> None:
        for name in ("default_max_tokens", "max_tokens_limit", "max_body_bytes", "max_messages"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"serve setting {name} must be a positive integer, not {value!r}")
        if self.default_max_tokens > self.max_tokens_limit:
            raise ConfigError("serve: the default max_tokens is above the limit", fix="lower --max-tokens or raise --max-tokens-limit")


class ApiError(Exception):
    def __init__(self, status: int, message: str, *, param: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.param, self.code = status, message, param, code


class ClientGone(Exception):
    """Raised inside the route's token callback once the streaming client has disconnected."""


class RouteCache:
    """Routes loaded once per (route, max_tokens, temperature); loading one key does not block others."""

    def __init__(self, settings: ServeSettings) -> None:
        self.settings = settings
        self._routes: dict[tuple, Route] = {}
        self._locks: dict[tuple, threading.Lock] = {}
        self._guard = threading.Lock()

    def get(self, name: str, max_tokens: int, temperature: float) -> Route:
        key = (name, max_tokens, temperature)
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            if key not in self._routes:
                s = self.settings
                options = GenerationOptions(max_tokens=max_tokens, temperature=temperature, deterministic=temperature == 0.0)
                self._routes[key] = build_route(name, RouteContext(
                    home=s.home, model=None if name in ("finetuned", "hybrid") else s.model, options=options,
                    collection=s.collection, adapter=s.adapter, profile=s.profile))
            return self._routes[key]


def model_ids() -> list[str]:
    return [PREFIX + r for r in ROUTES]


def _ragft_extra(result: RouteResult) -> dict[str, Any]:
    return {"route": result.route, "reason": result.reason, "answer": result.answer, "abstained": result.abstained,
            "citations": result.citations, "scores": result.scores, "stale": result.stale, "adapter": result.adapter,
            "steps": result.steps, "latency_s": result.latency_s}


def _usage(result: RouteResult) -> dict[str, int]:
    p, c = result.tokens.get("prompt", 0), result.tokens.get("completion", 0)
    return {"prompt_tokens": p, "completion_tokens": c, "total_tokens": p + c}


def create_app(settings: ServeSettings) -> FastAPI:
    app = FastAPI(title="ragft", docs_url=None, redoc_url=None)
    metrics = Metrics()
    routes = RouteCache(settings)
    app.state.metrics, app.state.routes = metrics, routes

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, err: ApiError) -> JSONResponse:
        return JSONResponse(error_body(err.message, status=err.status, param=err.param, code=err.code), status_code=err.status)

    def authorize(request: Request) -> None:
        if not settings.api_keys:
            return
        given = request.headers.get("authorization", "")
        token = given[7:] if given.lower().startswith("bearer ") else ""
        if not any(hmac.compare_digest(token.encode(), k.encode()) for k in settings.api_keys):
            raise ApiError(401, "missing or wrong API key: send `Authorization: Bearer KEY`", code="invalid_api_key")

    @app.get("/healthz")
    async def healthz() -> dict[str, Any]:
        return {"status": "ok", "models": model_ids()}

    @app.get("/metrics")
    async def prometheus(request: Request) -> Response:
        authorize(request)
        return Response(metrics.text(), media_type=CONTENT_TYPE_LATEST)

    @app.get("/v1/models")
    async def list_models(request: Request) -> dict[str, Any]:
        authorize(request)
        return {"object": "list", "data": [{"id": m, "object": "model", "created": 0, "owned_by": "ragft"} for m in model_ids()]}

    @app.post("/v1/chat/completions")
    async def chat(request: Request):
        authorize(request)
        req = await _parse(request)
        name = req.model.removeprefix(PREFIX)
        if not req.model.startswith(PREFIX) or name not in ROUTES:
            raise ApiError(404, f"model {req.model!r} does not exist; use one of {', '.join(model_ids())}", param="model",
                           code="model_not_found")
        max_tokens = req.token_limit() or settings.default_max_tokens
        if max_tokens > settings.max_tokens_limit:
            raise ApiError(400, f"max_tokens {max_tokens} is above this server's limit {settings.max_tokens_limit}",
                           param="max_tokens", code="max_tokens_too_large")
        started = time.perf_counter()
        try:
            route = await run_in_threadpool(routes.get, name, max_tokens, float(req.temperature or 0.0))
        except RagftError as err:
            metrics.errors.labels(name, "route_unavailable").inc()
            raise ApiError(400, f"route {name} cannot answer here: {err.one_line()}", param="model", code="route_unavailable") from err
        cid, created = f"chatcmpl-{uuid.uuid4().hex[:24]}", int(time.time())
        if req.stream:
            return StreamingResponse(_stream(route, name, req, cid, created, started), media_type="text/event-stream")
        try:
            result = await run_in_threadpool(route.answer, req.question())
        except RagftError as err:
            metrics.errors.labels(name, "answer_failed").inc()
            raise ApiError(500, err.one_line(), code="answer_failed") from err
        _count(name, result, started, "200")
        return {"id": cid, "object": "chat.completion", "created": created, "model": req.model,
                "choices": [{"index": 0, "message": {"role": "assistant", "content": result.answer}, "finish_reason": "stop"}],
                "usage": _usage(result), "ragft": _ragft_extra(result)}

    async def _parse(request: Request) -> ChatRequest:
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > settings.max_body_bytes:
            raise ApiError(413, f"request body of {declared} bytes is above the limit of {settings.max_body_bytes}", code="body_too_large")
        body = await request.body()
        if len(body) > settings.max_body_bytes:
            raise ApiError(413, f"request body is above the limit of {settings.max_body_bytes} bytes", code="body_too_large")
        try:
            raw = json.loads(body)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ApiError(400, f"request body is not JSON ({exc})", code="invalid_json") from None
        if not isinstance(raw, dict):
            raise ApiError(400, "request body must be a JSON object", code="invalid_json")
        if isinstance(raw.get("messages"), list) and len(raw["messages"]) > settings.max_messages:
            raise ApiError(400, f"{len(raw['messages'])} messages is above this server's limit of {settings.max_messages}",
                           param="messages", code="too_many_messages")
        try:
            return ChatRequest.model_validate(raw)
        except ValidationError as exc:
            first = exc.errors()[0]
            param = ".".join(str(p) for p in first["loc"]) or None
            raise ApiError(400, f"{param or 'body'}: {first['msg']}", param=param, code="invalid_value") from None

    def _count(name: str, result: RouteResult, started: float, status: str) -> None:
        metrics.requests.labels(name, status).inc()
        metrics.latency.labels(name).observe(time.perf_counter() - started)
        metrics.tokens.labels(name).inc(result.tokens.get("completion", 0))

    async def _stream(route: Route, name: str, req: ChatRequest, cid: str, created: int, started: float) -> AsyncIterator[str]:
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue = asyncio.Queue()
        gone = threading.Event()

        def on_token(piece: str) -> None:
            if gone.is_set():
                raise ClientGone()
            loop.call_soon_threadsafe(queue.put_nowait, ("piece", piece))

        def work() -> None:
            try:
                outcome = ("done", route.answer(req.question(), on_token=on_token))
            except ClientGone:
                outcome = ("gone", None)
            except Exception as exc:  # noqa: BLE001 - sent to the client as an error event
                outcome = ("error", exc)
            try:
                loop.call_soon_threadsafe(queue.put_nowait, outcome)
            except RuntimeError:  # the loop closed (server shutting down)
                pass

        def chunk(delta: dict, finish: str | None = None, **extra: Any) -> str:
            body = {"id": cid, "object": "chat.completion.chunk", "created": created, "model": req.model,
                    "choices": [{"index": 0, "delta": delta, "finish_reason": finish}], **extra}
            return f"data: {json.dumps(body, ensure_ascii=False)}\n\n"

        threading.Thread(target=work, name=f"serve-{name}", daemon=True).start()
        finished = False
        try:
            yield chunk({"role": "assistant", "content": ""})
            while True:
                kind, value = await queue.get()
                if kind == "piece":
                    yield chunk({"content": value})
                    continue
                finished = True
                if kind == "done":
                    _count(name, value, started, "200")
                    yield chunk({}, "stop", usage=_usage(value), ragft=_ragft_extra(value))
                    yield "data: [DONE]\n\n"
                else:
                    metrics.errors.labels(name, "answer_failed").inc()
                    message = value.one_line() if isinstance(value, RagftError) else f"{type(value).__name__}: {value}"
                    yield f"data: {json.dumps(error_body(message, status=500, code='answer_failed'))}\n\n"
                return
        finally:
            if not finished:  # the client went away mid-answer (the response was cancelled)
                metrics.cancelled.labels(name).inc()
            gone.set()  # the route's next token raises ClientGone and its generation stops there

    return app
