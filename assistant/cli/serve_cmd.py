"""``ragft serve [--host 127.0.0.1] [--port 8000] [--api-keys FILE]``: the OpenAI-compatible API
over every route (``assistant.serve``): ``GET /v1/models``, ``POST /v1/chat/completions``,
``/healthz``, ``/metrics``.

API keys come from ``$RAGFT_API_KEYS`` (comma-separated) and/or ``--api-keys FILE`` (one a line);
with any set, a request without ``Authorization: Bearer KEY`` gets 401. Binding beyond loopback
without a key is refused at start: the routes read the team's documents.
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import sys
from pathlib import Path

from assistant.cli.common import home_of, profile_of
from ingestion.errors import ConfigError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="OpenAI-compatible API over every route (ragft-auto, ragft-naive, ...)")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1; beyond loopback needs API keys)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    p.add_argument("--api-keys", metavar="FILE", default=None, help="file of API keys, one a line (also $RAGFT_API_KEYS)")
    p.add_argument("--collection", default="default", help="collection the retrieval routes read (default: default)")
    p.add_argument("--adapter", default=None, help="adapter of the finetuned and hybrid routes (default: the newest)")
    p.add_argument("--model", default=None, help="model of the base, naive and agentic routes (default: the profile's)")
    p.add_argument("--max-tokens", type=int, default=256, help="max_tokens when a request gives none (default 256)")
    p.add_argument("--max-tokens-limit", type=int, default=2048, help="largest max_tokens a request may ask (default 2048)")
    p.set_defaults(handler=run, render=None)


def load_keys(path: str | None) -> tuple[str, ...]:
    keys = [k.strip() for k in os.environ.get("RAGFT_API_KEYS", "").split(",") if k.strip()]
    if path:
        try:
            keys += [line.strip() for line in Path(path).expanduser().read_text(encoding="utf-8").splitlines()
                     if line.strip() and not line.startswith("#")]
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"--api-keys {path}: cannot read ({exc})", fix="pass a text file with one key a line") from exc
    return tuple(dict.fromkeys(keys))


def loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def run(args: argparse.Namespace) -> None:
    import uvicorn

    from assistant.serve import ServeSettings, create_app

    keys = load_keys(args.api_keys)
    if not loopback(args.host) and not keys:
        raise ConfigError(f"--host {args.host} listens beyond this machine without an API key",
                          fix="set $RAGFT_API_KEYS or pass --api-keys FILE, or keep --host 127.0.0.1")
    if not 0 < args.port < 65536:
        raise ConfigError(f"--port {args.port} is not a port number", fix="use 1-65535")
    settings = ServeSettings(home=home_of(args), api_keys=keys, collection=args.collection, adapter=args.adapter,
                             model=args.model, profile=profile_of(args), default_max_tokens=args.max_tokens,
                             max_tokens_limit=args.max_tokens_limit)
    print(f"ragft serve: http://{args.host}:{args.port}/v1 ({'API keys required' if keys else 'no API key'}); "
          f"models ragft-auto, ragft-naive, ...; Ctrl-C stops", file=sys.stderr, flush=True)
    uvicorn.run(create_app(settings), host=args.host, port=args.port, log_level="warning")
