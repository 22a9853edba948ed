"""The app in a real browser: ask with citations, compare two routes, re-upload a changed file.

`ragft ui --server.headless true` serves the app on a free 127.0.0.1 port over a data dir that
holds the ingested sample corpus v1; Debian's Chromium (Playwright, no browser download) clicks
through the Chat, Compare and Documents pages. Screenshots of each step land in
``$RAGFT_SCREENSHOTS`` or a temp folder; the test prints where.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from ingestion.sample import edition_dir
from tests.ui import browser_fixtures as bf

pytestmark = [
    pytest.mark.slow,
    pytest.mark.timeout(1200),  # the first test also waits for the sample ingest and the cold model load
    pytest.mark.skipif(bf.browser_missing_reason() is not None, reason=str(bf.browser_missing_reason())),
]

QUESTIONS = Path(edition_dir("v1")).parent / "questions.jsonl"


def sample_question(qid: str = "q048") -> dict:
    """A question from the sample corpus whose answer one v1 document holds (default: carry-over days)."""
    for line in QUESTIONS.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        if row["id"] == qid:
            return row
    raise LookupError(qid)


def corpus_file_names() -> set[str]:
    return {p.name for p in edition_dir("v1").rglob("*") if p.is_file()}


@pytest.fixture(scope="module")
def shots(tmp_path_factory, request) -> Path:
    folder = bf.screenshots_dir(tmp_path_factory)
    capture = request.config.pluginmanager.getplugin("capturemanager")
    if capture is None:
        print(f"\nscreenshots: {folder}")
    else:
        with capture.global_and_fixture_disabled():  # shown even when pytest captures output
            print(f"\nscreenshots: {folder}")
    return folder


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    """URL of `ragft ui` serving a data dir with the sample corpus v1 ingested."""
    root = tmp_path_factory.mktemp("browser")
    env = bf.ragft_env(root / "home")
    sample = subprocess.run([sys.executable, "-m", "assistant.cli", "sample", "--edition", "v1", "--ingest", "--json"],
                            cwd=bf.REPO, env=env, capture_output=True, text=True, timeout=900)
    assert sample.returncode == 0, sample.stderr[-2000:]
    assert json.loads(sample.stdout)["ingest"]["added"] > 0
    port = bf.free_port()
    with bf.served(bf.ragft_ui_argv(port), env=env, port=port, log=root / "server.log") as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    with bf.chromium_browser() as b:
        yield b


@pytest.fixture
def page(browser, app):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    bf.open_app(page, app)
    yield page
    context.close()


def test_chat_answers_on_the_naive_route_with_a_cited_source(page, shots):
    question = sample_question()
    bf.choose(page, "Route", "naive")
    bf.ask_in_chat(page, question["question"])

    reply = page.locator('[data-testid="stChatMessage"]').filter(has=bf.sources_expander(page)).last
    reply.wait_for(timeout=bf.ANSWER_TIMEOUT_MS)
    page.screenshot(path=str(shots / "1-chat-answer.png"), full_page=True)
    assert reply.locator('[data-testid="stChatMessageContent"]').inner_text().strip()
    caption = reply.locator('[data-testid="stCaptionContainer"]').first.inner_text()
    assert re.match(r"naive · .+ · \d+ tokens · \d+\.\d\d s", caption), caption

    sources = bf.sources_expander(page, reply).first
    title = sources.locator("summary").inner_text()
    assert int(re.search(r"Sources \((\d+)\)", title).group(1)) >= 1, title
    sources.locator("summary").click()
    body = sources.locator('[data-testid="stExpanderDetails"]')
    body.wait_for(timeout=bf.STEP_TIMEOUT_MS)
    page.screenshot(path=str(shots / "2-chat-sources.png"), full_page=True)
    named = {b.inner_text().strip() for b in body.locator("strong").all()}
    assert named & corpus_file_names(), f"no sample-corpus file named in the sources: {named}"


def test_compare_answers_with_two_routes_side_by_side(page, shots):
    bf.go_to(page, "Compare")
    page.get_by_label("Question").fill(sample_question()["question"])
    bf.set_multiselect(page, "Routes", ["base", "naive"])
    bf.click_button(page, "Compare")

    columns = page.locator('[data-testid="stColumn"]').filter(has=page.locator('[data-testid="stHeading"]'))
    headings = [c.locator('[data-testid="stHeading"]').first.inner_text().strip() for c in columns.all()]
    page.screenshot(path=str(shots / "3-compare.png"), full_page=True)
    assert sorted(headings) == ["base", "naive"], headings
    for column in columns.all()[:2]:
        assert bf.sources_expander(page, column).count() == 1
        assert re.search(r"\d+ tokens · \d+\.\d\d s", column.locator('[data-testid="stCaptionContainer"]').first.inner_text())
    # Side by side: the two columns start at the same height, the second to the right of the first.
    first, second = (c.bounding_box() for c in columns.all()[:2])
    assert abs(first["y"] - second["y"]) < 5 and second["x"] > first["x"] + first["width"] / 2


def test_documents_upload_then_changed_upload_shows_updated(page, shots, tmp_path):
    bf.go_to(page, "Documents")
    # Two folders, one file name: the second pick is the edited copy (Chromium sends no change
    # event when the very same path is picked again).
    first, second = tmp_path / "v1" / "travel-notes.md", tmp_path / "v2" / "travel-notes.md"
    first.parent.mkdir()
    second.parent.mkdir()
    first.write_text("# Travel notes\n\nThe night train to Lyon leaves at 21:40 from platform 4.\n", encoding="utf-8")
    second.write_text("# Travel notes\n\nThe night train to Lyon now leaves at 22:15 from platform 7.\n", encoding="utf-8")

    bf.upload(page, first)
    bf.click_button(page, "Ingest uploads")
    page.get_by_text(re.compile(r"added 1 · updated 0 · unchanged 0")).wait_for(timeout=bf.STEP_TIMEOUT_MS)
    page.screenshot(path=str(shots / "4-documents-added.png"), full_page=True)

    bf.upload(page, second)
    bf.click_button(page, "Ingest uploads")
    page.get_by_text(re.compile(r"added 0 · updated 1 · unchanged 0")).wait_for(timeout=bf.STEP_TIMEOUT_MS)
    page.screenshot(path=str(shots / "5-documents-updated.png"), full_page=True)
    assert page.locator('[data-testid="stDataFrame"]').count() >= 1  # the per-file status table
