"""What the app loads once per process (``st.cache_resource``), shared by every tab and rerun.

Routes hold loaded models and open indexes, so a rerun with warm caches costs milliseconds. A
route is keyed by ``(name, adapter, home, collection)`` and the adapter's GGUF exports on disk:
switching the adapter or the data dir loads another one, and so does an export that finishes
(the finetuned route prefers a GGUF export, found when the route is built), and two browser tabs asking the same route share it (each loaded model
takes one generation at a time behind its own lock). After an ingest or a delete the routes are
dropped (``clear_routes``) so the next question reads the changed index; the models themselves
stay loaded in the model registry's own cache.
"""

from __future__ import annotations

import os

import streamlit as st

from pathlib import Path

from assistant.routes import Route, RouteContext, build_route
from finetune import registry
from ingestion.errors import RagftError
from ingestion.home import Home

# `ragft ui --collection NAME` hands the collection over in the environment.
COLLECTION = os.environ.get("RAGFT_COLLECTION", "default")


def home() -> Home:
    """The data dir: $RAGFT_HOME, else the default (``ragft --home`` is the launcher's job)."""
    return Home.resolve(None)


def route(name: str, adapter: str | None, home_root: str, collection: str = COLLECTION) -> Route:
    """The loaded route; built again when the adapter gained (or lost) a GGUF export since."""
    return _route(name, adapter, home_root, collection, _exports(adapter, home_root))


def _exports(adapter: str | None, home_root: str) -> tuple[str, ...]:
    """The adapter's GGUF files that exist now: one small JSON read per question."""
    if not adapter:
        return ()
    try:
        entry = registry.read_entry(Home.resolve(home_root), adapter)
    except RagftError:
        return ()  # building the route reports the missing adapter properly
    return tuple(sorted(e["path"] for e in entry.get("exports") or []
                        if e.get("format") == "gguf" and e.get("path") and Path(e["path"]).is_file()))


@st.cache_resource(show_spinner="Loading the route's models and index...", max_entries=16)
def _route(name: str, adapter: str | None, home_root: str, collection: str, exports: tuple[str, ...]) -> Route:
    # ``exports`` is only part of the cache key: build_route finds the export in the registry itself.
    return build_route(name, RouteContext(home=Home.resolve(home_root), collection=collection, adapter=adapter))


def clear_routes() -> None:
    """Forget every loaded route: the index changed under them."""
    _route.clear()
