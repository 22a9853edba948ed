"""assistant/cli/__init__.py: the edge where a Ctrl-C becomes exit 130 and one line."""

from __future__ import annotations

import pytest

import assistant.cli as cli


def test_ctrl_c_before_a_command_runs_is_one_line_and_exit_130(monkeypatch, capsys):
    def interrupted_while_importing():
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "build_parser", interrupted_while_importing)
    with pytest.raises(SystemExit) as exc:
        cli.entrypoint()
    assert exc.value.code == 130
    err = capsys.readouterr().err
    assert err == "ragft: interrupted\n" and "Traceback" not in err


def test_ctrl_c_inside_a_command_says_how_to_resume(monkeypatch, capsys, tmp_path):
    import assistant.cli.docs_cmd as docs_cmd

    def handler(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(docs_cmd, "run", handler)  # register() binds the module's `run` when main builds the parser
    assert cli.main(["--home", str(tmp_path), "docs"]) == 130
    assert "ragft docs: interrupted; re-run the same command to resume" in capsys.readouterr().err
