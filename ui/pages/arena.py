"""Arena: two routes drawn at random answer one question as "A" and "B"; vote, then see who was who.

Same library as ``ragft compare`` + ``ragft vote``: ``assistant.arena.draw`` picks the pair from the
routes that can answer here, ``assistant.compare.compare`` answers, ``assistant.arena.store`` keeps
the comparison (marked blind) and its one vote in ``HOME/arena.db``, so votes survive a restart and
two tabs voting at once both land. Nothing that names a route (route, model, adapter, reason,
trace) is drawn before the vote.
"""

from __future__ import annotations

import streamlit as st

from assistant.arena.draw import draw_pair, drawable_routes
from assistant.arena.store import ArenaStore, record_comparison
from assistant.compare import compare
from ingestion.errors import RagftError
from ui import resources
from ui.components import guard, passages, render_answer, render_blind

CURRENT = "arena_current"  # {"comparison_id", "question", "results", "winner"}
CHOICES = (("a", "A is better"), ("b", "B is better"), ("tie", "Tie"), ("bad", "Both are bad"))

st.title("Arena")
st.caption("Two routes, drawn at random, answer as A and B. Their names stay hidden until you vote.")
home = resources.home()
question = st.text_input("Question", key="arena_question")
go = st.button("Ask A and B", type="primary", key="arena_go")

if go:
    if not question.strip():
        st.error("Type a question first (the Question box is empty).")
    else:
        with guard("Arena"):
            pair = draw_pair(drawable_routes(home, resources.COLLECTION))
            routes = {}
            for name in pair:
                try:
                    routes[name] = resources.route(name, st.session_state.get("adapter"), str(home.root))
                except RagftError as err:
                    routes[name] = err
            with st.spinner("A and B are answering..."):
                outcomes = compare(question, routes)
            results = [o.to_dict() for o in outcomes]
            for result in results:
                result["passages"] = passages(home, result.get("citations") or [])
            stored = [{k: v for k, v in r.items() if k != "passages"} for r in results]
            cid = record_comparison(home, question, stored, collection=resources.COLLECTION, blind=True)
            st.session_state[CURRENT] = {"comparison_id": cid, "question": question, "results": results, "winner": None}

current = st.session_state.get(CURRENT)
if current:
    results, winner = current["results"], current["winner"]
    if winner is None:
        for col, mark, result in zip(st.columns(2), "AB", results):
            with col:
                st.subheader(mark)
                render_blind(result)
        clicked = [value for value, label in CHOICES
                   if st.button(label, key=f"arena_vote_{value}", use_container_width=True)]
        if clicked:
            with guard("Vote"):
                with ArenaStore.open(home) as store:
                    current["winner"] = store.vote(current["comparison_id"], clicked[0]).winner
                st.rerun()
    else:
        said = {"tie": "a tie", "bad": "both bad"}.get(winner, f"{winner.upper()} was better")
        st.success(f"Vote stored: {said}. A was **{results[0]['route']}**, B was **{results[1]['route']}**.")
        for col, mark, result in zip(st.columns(2), "AB", results):
            with col:
                st.subheader(f"{mark}: {result['route']}")
                render_answer(result)
