"""OpenAI-compatible HTTP backend (vLLM, TGI, Ollama, llama.cpp server, hosted APIs).

httpx does the HTTP (timeouts, streaming bodies); we parse the server-sent events of
``POST {base_url}/chat/completions`` with ``stream: true`` ourselves (a few lines) and retry
with backoff on connect errors, 429 and 5xx — only before the first token, so an answer is
never duplicated. Anything that is not the expected JSON becomes a one-line ModelError.
"""

from __future__ import annotations

import json
import math
import os
import time
from typing import Any, Callable, Generator, Iterator, Sequence

import httpx

from assistant.llm.base import ModelSpec
from ingestion.errors import ModelError
from rag.chat_model import ChatMessage, ChatStream, Completion, GenerationOptions, drain, validate_messages

DEFAULT_CONTEXT = 4096
_RETRY_STATUS = {429, 500, 502, 503, 504}


class OpenAIChatModel:
    def __init__(self, *, spec: ModelSpec) -> None:
        self.name = spec.name
        self.model = spec.model or ""
        self.base_url = (spec.base_url or "").rstrip("/")
        self.context_window = spec.context_window or DEFAULT_CONTEXT
        self.retries = spec.retries
        headers = {"Accept": "text/event-stream"}
        if spec.api_key_env:
            key = os.environ.get(spec.api_key_env)
            if not key:
                raise ModelError(f"{spec.name}: ${spec.api_key_env} is not set", fix=f"export {spec.api_key_env}=<your API key>")
            headers["Authorization"] = f"Bearer {key}"
        self._key_hint = f" in ${spec.api_key_env}" if spec.api_key_env else " (set api_key_env)"
        timeout = httpx.Timeout(spec.timeout_s, connect=min(10.0, spec.timeout_s))
        self._client = httpx.Client(base_url=self.base_url, timeout=timeout, headers=headers)

    def count_tokens(self, text: str) -> int:
        """An estimate (~4 characters a token): the server's tokenizer is not available here."""
        return max(1, math.ceil(len(text) / 4)) if text else 0

    def probe(self, timeout_s: float = 2.0) -> bool:
        """True when ``GET /models`` answers 200 (used by ``ragft models``)."""
        try:
            return self._client.get("/models", timeout=timeout_s).status_code == 200
        except httpx.HTTPError:
            return False

    def stream(self, messages: Sequence[ChatMessage], options: GenerationOptions | None = None) -> ChatStream:
        return ChatStream(self._run(validate_messages(messages), options or GenerationOptions()))

    def generate(
        self,
        messages: Sequence[ChatMessage],
        options: GenerationOptions | None = None,
        on_token: Callable[[str], None] | None = None,
    ) -> Completion:
        return drain(self.stream(messages, options), on_token)

    # -- request ------------------------------------------------------------------------------
    def _body(self, messages: list[ChatMessage], options: GenerationOptions) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": self.model,
            "messages": messages,
            "max_tokens": options.max_tokens,
            "temperature": 0.0 if options.greedy else options.temperature,
            "top_p": 1.0 if options.greedy else options.top_p,
            "stream": True,
            "stream_options": {"include_usage": True},  # final chunk carries token counts
        }
        if options.stop:
            body["stop"] = list(options.stop)
        if options.effective_seed is not None:
            body["seed"] = options.effective_seed
        return body

    def _open(self, body: dict[str, Any]) -> httpx.Response:
        """POST with retries; returns a 200 streaming response (the caller closes it)."""
        url = f"{self.base_url}/chat/completions"
        last = ""
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(min(0.5 * 2 ** (attempt - 1), 8.0))
            try:
                response = self._client.send(self._client.build_request("POST", "/chat/completions", json=body), stream=True)
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                last = f"cannot connect ({type(exc).__name__})"
                continue
            except httpx.TimeoutException as exc:
                last = f"no answer within the timeout ({type(exc).__name__})"
                continue
            if response.status_code == 200:
                return response
            text = response.read().decode("utf-8", "replace")[:200].replace("\n", " ")
            response.close()
            if response.status_code in (400, 422) and "stream_options" in text and "stream_options" in body:
                body = {k: v for k, v in body.items() if k != "stream_options"}  # older servers reject it
                return self._open(body)
            if response.status_code in _RETRY_STATUS:
                last = f"HTTP {response.status_code}: {text}"
                continue
            raise ModelError(f"{self.name}: {url} answered HTTP {response.status_code}: {text}", fix=self._fix_for(response.status_code))
        raise ModelError(
            f"{self.name}: {url} failed after {self.retries + 1} attempt(s): {last}",
            fix="start the server or check base_url (e.g. http://127.0.0.1:8000/v1)",
        )

    def _fix_for(self, status: int) -> str:
        if status in (401, 403):
            return f"check the API key{self._key_hint}"
        if status == 404:
            return f"check base_url (it usually ends in /v1) and the model name {self.model!r}"
        return "check the request options and the server's logs"

    # -- response -----------------------------------------------------------------------------
    def _events(self, response: httpx.Response) -> Iterator[dict[str, Any]]:
        """JSON objects from the SSE body (``data: {...}`` lines, up to ``data: [DONE]``)."""
        if response.headers.get("content-type", "").startswith("application/json"):
            yield self._parse(response.read().decode("utf-8", "replace"))  # server ignored stream=true
            return
        first, events = "", 0
        for line in response.iter_lines():
            first = first or line
            if not line or line.startswith(":") or not line.startswith("data:"):
                continue  # keep-alives, comments, event:/id: fields
            data = line[5:].strip()
            if data == "[DONE]":
                break
            events += 1
            yield self._parse(data)
        if not events:  # an HTML page, an empty body, a proxy's error text...
            raise ModelError(
                f"{self.name}: {self.base_url} answered without any completion events: {first[:80]!r}",
                fix="check that base_url points at an OpenAI-compatible /v1 API",
            )

    def _parse(self, data: str) -> dict[str, Any]:
        try:
            event = json.loads(data)
        except json.JSONDecodeError:
            event = None
        if isinstance(event, dict) and "error" in event:
            err = event["error"]
            raise ModelError(f"{self.name}: the endpoint reported an error: {err.get('message', err) if isinstance(err, dict) else err}")
        if not isinstance(event, dict) or not isinstance(event.get("choices"), list):
            raise ModelError(
                f"{self.name}: {self.base_url} sent a response that is not an OpenAI chat completion: {data[:80]!r}",
                fix="check that base_url points at an OpenAI-compatible /v1 API",
            )
        return event

    def _run(self, messages: list[ChatMessage], options: GenerationOptions) -> Generator[str, None, Completion]:
        start = time.perf_counter()
        response = self._open(self._body(messages, options))
        text, first_s, pieces, finish, usage = "", 0.0, 0, "stop", None
        try:
            for event in self._events(response):
                usage = event.get("usage") or usage
                for choice in event["choices"][:1]:
                    piece = (choice.get("delta") or choice.get("message") or {}).get("content") or ""
                    finish = choice.get("finish_reason") or finish
                    if piece:
                        if not first_s:
                            first_s = time.perf_counter() - start
                        pieces += 1
                        text += piece
                        yield piece
        except httpx.TimeoutException as exc:
            raise ModelError(f"{self.name}: {self.base_url} stopped sending tokens ({type(exc).__name__})", fix="raise timeout_s or check the server's load") from exc
        except httpx.HTTPError as exc:
            raise ModelError(f"{self.name}: the connection to {self.base_url} broke: {exc}", fix="check the server, then retry") from exc
        finally:
            response.close()
        usage = usage if isinstance(usage, dict) else {}
        prompt = usage.get("prompt_tokens") or sum(self.count_tokens(m["content"]) for m in messages)
        return Completion(
            text=text,
            prompt_tokens=int(prompt),
            completion_tokens=int(usage.get("completion_tokens") or pieces),
            first_token_s=first_s,
            total_s=time.perf_counter() - start,
            finish_reason="length" if finish == "length" else "stop",
            model=self.name,
        )
