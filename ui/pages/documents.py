"""Documents: upload files or ingest a folder, see what changed, browse and delete documents.

Same calls as the CLI: ``rag.indexing.ingest_paths`` (``ragft ingest``), ``remove_documents``
(``ragft docs --delete``), the record database (``ragft docs``) and ``ragft sample --ingest``.
Uploads are stored under ``HOME/uploads`` with sanitised names (``ingestion.uploads``).
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from ingestion.errors import ConfigError
from ingestion.loaders import iter_files
from ingestion.records import RecordManager
from ingestion.sample import materialize
from ingestion.uploads import file_statuses, save_uploads
from assistant.calibration import recalibrate_after_change
from rag.indexing import ingest_paths, remove_documents
from ui import resources
from ui.components import guard

LAST = "documents_last"  # {"report": IngestReport json, "rows": [{"file", "status", "reason"}]}
COLLECTION = resources.COLLECTION

st.title("Documents")
home = resources.home()


def ingest(paths: list[str], files: list[Path]) -> None:
    """Ingest with a progress bar, keep the report for the result table, drop the stale routes."""
    bar = st.progress(0.0, text="Ingesting...")

    def update(done: int, total: int, label: str) -> None:
        bar.progress(done / total if total else 1.0, text=f"Ingesting {done}/{total} {Path(label).name}")

    report = ingest_paths(home, paths, collection=COLLECTION, progress=update).as_json()
    if report["added"] or report["updated"] or report["deleted"]:  # as `ragft ingest` does after a change
        bar.progress(0.0, text="Calibrating the collection...")
        report["calibration"] = recalibrate_after_change(
            home, COLLECTION, progress=lambda d, t: bar.progress(d / t if t else 1.0, text=f"Calibrating {d}/{t}"))
    bar.empty()
    resources.clear_routes()
    st.session_state[LAST] = {"report": report, "rows": file_statuses(report, files)}


def upload_failures(failed: list[dict]) -> list[dict]:
    return [{"file": f["path"], "status": "failed", "reason": f["error"]} for f in failed]


uploads = st.file_uploader("Upload files", accept_multiple_files=True, key="documents_upload",
                           help="Markdown, text, reStructuredText, HTML, PDF, Word, CSV or JSONL; 20 MB at most each")
if st.button("Ingest uploads", type="primary", key="documents_ingest_uploads"):
    with guard("Ingest uploads"):
        if not uploads:
            raise ConfigError("no files to ingest", fix="choose files in the Upload files box first")
        saved = save_uploads(home.uploads_dir, [(f.name, f.getvalue()) for f in uploads])
        if saved.paths:
            ingest([str(p) for p in saved.paths], saved.paths)
        else:
            st.session_state[LAST] = {"report": {"added": 0, "updated": 0, "unchanged": 0, "deleted": 0, "failed": []}, "rows": []}
        st.session_state[LAST]["rows"] += upload_failures(saved.failed)

c1, c2 = st.columns([4, 1], vertical_alignment="bottom")
folder = c1.text_input("Folder", key="documents_folder", placeholder="/path/to/docs (synced: files gone from it are deleted)")
if c2.button("Ingest folder", key="documents_ingest_folder"):
    with guard("Ingest folder"):
        path = Path(folder.strip()).expanduser()
        if not folder.strip() or not path.is_dir():
            raise ConfigError(f"Folder {folder!r} is not a folder", fix="type the path of a folder that holds your documents")
        ingest([str(path)], list(iter_files(path.resolve())))

if last := st.session_state.get(LAST):
    r = last["report"]
    st.markdown(f"added {r['added']} · updated {r['updated']} · unchanged {r['unchanged']} · deleted {r['deleted']}")
    if last["rows"]:
        st.dataframe(last["rows"], hide_index=True, column_config={"file": "File", "status": "Status", "reason": "Reason"})

st.divider()
st.subheader("Documents in the index")
with guard("Reading the documents"):
    records = RecordManager(home.records_db)
    try:
        docs = sorted(records.documents(COLLECTION).values(), key=lambda d: d.source)
        if not docs:
            st.info("No documents yet: upload files, ingest a folder, or start with the sample corpus.")
            if st.button("Ingest the sample corpus", key="documents_sample"):
                files = materialize("v1", home.root / "sample-corpus")
                ingest([str(home.root / "sample-corpus")], files)
                st.rerun()
        else:
            st.dataframe([{"source": d.source, "version": d.version, "chunks": d.chunks, "ingested": d.updated_at} for d in docs],
                         hide_index=True)
            source = st.selectbox("Document", [d.source for d in docs], key="documents_pick",
                                  format_func=lambda s: str(Path(s).relative_to(home.root)) if Path(s).is_relative_to(home.root) else s)
            with st.expander(f"Chunks of {Path(source).name}"):
                for chunk in records.chunks_of(COLLECTION, source):
                    st.markdown(f"**#{chunk.position}** {chunk.heading or ''} · v{chunk.version}")
                    st.text(chunk.text)
            if st.button("Delete document", key="documents_delete"):
                report = remove_documents(home, [source], collection=COLLECTION).as_json()
                resources.clear_routes()
                st.session_state[LAST] = {"report": report, "rows": [{"file": Path(source).name, "status": "deleted", "reason": ""}]}
                st.rerun()
    finally:
        records.close()
