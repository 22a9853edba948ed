"""Server mode: a real `chroma run` server on 127.0.0.1, ingested into and searched over HTTP."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from ingestion.errors import StoreError
from rag.retrieval import Retriever
from tests.conftest import ingest


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory):
    chroma = Path(sys.executable).parent / "chroma"
    if not chroma.exists():
        chroma = Path(shutil.which("chroma") or "chroma")
    port = _free_port()
    data = tmp_path_factory.mktemp("chroma-server")
    proc = subprocess.Popen(
        [str(chroma), "run", "--path", str(data), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            if httpx.get(f"{url}/api/v2/heartbeat", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.3)
    else:
        proc.kill()
        pytest.fail("chroma run did not start within 60 s")
    yield url
    proc.terminate()
    proc.wait(timeout=20)


def test_ingest_and_search_through_a_chroma_server(make_index, chroma_server, tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.md").write_text("# Ops\n\nThe Kestrel pager escalates after 11 minutes.", encoding="utf-8")
    (docs / "b.md").write_text("# Food\n\nThe canteen serves lunch from 11:30 to 14:00.", encoding="utf-8")
    index = make_index(store=chroma_server, collection="served")
    report = ingest(index, [docs])
    assert report.added == 2
    assert index.store.ids() == index.records.chunk_ids("served")
    hits = Retriever(index).search("when does the pager escalate?", k=1, mode="dense").hits
    assert hits[0].source.endswith("a.md")
    (docs / "a.md").unlink()
    assert ingest(index, [docs]).deleted == 1
    assert index.store.ids() == index.records.chunk_ids("served")


def test_unreachable_server_is_a_one_line_error(make_index):
    with pytest.raises(StoreError, match="chroma run"):
        make_index(store=f"http://127.0.0.1:{_free_port()}", collection="nowhere")
