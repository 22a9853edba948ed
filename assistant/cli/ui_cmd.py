"""``ragft ui [--collection NAME] [--server.port N] [--server.headless true] ...``: the browser app.

Starts ``python -m streamlit run ui/app.py`` bound to 127.0.0.1, with usage statistics off.
Streamlit's own ``--server.*``, ``--browser.*``, ``--theme.*``, ``--client.*``, ``--runner.*``,
``--logger.*`` and ``--global.*`` flags pass through unchanged (later flags win, so
``--server.address 0.0.0.0`` overrides the loopback default); any other unknown flag is a usage
error (exit 2). ``--home`` reaches the app as ``$RAGFT_HOME`` and ``--collection`` as
``$RAGFT_COLLECTION`` (``ragft --profile`` as ``$RAGFT_PROFILE``). The command waits on the server, forwards SIGINT/SIGTERM to it, and exits
with its status.

Dependencies: streamlit (the app server; run as a module of this interpreter so the venv's
streamlit is used whatever is on PATH).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import signal
import subprocess
import sys
from pathlib import Path

from assistant.cli.common import profile_of
from assistant.profiles import ENV_VAR as PROFILE_ENV_VAR
from ingestion.errors import ConfigError
from ingestion.home import ENV_VAR as HOME_ENV_VAR
from ingestion.home import Home

COLLECTION_ENV_VAR = "RAGFT_COLLECTION"
# Streamlit config sections whose flags `streamlit run` accepts as --section.option.
STREAMLIT_SECTIONS = ("server", "browser", "theme", "client", "runner", "logger", "global", "magic", "mapbox")
DEFAULT_FLAGS = ("--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "ui",
        help="open the browser app (Streamlit); Streamlit's --server.*/--browser.*/--theme.* flags pass through",
        description="Start the Streamlit app on 127.0.0.1. Streamlit flags such as --server.port 8501, "
        "--server.headless true or --server.address 0.0.0.0 pass through to `streamlit run`.",
    )
    p.add_argument("--collection", default="default", help="collection the app reads (default: default)")
    p.set_defaults(handler=run, take_extra=take_streamlit_flags)


def take_streamlit_flags(args: argparse.Namespace, extra: list[str]) -> None:
    """Keep the flags meant for Streamlit in ``args.streamlit_flags``; anything else exits 2."""
    args.streamlit_flags = split_streamlit_flags(extra, error=usage_error)


def usage_error(message: str) -> None:
    print(f"ragft ui: error: {message}", file=sys.stderr)
    raise SystemExit(2)


def split_streamlit_flags(extra: list[str], *, error) -> list[str]:
    """``["--server.port", "8555", "--theme.base=dark"]`` -> the same list, checked.

    A flag is ``--section.option`` with a known section; its value is either after ``=`` or the
    next token (unless that token is itself a flag). Anything else calls ``error(message)``.
    """
    flags: list[str] = []
    i = 0
    while i < len(extra):
        token = extra[i]
        name = token.split("=", 1)[0]
        section = name[2:].split(".", 1)[0] if name.startswith("--") and "." in name else None
        if section not in STREAMLIT_SECTIONS:
            error(f"unrecognized argument: {token} (Streamlit flags look like --server.port 8501)")
            return []
        flags.append(token)
        if "=" not in token:
            if i + 1 >= len(extra) or extra[i + 1].startswith("--"):
                error(f"{token} needs a value, e.g. {token} true")
                return []
            flags.append(extra[i + 1])
            i += 1
        i += 1
    return flags


def app_script() -> Path:
    spec = importlib.util.find_spec("ui")
    script = Path(spec.origin).parent / "app.py" if spec and spec.origin else None
    if script is None or not script.is_file():
        raise ConfigError("the browser app ui/app.py is missing", fix="reinstall ragft (make setup)")
    return script


def build_command(streamlit_flags: list[str], script: Path) -> list[str]:
    """The child's argv: defaults first, so the user's flags (parsed later by click) win."""
    return [sys.executable, "-m", "streamlit", "run", str(script), *DEFAULT_FLAGS, *streamlit_flags]


def build_env(home: Home, collection: str, base: dict[str, str] | None = None, profile: str | None = None) -> dict[str, str]:
    env = dict(os.environ if base is None else base)
    env[HOME_ENV_VAR] = str(home.root)
    env[COLLECTION_ENV_VAR] = collection
    if profile:  # the app's routes read it through assistant.profiles
        env[PROFILE_ENV_VAR] = profile
    return env


def run(args: argparse.Namespace) -> None:
    home = Home.resolve(args.home)
    command = build_command(getattr(args, "streamlit_flags", []), app_script())
    child = subprocess.Popen(command, env=build_env(home, args.collection, profile=profile_of(args)))

    # The child shares our process group, so a terminal Ctrl-C reaches it directly as well;
    # forwarding covers `kill PID` on this process (Streamlit stops cleanly on a second signal).
    def forward(signum, _frame):
        if child.poll() is None:
            child.send_signal(signum)

    previous = {sig: signal.signal(sig, forward) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        code = child.wait()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    # Streamlit exits 0 after a clean stop; pass any other status on.
    raise SystemExit(code if code >= 0 else 128 - code)
