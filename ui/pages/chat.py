"""Chat: ask the documents on any route; answers stream in, each with its sources and timings.

Same call as ``ragft ask --route R [--adapter A]``: ``build_route(...).answer(question, on_token=...)``.
The conversation lives in this tab's ``st.session_state``; the route (models + index) is loaded
once per process and shared.
"""

from __future__ import annotations

import streamlit as st

from assistant.routes import ROUTES
from finetune import registry
from ui import resources
from ui.components import guard, passages, render_answer

HISTORY = "chat_history"  # [{"question", "result": RouteResult dict + passages}]

st.title("Chat")
home = resources.home()
names = list(ROUTES)  # routes register in assistant.routes; new ones show up here
route_name = st.selectbox("Route", names, index=names.index("auto") if "auto" in names else 0, key="chat_route")

adapters: list[str] = []
with guard("Listing adapters"):
    done = [a for a in registry.list_adapters(home) if a.get("status") == "complete"]
    adapters = [a["name"] for a in sorted(done, key=lambda a: a.get("created_at") or "")]  # newest last
adapter = None
if adapters:
    chosen = st.session_state.get("adapter")
    adapter = st.selectbox("Adapter", adapters, index=adapters.index(chosen) if chosen in adapters else len(adapters) - 1,
                           help="the fine-tuned adapter the finetuned and hybrid routes use")
    st.session_state["adapter"] = adapter

history: list[dict] = st.session_state.setdefault(HISTORY, [])
for turn in history:
    with st.chat_message("user"):
        st.markdown(turn["question"])
    with st.chat_message("assistant"):
        render_answer(turn["result"])

if question := st.chat_input("Ask about your documents"):
    with st.chat_message("user"):
        st.markdown(question)
    with st.chat_message("assistant"):
        with guard(f"Route {route_name}"):
            route = resources.route(route_name, adapter, str(home.root))
            shown = st.empty()
            streamed: list[str] = []

            def on_token(piece: str) -> None:
                streamed.append(piece)
                shown.markdown("".join(streamed) + " ▌")

            result = route.answer(question, on_token=on_token).to_dict()
            shown.empty()
            result["passages"] = passages(home, result["citations"])
            history.append({"question": question, "result": result})
            render_answer(result)

if history and st.sidebar.button("Clear conversation", key="chat_clear"):
    history.clear()
    st.rerun()
