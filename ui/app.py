"""The ragft browser app: ``streamlit run ui/app.py`` (or ``ragft ui``).

A thin layer over the library: each page calls the same functions as the CLI (routes, compare,
ingest, dataset build, training jobs, the adapter registry). State lives in the data dir
($RAGFT_HOME), so a page reload or a second tab sees the same documents, jobs and adapters.
"""

from __future__ import annotations

import sys
from pathlib import Path

# `streamlit run ui/app.py` puts ui/ first on sys.path; the packages live one level up.
_ROOT = str(Path(__file__).resolve().parents[1])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)
from assistant.runtime import apply_defaults  # noqa: E402  (needs the sys.path entry above)

apply_defaults()  # before anything loads torch: see assistant/runtime.py

import streamlit as st  # noqa: E402

from ui.components import log_to_stderr  # noqa: E402

st.set_page_config(page_title="ragft", page_icon=":material/forum:", layout="wide")
log_to_stderr()


def show_profile() -> None:
    """Which base model every route runs on (``ragft --profile`` reaches the app as $RAGFT_PROFILE)."""
    from assistant.profiles import PROFILES, profile_name
    from ingestion.errors import RagftError

    try:
        name = profile_name()
    except RagftError as err:
        st.sidebar.error(err.one_line())
        return
    st.sidebar.caption(f"Model profile **{name}**: {PROFILES[name].description}; every route runs on it")


show_profile()

_PAGES = Path(__file__).resolve().parent / "pages"
page = st.navigation([
    st.Page(_PAGES / "chat.py", title="Chat", icon=":material/chat:", default=True),
    st.Page(_PAGES / "compare.py", title="Compare", icon=":material/compare_arrows:"),
    st.Page(_PAGES / "arena.py", title="Arena", icon=":material/how_to_vote:"),
    st.Page(_PAGES / "leaderboard.py", title="Leaderboard", icon=":material/leaderboard:"),
    st.Page(_PAGES / "evaluate.py", title="Evaluate", icon=":material/analytics:"),
    st.Page(_PAGES / "documents.py", title="Documents", icon=":material/description:"),
    st.Page(_PAGES / "finetune.py", title="Fine-tune", icon=":material/model_training:"),
])
page.run()
