"""What the app loads once per process (``st.cache_resource``), shared by every tab and rerun.

Routes hold loaded models and open indexes, so a rerun with warm caches costs milliseconds. A
route is keyed by ``(name, adapter, home, collection)``: switching the adapter or the data dir
loads another one, and two browser tabs asking the same route share it (each loaded model
takes one generation at a time behind its own lock). After an ingest or a delete the routes are
dropped (``clear_routes``) so the next question reads the changed index; the models themselves
stay loaded in the model registry's own cache.
"""

from __future__ import annotations

import os

import streamlit as st

from assistant.routes import Route, RouteContext, build_route
from ingestion.home import Home

# `ragft ui --collection NAME` hands the collection over in the environment.
COLLECTION = os.environ.get("RAGFT_COLLECTION", "default")


def home() -> Home:
    """The data dir: $RAGFT_HOME, else the default (``ragft --home`` is the launcher's job)."""
    return Home.resolve(None)


@st.cache_resource(show_spinner="Loading the route's models and index...", max_entries=16)
def route(name: str, adapter: str | None, home_root: str, collection: str = COLLECTION) -> Route:
    return build_route(name, RouteContext(home=Home.resolve(home_root), collection=collection, adapter=adapter))


def clear_routes() -> None:
    """Forget every loaded route: the index changed under them."""
    route.clear()
