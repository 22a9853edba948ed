"""Helpers for driving the real app in a real browser: start the server, poll it, click through.

The server is `ragft ui` (or `make run`) in its own process group on a free loopback port; the
browser is Debian's /usr/bin/chromium driven by Playwright's Python package (never a downloaded
browser build). Streamlit renders asynchronously over a websocket, so every step waits on text
or a selector with a generous timeout: a cold model load on a busy 2-core machine takes tens of
seconds.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator


REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
STARTUP_TIMEOUT_S = 180
ANSWER_TIMEOUT_MS = 240_000  # cold route: embedder + index + GGUF model load, then generation
STEP_TIMEOUT_MS = 60_000


def browser_missing_reason() -> str | None:
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing: `make browser` (as root) installs Debian's chromium package"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is missing: `make setup` installs the dev extra"
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_healthy(url: str, proc: subprocess.Popen, log: Path, timeout_s: float = STARTUP_TIMEOUT_S) -> None:
    """Poll ``url/_stcore/health`` until it answers "ok"; fail early if the server died."""
    import httpx

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"server exited {proc.returncode} before it was healthy:\n{tail(log)}")
        try:
            reply = httpx.get(f"{url}/_stcore/health", timeout=2)
            if reply.status_code == 200 and reply.text.strip() == "ok":
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise AssertionError(f"{url}/_stcore/health did not answer ok within {timeout_s:.0f} s:\n{tail(log)}")


def tail(log: Path, chars: int = 4000) -> str:
    try:
        return log.read_text(encoding="utf-8", errors="replace")[-chars:]
    except OSError:
        return "(no log)"


def stop_group(proc: subprocess.Popen, grace_s: float = 20) -> None:
    """SIGTERM the server's whole process group (make -> ragft -> streamlit), then SIGKILL."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # anything left in the group (a grandchild)
    except ProcessLookupError:
        pass
    proc.wait(timeout=10)


@contextmanager
def served(argv: list[str], *, env: dict[str, str], port: int, log: Path, cwd: Path = REPO,
           startup_timeout_s: float = STARTUP_TIMEOUT_S) -> Iterator[str]:
    """Run ``argv`` (which must serve the app on ``port``) in its own process group; yields the URL."""
    url = f"http://127.0.0.1:{port}"
    with open(log, "w", encoding="utf-8") as out:
        proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            wait_healthy(url, proc, log, startup_timeout_s)
            yield url
        finally:
            stop_group(proc)


def ragft_ui_argv(port: int, *extra: str) -> list[str]:
    return [sys.executable, "-m", "assistant.cli", "ui", "--server.port", str(port), "--server.headless", "true", *extra]


def ragft_env(home: Path) -> dict[str, str]:
    return {
        **os.environ,
        "RAGFT_HOME": str(home),
        "HF_HUB_OFFLINE": "1",
        "PYTHONPATH": str(REPO),
        "PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD": "1",
    }


@contextmanager
def chromium_browser() -> Iterator:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


def screenshots_dir(tmp_path_factory) -> Path:
    """``$RAGFT_SCREENSHOTS`` if set, else a temp folder (the caller prints it)."""
    raw = os.environ.get("RAGFT_SCREENSHOTS")
    folder = Path(raw) if raw else tmp_path_factory.mktemp("screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


# --- page steps (labels from the UI contract) -------------------------------------------------


def open_app(page, url: str) -> None:
    page.goto(url, wait_until="domcontentloaded")
    page.wait_for_selector('[data-testid="stApp"]', timeout=STEP_TIMEOUT_MS)
    wait_idle(page)


IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'


def wait_idle(page, timeout_ms: int = ANSWER_TIMEOUT_MS) -> None:
    """Wait until no script run is in progress (the app root's ``data-test-script-state``)."""
    page.wait_for_selector(IDLE, timeout=timeout_ms)


def rerun(page, action, timeout_ms: int = ANSWER_TIMEOUT_MS) -> None:
    """Do ``action()`` (a click, Enter...) and wait for the script run it triggers to finish.

    The run starts a moment after the event reaches the server, so first wait (briefly) to see the
    app leave the idle state, then wait for it to come back.
    """
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    action()
    try:
        page.wait_for_selector(IDLE, state="detached", timeout=5_000)
    except PlaywrightTimeout:
        pass  # the run was quicker than one poll
    wait_idle(page, timeout_ms)


def go_to(page, title: str) -> None:
    """Click the navigation entry titled ``title`` (sidebar or top navigation)."""
    # A link's text also holds its material icon's ligature name ("compare_arrowsCompare").
    link = page.locator('[data-testid="stSidebarNavLink"], [data-testid="stTopNavLink"]').filter(
        has=page.get_by_text(title, exact=True)
    )
    rerun(page, lambda: link.first.click(timeout=STEP_TIMEOUT_MS))


def choose(page, label: str, option: str) -> None:
    """Pick ``option`` in the ``st.selectbox`` labelled ``label``."""
    box = page.locator('[data-testid="stSelectbox"]').filter(has_text=label).first
    box.locator('[role="combobox"], input').first.click(timeout=STEP_TIMEOUT_MS)
    rerun(page, lambda: page.get_by_role("option", name=option, exact=True).click(timeout=STEP_TIMEOUT_MS))


def set_multiselect(page, label: str, options: list[str]) -> None:
    """Make the ``st.multiselect`` labelled ``label`` hold exactly ``options``."""
    box = page.locator('[data-testid="stMultiSelect"]').filter(has_text=label).first
    box.wait_for(timeout=STEP_TIMEOUT_MS)
    # Each selected value is a tag `<span data-tag aria-label=VALUE>` with a "Remove VALUE" button.
    chosen = [tag.get_attribute("aria-label") for tag in box.locator("span[data-tag]").all()]
    for value in chosen:
        if value not in options:
            remove = box.get_by_role("button", name=f"Remove {value}", exact=True)
            rerun(page, lambda: remove.click(timeout=STEP_TIMEOUT_MS))
    for option in options:
        if option in chosen:
            continue
        field = box.locator("input").first
        field.click(timeout=STEP_TIMEOUT_MS)
        field.fill(option)
        pick = page.get_by_role("option", name=option, exact=True)
        rerun(page, lambda: pick.click(timeout=STEP_TIMEOUT_MS))
    page.keyboard.press("Escape")


def ask_in_chat(page, question: str) -> None:
    box = page.locator('[data-testid="stChatInput"] textarea')
    box.fill(question, timeout=STEP_TIMEOUT_MS)
    rerun(page, lambda: box.press("Enter"))


def sources_expander(page, scope=None):
    root = scope if scope is not None else page
    return root.locator('[data-testid="stExpander"]').filter(has_text=re.compile(r"Sources \(\d+\)"))


def upload(page, path: Path, label: str = "Upload files") -> None:
    """Put ``path`` into the ``st.file_uploader`` labelled ``label``, replacing a file of that name.

    A person removes the old chip and drops the new file; the uploader keeps one chip per upload.
    """
    box = page.locator('[data-testid="stFileUploader"]').filter(has_text=label).first
    box.wait_for(timeout=STEP_TIMEOUT_MS)
    same = box.locator('[data-testid="stFileChip"]').filter(has_text=path.name)
    while same.count():
        delete = same.first.locator('[data-testid="stFileChipDeleteBtn"] button').first
        rerun(page, lambda: delete.click(timeout=STEP_TIMEOUT_MS))
    drop = box.locator('[data-testid="stFileUploaderDropzoneInput"]')
    rerun(page, lambda: drop.set_input_files(str(path)))
    box.locator('[data-testid="stFileChip"]').filter(has_text=path.name).first.wait_for(timeout=STEP_TIMEOUT_MS)


def click_button(page, name: str, timeout_ms: int = ANSWER_TIMEOUT_MS) -> None:
    """Click ``st.button(name)`` and wait for the run it starts (an answer, an ingest) to end."""
    button = page.get_by_role("button", name=name, exact=True)
    rerun(page, lambda: button.click(timeout=STEP_TIMEOUT_MS), timeout_ms)
