"""Compare: one question, several routes side by side, answering in parallel as they stream.

Same call as ``ragft compare QUESTION --routes a,b``: ``assistant.compare.compare`` runs the routes
in threads; their pieces come back through a queue that this script drains into one column per
route (Streamlit elements are written from the script thread only). Like the CLI, every comparison
is stored in the arena with its answers; its id is shown for ``ragft vote`` (the Arena page is the
blind way to vote).
"""

from __future__ import annotations

import queue
import threading

import streamlit as st

from assistant.arena.store import record_comparison
from assistant.compare import DEFAULT_ROUTES, compare
from assistant.routes import ROUTES
from ingestion.errors import RagftError
from ui import resources
from ui.components import guard, passages, render_answer

LAST = "compare_last"  # {"question", "results": [result dict per route], "comparison_id"}

st.title("Compare")
home = resources.home()
question = st.text_input("Question", key="compare_question")
names = list(ROUTES)
chosen = st.multiselect("Routes", names, default=[r for r in DEFAULT_ROUTES if r in names], key="compare_routes")
adapter = st.session_state.get("adapter")
go = st.button("Compare", type="primary", key="compare_go")


def draw(results: list[dict]) -> None:
    for col, result in zip(st.columns(len(results)), results):
        with col:
            st.subheader(result["route"])
            render_answer(result)


if go:
    if not question.strip():
        st.error("Type a question first (the Question box is empty).")
    elif not chosen:
        st.error("Pick at least one route (the Routes box is empty).")
    else:
        routes = {}
        for name in chosen:  # load in the script thread: st.cache_resource shows its spinner here
            try:
                routes[name] = resources.route(name, adapter, str(home.root))
            except RagftError as err:
                routes[name] = err
        columns = dict(zip(chosen, st.columns(len(chosen))))
        boxes = {}
        for name, col in columns.items():
            with col:
                st.subheader(name)
                boxes[name] = st.empty()
        pieces: queue.Queue[tuple[str, str]] = queue.Queue()
        done: dict[str, list] = {}

        def work() -> None:
            try:
                done["outcomes"] = compare(question, routes, on_token=lambda name, piece: pieces.put((name, piece)))
            except Exception as exc:  # reported below, in the script thread
                done["error"] = exc

        worker = threading.Thread(target=work, name="compare", daemon=True)
        worker.start()
        texts = {name: "" for name in chosen}
        while worker.is_alive() or not pieces.empty():
            try:
                name, piece = pieces.get(timeout=0.05)
            except queue.Empty:
                continue
            texts[name] += piece
            boxes[name].markdown(texts[name] + " ▌")
        worker.join()
        for box in boxes.values():
            box.empty()
        with guard("Compare"):
            if "error" in done:
                raise done["error"]
            results = []
            for outcome in done["outcomes"]:
                result = outcome.to_dict()
                if outcome.ok:
                    result["passages"] = passages(home, result["citations"])
                results.append(result)
            cid = record_comparison(home, question, [o.to_dict() for o in done["outcomes"]], collection=resources.COLLECTION)
            st.session_state[LAST] = {"question": question, "results": results, "comparison_id": cid}
            for name, result in zip(chosen, results):
                with columns[name]:
                    render_answer(result)
            if len(results) > 1:
                st.caption(f"Comparison `{cid}`: vote with `ragft vote {cid} --winner a|b|tie|bad` (A is the first route)")
elif last := st.session_state.get(LAST):
    st.caption(f"Last comparison: {last['question']}")
    draw(last["results"])
