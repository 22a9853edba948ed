"""Helpers shared by the command modules: data dir, index opening, progress bars."""

from __future__ import annotations

import argparse
import os
import sys
from contextlib import contextmanager
from typing import Iterator

from ingestion.home import Home


def home_of(args: argparse.Namespace) -> Home:
    return Home.resolve(args.home)


def profile_of(args: argparse.Namespace) -> str | None:
    """``ragft --profile`` (None: ``$RAGFT_PROFILE``, else tiny; see assistant/profiles.py)."""
    return getattr(args, "profile", None)


def add_collection_flags(parser: argparse.ArgumentParser, *, with_store: bool = True) -> None:
    parser.add_argument("--collection", default="default", help="collection name (default: default)")
    if with_store:
        parser.add_argument(
            "--store",
            default=None,
            help="vector store: chroma (default, embedded), faiss, or http://HOST:PORT for a Chroma server; "
            "a collection remembers the store it was created with",
        )


def progress_enabled() -> bool:
    return sys.stderr.isatty() or os.environ.get("RAGFT_PROGRESS") == "1"


@contextmanager
def progress_bar(desc: str, unit: str = "file") -> Iterator:
    """Yields ``update(done, total, label)``; draws a tqdm bar on stderr."""
    from tqdm import tqdm

    bar = tqdm(desc=desc, unit=unit, file=sys.stderr, disable=not progress_enabled(), dynamic_ncols=True)

    def update(done: int, total: int, label: str) -> None:
        bar.total = total
        bar.n = done
        bar.set_postfix_str(os.path.basename(label)[:40], refresh=False)
        bar.refresh()

    try:
        yield update
    finally:
        bar.close()
