"""Evaluate: every route on a question set, in the background, and the report with its plots.

Same calls as ``ragft eval``: the run is a detached ``ragft eval ... --report`` started by
``assistant.jobs.start_eval`` (its state lives under HOME, so it survives a reload and never blocks
the chat; starting the same evaluation again resumes it), progress is the run's own answer count,
and the report is the run's ``summary.json`` drawn with ``assistant.evaluation.plots``. The jobs
panel redraws itself every two seconds while a run is going (``st.fragment(run_every=...)``).
"""

from __future__ import annotations

import json
from pathlib import Path

import streamlit as st

from assistant import jobs
from assistant.evaluation import EvalSettings, history
from assistant.evaluation.runner import default_routes
from assistant.evaluation.plots import PLOTS
from assistant.evaluation.report import blocks
from assistant.routes import ROUTES
from ingestion.errors import ConfigError
from ui import resources
from ui.components import guard

st.title("Evaluate")
home = resources.home()
sets = home.root / "sample-eval"

# -- 1. start -------------------------------------------------------------------------------
st.subheader("New evaluation")
st.caption("Question files are JSONL: `--qa` rows `{id, question, answers, source?, kind?}` (no answers: unanswerable), "
           "`--fresh` rows `{id, question, old_answers, new_answers, source, deleted?}`. `ragft sample` writes both for the sample corpus.")
qa = st.text_input("Questions (--qa)", value=str(sets / "qa-stable.jsonl") if (sets / "qa-stable.jsonl").is_file() else "",
                   key="eval_qa")
fresh = st.text_input("Changed facts (--fresh, optional)", value=str(sets / "fresh.jsonl") if (sets / "fresh.jsonl").is_file() else "",
                      key="eval_fresh")
with guard("Listing adapters"):
    defaults = list(default_routes(home))
routes = st.multiselect("Routes", list(ROUTES), default=[r for r in ROUTES if r in defaults], key="eval_routes")
if st.button("Start evaluation", type="primary", key="eval_start"):
    with guard("Start evaluation"):
        if not qa.strip() and not fresh.strip():
            raise ConfigError("no question file given", fix="fill in Questions and/or Changed facts")
        settings = EvalSettings(routes=tuple(routes), qa=Path(qa).expanduser() if qa.strip() else None,
                                fresh=Path(fresh).expanduser() if fresh.strip() else None, collection=resources.COLLECTION,
                                adapter=st.session_state.get("adapter"))
        job = jobs.start_eval(home, settings)
        st.session_state["eval_open"] = job["name"]
        st.success(f"Evaluation {job['name']} started in the background ({job['total']} answers); the chat stays usable.")

RUNNING = "eval_running"
with guard("Reading the evaluations"):
    any_running = any(j["state"] == "running" for j in jobs.list_evals(home))


@st.fragment(run_every=2.0 if any_running else None)
def jobs_panel() -> None:
    with guard("Reading the evaluations"):
        listed = jobs.list_evals(home)
        running = {j["name"] for j in listed if j["state"] == "running"}
        finished = st.session_state.get(RUNNING, set()) - running
        st.session_state[RUNNING] = running
        if finished:  # a run just ended: redraw the page so its report opens below
            st.rerun()
        for job in listed[:5]:
            with st.container(border=True):
                st.markdown(f"**{job['name']} · {', '.join(job['routes'] or [])} · {job['state']}**")
                st.progress(job["progress"], text=f"{job['done']}/{job['total']} answers")
                if job["error"]:
                    st.error(job["error"])


jobs_panel()

# -- 2. reports -----------------------------------------------------------------------------
st.subheader("Reports")
with guard("Listing runs"):
    runs = [r for r in history.runs(home) if r["summary"]]
    if not runs:
        st.info("No finished evaluation yet.")
    else:
        ids = [r["run_id"] for r in runs]
        opened = st.session_state.get("eval_open")
        pick = st.selectbox("Run", ids, index=ids.index(opened) if opened in ids else 0, key="eval_pick",
                            format_func=lambda i: next(f"{i} · {r['started_at']} · {','.join(r['routes'] or [])}" for r in runs if r["run_id"] == i))
        summary = history.load(home, pick)
        figures = {name: fig for name, draw in PLOTS.items() if (fig := draw(summary)) is not None}
        for block in blocks(summary, list(figures)):
            if block[0] == "h1":
                continue
            if block[0] == "h2":
                st.markdown(f"#### {block[1]}")
            elif block[0] == "p":
                st.markdown(block[1])
            elif block[0] == "table":
                st.dataframe([dict(zip(block[1], row)) for row in block[2]], hide_index=True)
            elif block[0] == "img":
                st.pyplot(figures[block[1].removesuffix(".png")], clear_figure=False)
        with st.expander("Per-question results"):
            answers = Path(home.root / "evals" / pick / "answers.jsonl")
            rows = [json.loads(line) for line in answers.read_text(encoding="utf-8").splitlines() if line.strip()]
            st.dataframe([{k: r.get(k) for k in ("route", "set", "id", "kind", "question", "answer", "abstained", "correct",
                                                  "outcome", "chosen", "latency_s")} for r in rows], hide_index=True)
        report = home.root / "evals" / pick / "report" / "report.html"
        if report.is_file():
            st.download_button("Download report.html", report.read_bytes(), file_name=f"ragft-eval-{pick}.html", mime="text/html")
