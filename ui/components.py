"""Pieces every page draws the same way: an answer with its caption, sources, badges and trace.

An answer is the dict ``RouteResult.to_dict()`` gives (the object ``ragft ask --json`` prints),
plus ``passages``: ``{chunk_id: text}`` of the cited chunks, read once from the record database
when the answer arrives so that redrawing the history costs no database reads.
"""

from __future__ import annotations

import contextlib
import logging
import sys
from pathlib import Path
from typing import Any, Iterator

import streamlit as st

from assistant.routes.scored import cited_chunks
from assistant.scoring import describe
from ingestion.errors import RagftError
from ingestion.home import Home

log = logging.getLogger("ragft.ui")


@contextlib.contextmanager
def guard(action: str) -> Iterator[None]:
    """Show a failure as one ``st.error`` line (message + fix), never a traceback."""
    try:
        yield
    except RagftError as err:
        st.error(err.one_line())
    except Exception as exc:  # an unexpected bug: one line here, the traceback in the server log
        log.exception("%s failed", action)
        st.error(f"{action} failed: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''} "
                 "(see the terminal running the app for details)")


def passages(home: Home, citations: list[dict[str, Any]]) -> dict[str, str]:
    """``{chunk_id: chunk text}`` for the cited chunks that are still in the records."""
    return cited_chunks(home, citations)


def _md_escape(text: str) -> str:
    """Escape what Streamlit markdown would interpret inside a highlight directive."""
    for ch in ("\\", "[", "]", "*", "_", "`", "$", "#", "<", ">", "|"):
        text = text.replace(ch, "\\" + ch)
    return " ".join(text.split())


def highlighted(passage: str, span: str) -> str:
    """The passage as markdown with ``span`` (the supporting sentence) on an orange background."""
    span = (span or "").strip()
    if not passage:
        return f":orange-background[{_md_escape(span)}]" if span else ""
    at = passage.find(span) if span else -1
    if at < 0:
        return _md_escape(passage) + (f"\n\n:orange-background[{_md_escape(span)}]" if span else "")
    before, after = passage[:at], passage[at + len(span):]
    return f"{_md_escape(before)} :orange-background[{_md_escape(span)}] {_md_escape(after)}".strip()


def caption_line(result: dict[str, Any]) -> str:
    tokens = (result.get("tokens") or {}).get("completion", 0)
    return f"{result.get('route', '?')} · {result.get('model') or '?'} · {tokens} tokens · {result.get('latency_s', 0.0):.2f} s"


def scores_line(result: dict[str, Any]) -> str:
    """``faithfulness 1.00 · answer_relevance 0.67 · ...``: the answer's scores (``assistant.scoring``)."""
    return describe(result.get("scores") or {})


def source_names(citations: list[dict[str, Any]]) -> list[str]:
    """Each cited source once, in citation order."""
    return list(dict.fromkeys(c.get("source", "?") for c in citations))


def render_answer(result: dict[str, Any]) -> None:
    """Answer text, caption, badges, "Sources (N)" and (agentic) "Agent trace" for one result."""
    if result.get("error"):
        st.error(result["error"])
        return
    if result.get("stale"):
        st.badge("stale", icon=":material/warning:", color="orange",
                 help="this adapter's training documents changed in the index since it was trained")
    st.markdown(result.get("answer") or "_(no answer)_")
    if result.get("abstained"):
        st.info(f"The route abstained: {result.get('reason', '')}", icon=":material/help:")
    st.caption(caption_line(result) + (f" · adapter {result['adapter']}" if result.get("adapter") else ""))
    if scores := scores_line(result):
        st.caption(f"Scores: {scores}")
    _sources(result)
    if result.get("route") in ("agentic", "auto"):
        with st.expander("Agent trace" if result.get("route") == "agentic" else "Router and trace"):
            for n, step in enumerate(result.get("steps") or [], 1):
                st.markdown(f"**{n}. {_md_escape(str(step.get('step') or step.get('name') or step.get('node') or 'step'))}**")
                st.json(step, expanded=False)


def render_blind(result: dict[str, Any]) -> None:
    """An answer with nothing that names its route: text, scores, tokens, time and sources (the
    arena shows route, model, adapter, reason and trace only after the vote)."""
    if result.get("error"):
        st.error("This side failed to answer.")
        return
    st.markdown(result.get("answer") or "_(no answer)_")
    if result.get("abstained"):
        st.info("This side declined to answer.", icon=":material/help:")
    tokens = (result.get("tokens") or {}).get("completion", 0)
    st.caption(" · ".join(x for x in (f"{tokens} tokens", f"{result.get('latency_s', 0.0):.2f} s", scores_line(result)) if x))
    _sources(result)


def _sources(result: dict[str, Any]) -> None:
    citations = result.get("citations") or []
    texts = result.get("passages") or {}
    if citations:  # the file names without a click; the passages stay in the expander
        st.caption("Sources: " + ", ".join(f"`{Path(s).name}`" for s in source_names(citations)))
    with st.expander(f"Sources ({len(citations)})"):
        if not citations:
            st.write("No sources: this answer does not rest on retrieved documents.")
        for i, c in enumerate(citations, 1):
            st.markdown(f"{i}. **{_md_escape(Path(c.get('source', '?')).name)}**")
            st.markdown(highlighted(texts.get(c.get("chunk_id", ""), ""), c.get("span", "")))
            st.caption(c.get("source", ""))


def log_to_stderr() -> None:
    """Unexpected errors go to the terminal that runs the app (the page shows one line)."""
    if not log.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)
