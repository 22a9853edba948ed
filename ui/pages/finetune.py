"""Fine-tune: build a dataset from chosen documents, train an adapter in the background, manage adapters.

Same calls as the CLI: ``finetune.dataset.build.build_dataset`` (``ragft dataset build``), a
detached ``ragft finetune`` started by ``assistant.jobs`` (its state lives under HOME, so it
survives a reload and never blocks the chat), ``finetune.registry`` (``ragft adapters``) and a
detached ``ragft export --format gguf`` started the same way (merging, quantizing and verifying
take minutes). The jobs panel redraws itself every two seconds while a job runs
(``st.fragment(run_every=...)``), reading metrics.jsonl for the curve; when an export finishes the
whole page reruns, and the chat's finetuned route picks the GGUF up on its next question
(``ui.resources`` keys loaded routes by the adapter's exports).
"""

from __future__ import annotations

import json
from pathlib import Path

import streamlit as st

from assistant import jobs
from finetune import registry
from finetune.dataset.build import DatasetConfig, build_dataset
from finetune.dataset.card import card_path
from ingestion.errors import ConfigError
from ingestion.records import RecordManager
from ui import resources
from ui.components import guard

st.title("Fine-tune")
home = resources.home()
datasets_dir = home.root / "datasets"

with guard("Listing adapters"):
    adapters = registry.list_adapters(home)
    if not adapters:
        st.info("No adapter yet. Build a dataset from your documents below and start the **quick** preset "
                "(about 10 minutes on a 2-core laptop for the sample corpus); the Chat page's finetuned route uses it.")

# -- 1. dataset ------------------------------------------------------------------------------
st.subheader("Build dataset")
with guard("Reading the documents"):
    records = RecordManager(home.records_db)
    try:
        sources = sorted(records.documents(resources.COLLECTION))
    finally:
        records.close()
    chosen = st.multiselect("Documents", sources, default=sources, key="finetune_docs",
                            format_func=lambda s: Path(s).name, placeholder="ingest documents on the Documents page first")
    ds_name = st.text_input("Dataset name", value="docs", key="finetune_dataset_name")
    if st.button("Build dataset", key="finetune_build"):
        with guard("Build dataset"):
            if not chosen:
                raise ConfigError("no documents chosen", fix="pick documents in the Documents box (ingest some first)")
            registry.validate_name(ds_name, flag="Dataset name")
            bar = st.progress(0.0, text="Reading documents...")
            result = build_dataset(chosen, datasets_dir / f"{ds_name}.jsonl", DatasetConfig(),
                                   progress=lambda d, t, label: bar.progress(d / t if t else 1.0, text=f"{d}/{t} {Path(label).name}"))
            bar.empty()
            st.session_state["finetune_dataset"] = str(result.out)
            st.success(f"{result.examples} examples from {result.facts} facts "
                       f"({result.counts['train']} train, {result.counts['validation']} validation, {result.counts['test']} test); "
                       "leakage check passed")

existing = sorted(datasets_dir.glob("*.jsonl")) if datasets_dir.is_dir() else []
dataset = None
if existing:
    names = [str(p) for p in existing]
    picked = st.session_state.get("finetune_dataset")
    dataset = st.selectbox("Dataset", names, index=names.index(picked) if picked in names else 0, format_func=lambda s: Path(s).name)
    st.session_state["finetune_dataset"] = dataset
    with st.expander("Data card and sample rows"):
        with guard("Reading the dataset"):
            card_file = card_path(Path(dataset))
            if card_file.is_file():
                st.json(json.loads(card_file.read_text(encoding="utf-8")), expanded=1)
            with open(dataset, encoding="utf-8") as fh:
                rows = [json.loads(line) for _, line in zip(range(8), fh)]
            st.dataframe([{"split": r.get("split"), "kind": r.get("kind"), "question": r["messages"][-2]["content"],
                           "answer": r["messages"][-1]["content"]} for r in rows if len(r.get("messages", [])) >= 2],
                         hide_index=True)

# -- 2. training -----------------------------------------------------------------------------
st.subheader("Train")
preset = st.radio("Preset", ["quick", "full"], horizontal=True, key="finetune_preset",
                  help="quick: minutes on a laptop CPU, teaches the answer form; full: every paraphrase, "
                       "8 epochs, the final weights kept: teaches the facts (hours on a CPU)")
default_name = Path(dataset).stem if dataset else ""
adapter_name = st.text_input("Adapter name", value=default_name, key="finetune_adapter_name")
if st.button("Start training", type="primary", key="finetune_start", disabled=dataset is None):
    with guard("Start training"):
        job = jobs.start_training(home, data=Path(dataset), name=adapter_name.strip() or None, preset=preset)
        st.success(f"Training {job['name']} in the background (pid {job['pid']}); the chat stays usable meanwhile.")


RUNNING = "finetune_running"  # (kind, name) of the jobs that were running at the last redraw

any_running = False
with guard("Reading the jobs"):
    any_running = any(j["state"] == "running" for j in [*jobs.list_jobs(home), *jobs.list_exports(home)])


# Redraw every 2 s only while a job runs; a full rerun (any click) re-decides.
@st.fragment(run_every=2.0 if any_running else None)
def jobs_panel() -> None:
    with guard("Reading the jobs"):
        listed, exports = jobs.list_jobs(home), jobs.list_exports(home)
        running = {(j["kind"], j["name"]) for j in [*listed, *exports] if j["state"] == "running"}
        finished = st.session_state.get(RUNNING, set()) - running
        st.session_state[RUNNING] = running
        if finished:  # a job just ended: redraw the whole page so the adapters table shows it
            st.rerun()
        for job in exports:
            with st.container(border=True):
                st.markdown(f"**export · {job['name']} · {job['quant']} · {job['state']}**")
                if job["state"] == "running":
                    st.caption(job["stage"])
                elif job["state"] == "complete":
                    st.success(f"Exported {job['path']}; the finetuned route uses it from the next question.")
                else:
                    st.error(job["error"])
        for job in listed:
            label = f"{job['name']} · {job['preset']} · {job['state']}" + (f" ({job['phase']})" if job["phase"] else "")
            with st.container(border=True):
                st.markdown(f"**{label}**")
                steps = f"step {job['step']}/{job['max_steps']}" if job["max_steps"] else f"step {job['step']}"
                st.progress(job["progress"], text=steps)
                curve = [{"step": r["step"], "loss": r.get("loss"), "eval_loss": r.get("eval_loss")}
                         for r in job["losses"] if "loss" in r or "eval_loss" in r]
                if curve:
                    st.line_chart(curve, x="step", y=["loss", "eval_loss"] if any(c["eval_loss"] is not None for c in curve) else ["loss"])
                if job["error"]:
                    st.error(job["error"])
                if job["state"] == "running" and st.button("Cancel", key=f"finetune_cancel_{job['name']}"):
                    jobs.cancel(home, job["name"])
                    st.toast(f"Stopping {job['name']}: it saves a checkpoint; starting it again resumes.")


jobs_panel()

# -- 3. adapters -----------------------------------------------------------------------------
st.subheader("Adapters")
with guard("Listing adapters"):
    adapters = registry.list_adapters(home)
    if adapters:
        table = []
        for a in adapters:
            metrics = a.get("metrics") or {}
            table.append({
                "name": a["name"], "status": a.get("status"), "stale": bool(a.get("stale")),
                "base": (a.get("base") or {}).get("ref"), "dataset": Path((a.get("dataset") or {}).get("path") or "?").name,
                "corpus snapshot": a.get("corpus_snapshot"), "created": a.get("created_at"),
                "loss": metrics.get("best_eval_loss") or metrics.get("train_loss"),
                "changed sources": ", ".join(Path(s["source"]).name for s in a.get("stale_sources") or []),
                "exports": ", ".join(e.get("quant") or e.get("format", "") for e in a.get("exports") or []),
            })
        st.dataframe(table, hide_index=True)
        names = [a["name"] for a in adapters if a.get("status") == "complete"]
        if names:
            current = st.session_state.get("adapter")
            pick = st.selectbox("Adapter to use or export", names, index=names.index(current) if current in names else 0,
                                key="finetune_pick")
            quant = st.radio("GGUF quant", ["q8_0", "q4_k_m"], horizontal=True, key="finetune_quant",
                             help="q8_0: closest to the merged model; q4_k_m: about half the size, a little less exact")
            c1, c2 = st.columns(2)
            if c1.button("Use in chat", key="finetune_use"):
                st.session_state["adapter"] = pick
                st.success(f"The Chat page now uses adapter {pick} for the finetuned and hybrid routes.")
            if c2.button("Export GGUF", key="finetune_export"):
                with guard("Export GGUF"):
                    jobs.start_export(home, pick, quant=quant)
                    st.rerun()  # the jobs panel above shows it, and redraws itself while it runs
    else:
        st.caption("No adapters yet.")
