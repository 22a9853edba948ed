"""One writer at a time per data dir: ``writer_lock(home)`` around every ingest and removal.

    with writer_lock(home, say=print_to_stderr):   # waits (saying for whom) while another writer runs
        ...

Two ``ragft ingest`` runs (or the app's upload and a CLI ingest) on one data dir would interleave
their record, lexical and vector writes; the lock serialises them, so the second runs after the
first on what the first left. It is an OS file lock (``filelock``, the lock the Hugging Face hub
cache uses): a process killed with SIGKILL releases it with its file descriptor, so a crash never
leaves the data dir locked. Beside the lock, ``writer.json`` names the holder (pid, command,
since) for the waiting message; a stale one (its process gone) is only informational.
"""

from __future__ import annotations

import json
import os
import sys
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Callable, Iterator

from filelock import FileLock, Timeout

from ingestion.errors import ConfigError
from ingestion.home import Home

DEFAULT_WAIT_S = 3600.0  # an ingest of a large corpus takes minutes; waiting an hour is still "serialised"
ENV_WAIT = "RAGFT_LOCK_WAIT_S"


def _wait_s() -> float:
    raw = os.environ.get(ENV_WAIT)
    if raw is None:
        return DEFAULT_WAIT_S
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"${ENV_WAIT} must be a number of seconds, not {raw!r}") from None
    if value < 0:
        raise ConfigError(f"${ENV_WAIT} must be 0 or more, not {raw!r}")
    return value


def _holder(path) -> str:
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
        return f"pid {info['pid']} ({info['command']}, since {info['since']})"
    except (OSError, ValueError, KeyError, TypeError):
        return "another process"


def _say_stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@contextmanager
def writer_lock(home: Home, *, say: Callable[[str], None] | None = _say_stderr, wait_s: float | None = None) -> Iterator[None]:
    """Hold the data dir's writer lock; waits up to ``wait_s`` (``$RAGFT_LOCK_WAIT_S``, default an hour)."""
    folder = home.root / "locks"
    folder.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(folder / "writer.lock"))
    owner = folder / "writer.json"
    limit = _wait_s() if wait_s is None else wait_s
    try:
        lock.acquire(timeout=0)
    except Timeout:
        if say:
            say(f"ragft: waiting for the other writer of {home.root} to finish: {_holder(owner)}")
        start = time.monotonic()
        try:
            lock.acquire(timeout=limit)
        except Timeout:
            raise ConfigError(f"the data dir {home.root} is still being written by {_holder(owner)} after {limit:.0f} s",
                              fix=f"wait for it to finish (or stop it), or raise ${ENV_WAIT}") from None
        if say:
            say(f"ragft: the other writer finished after {time.monotonic() - start:.1f} s; going on")
    try:
        command = " ".join(os.path.basename(a) if i == 0 else a for i, a in enumerate(sys.argv[:3]))
        owner.write_text(json.dumps({"pid": os.getpid(), "command": command or "python",
                                     "since": datetime.now(timezone.utc).isoformat(timespec="seconds")}), encoding="utf-8")
        yield
    finally:
        lock.release()
