"""``ragft serve``: an OpenAI-compatible API over every route, for the clients teams already run.

    app = create_app(ServeSettings(home=home, api_keys=("sekret",)))
    uvicorn.run(app, host="127.0.0.1", port=8000)

``GET /v1/models`` lists one model per route (``ragft-auto``, ``ragft-naive``, ...);
``POST /v1/chat/completions`` answers the last user message on that route, streamed (SSE ending
with ``data: [DONE]``) or not, in OpenAI's response and error shapes, with the route's citations,
scores, ``stale``, ``steps`` and reason in an extra ``ragft`` field. ``/healthz`` answers without a
key; ``/metrics`` is Prometheus text (requests, latency histogram, tokens and errors by route).

Modules: ``schema`` (request validation, OpenAI error bodies), ``metrics`` (prometheus_client
collectors, one registry per app), ``app`` (the FastAPI app: auth, limits, routes loaded once per
(route, max_tokens, temperature) and shared by every request; a request runs on a worker thread,
so requests to different routes proceed in parallel and requests to one model take turns on its
lock; a client that disconnects mid-stream stops its generation at the next token).
"""

from assistant.serve.app import ServeSettings, create_app

__all__ = ["ServeSettings", "create_app"]
