"""`ragft ui`: Streamlit flags pass through, others are usage errors, and the server really starts.

The argument tests parse with the real ``ragft`` parser; the start test runs `ragft ui` as a
subprocess on a free loopback port, polls ``/_stcore/health``, then sends SIGTERM to the `ragft`
process only and checks that it stopped Streamlit (signal forwarding) and exited cleanly.
"""

from __future__ import annotations

import signal
import subprocess
import sys

import httpx
import pytest

from assistant.cli import build_parser
from assistant.cli.ui_cmd import DEFAULT_FLAGS, app_script, build_command, build_env
from ingestion.home import Home
from tests.assistant.cli.conftest import REPO, run_ragft
from tests.ui import browser_fixtures as bf


def parse(*argv: str):
    args, extra = build_parser().parse_known_args(list(argv))
    if extra:
        args.take_extra(args, extra)
    return args


def test_streamlit_flags_pass_through_in_order():
    args = parse("ui", "--server.port", "8555", "--collection", "handbook", "--server.headless=true", "--theme.base", "dark")
    assert args.collection == "handbook"
    assert args.streamlit_flags == ["--server.port", "8555", "--server.headless=true", "--theme.base", "dark"]


def test_no_flags_means_defaults_only():
    args = parse("ui")
    assert getattr(args, "streamlit_flags", []) == [] and args.collection == "default"


def test_command_binds_loopback_by_default_and_user_flags_come_last():
    script = app_script()
    assert script == REPO / "ui" / "app.py"
    command = build_command(["--server.address", "0.0.0.0", "--server.port", "9000"], script)
    assert command[:5] == [sys.executable, "-m", "streamlit", "run", str(script)]
    assert command[5:9] == list(DEFAULT_FLAGS)
    assert ("--server.address", "127.0.0.1") == tuple(command[5:7])
    assert "--browser.gatherUsageStats" in command
    # Streamlit's CLI keeps the last value of a repeated option, so the user's address wins.
    assert command[-4:] == ["--server.address", "0.0.0.0", "--server.port", "9000"]


def test_env_carries_home_and_collection(tmp_path):
    env = build_env(Home.resolve(tmp_path / "h"), "handbook", base={"PATH": "/bin", "RAGFT_HOME": "/elsewhere"})
    assert env == {"PATH": "/bin", "RAGFT_HOME": str((tmp_path / "h").resolve()), "RAGFT_COLLECTION": "handbook"}
    env = build_env(Home.resolve(tmp_path / "h"), "handbook", base={}, profile="small")  # `ragft --profile small ui`
    assert env["RAGFT_PROFILE"] == "small"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["ui", "--bogus"], "unrecognized argument: --bogus"),
        (["ui", "--server.port"], "--server.port needs a value"),
        (["ui", "--server.port", "--server.headless", "true"], "--server.port needs a value"),
        (["ui", "stray"], "unrecognized argument: stray"),
        (["ui", "--nosuch.section", "1"], "unrecognized argument: --nosuch.section"),
    ],
)
def test_unknown_flags_are_usage_errors_with_one_line(argv, message, tmp_path):
    proc = run_ragft(*argv, home=tmp_path)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ragft ui: error: ") and message in lines[0], proc.stderr


def test_other_commands_still_reject_extra_flags(tmp_path):
    proc = run_ragft("docs", "--server.port", "1", home=tmp_path)
    assert proc.returncode == 2 and "unrecognized arguments: --server.port 1" in proc.stderr


@pytest.mark.slow
def test_ui_starts_serves_health_and_stops_on_sigterm(tmp_path):
    port = bf.free_port()
    home = tmp_path / "home"
    log = tmp_path / "ui.log"
    env = bf.ragft_env(home)
    env.pop("RAGFT_HOME")  # --home must reach the app on its own
    with open(log, "w", encoding="utf-8") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "assistant.cli", "--home", str(home), "ui", "--collection", "handbook",
             "--server.port", str(port), "--server.headless", "true"],
            cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )
        try:
            bf.wait_healthy(f"http://127.0.0.1:{port}", proc, log)
            page = httpx.get(f"http://127.0.0.1:{port}/", timeout=10)
            assert page.status_code == 200 and "<title>" in page.text
            assert home.is_dir()  # the launcher resolved (and created) the data dir
            # Only the launcher gets the signal; it must pass it on to Streamlit.
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=60) == 0, bf.tail(log)
        finally:
            bf.stop_group(proc)
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{port}/_stcore/health", timeout=2)
    assert f"127.0.0.1:{port}" in log.read_text(encoding="utf-8")
