"""Uploaded files: safe names (no traversal, no hidden files), limits, atomic replace, per-file rows."""

from __future__ import annotations

import os

import pytest

from ingestion.errors import ConfigError, LoadError
from ingestion.uploads import MAX_NAME_CHARS, file_statuses, safe_name, save_upload, save_uploads


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("notes.md", "notes.md"),
        ("docs/sub/notes.md", "notes.md"),  # directories are stripped
        ("C:\\Users\\me\\Guide v2.MD", "Guide v2.MD"),  # Windows paths too; the extension keeps its case
        ("/etc/report.pdf", "report.pdf"),
        ("a<b>|c?.txt", "a_b__c_.txt"),  # characters a file system or shell might choke on
        ("Über Café.md", "Über Café.md"),  # letters of any script stay
        ("  spaced.md  ", "spaced.md"),
    ],
)
def test_safe_names(raw, stored):
    assert safe_name(raw) == stored


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("../secret.md", "outside the upload folder"),
        ("..\\..\\secret.md", "outside the upload folder"),
        ("docs/../../x.md", "outside the upload folder"),
        ("..", "outside the upload folder"),
        ("", "is empty"),
        ("/", "is empty"),
        (".bashrc.md", "hidden file"),
        ("sub/.env.txt", "hidden file"),
        ("nul\x00.md", "control characters"),
        ("payload.exe", "unsupported file type .exe"),
        ("README", "unsupported file type (no extension)"),
        ("___.md", "no name before its extension"),
    ],
)
def test_unsafe_names_are_refused_with_a_fix(raw, message):
    with pytest.raises(LoadError, match=message.replace("(", r"\(").replace(")", r"\)")) as err:
        safe_name(raw)
    assert err.value.fix


def test_long_names_keep_their_extension():
    name = safe_name("x" * 300 + ".markdown")
    assert len(name) == MAX_NAME_CHARS and name.endswith(".markdown")


def test_save_replaces_atomically_and_stays_inside(tmp_path):
    folder = tmp_path / "uploads"
    first = save_upload(folder, "dir/plan.md", b"v1")
    assert first == folder.resolve() / "plan.md" and first.read_bytes() == b"v1"
    second = save_upload(folder, "plan.md", b"v2")
    assert second == first and first.read_bytes() == b"v2"
    assert sorted(os.listdir(folder)) == ["plan.md"]  # no temp file left behind


def test_save_limits(tmp_path):
    with pytest.raises(LoadError, match="is empty"):
        save_upload(tmp_path, "a.md", b"")
    with pytest.raises(LoadError, match="over the 10 bytes limit"):
        save_upload(tmp_path, "a.md", b"x" * 11, max_bytes=10)
    with pytest.raises(ConfigError, match="max_bytes"):
        save_upload(tmp_path, "a.md", b"x", max_bytes=0)
    assert list(tmp_path.iterdir()) == []


def test_save_uploads_reports_bad_files_and_keeps_the_rest(tmp_path):
    out = save_uploads(tmp_path, [("a.md", b"A"), ("../b.md", b"B"), ("c.bin", b"C"), ("a.md", b"A2")])
    assert out.paths == [tmp_path.resolve() / "a.md"] and (tmp_path / "a.md").read_bytes() == b"A2"
    assert [f["path"] for f in out.failed] == ["../b.md", "c.bin"]
    assert all(f["error"] for f in out.failed)


def test_file_statuses_from_a_report(tmp_path):
    a, b, c = (tmp_path / n for n in ("a.md", "b.md", "c.md"))
    report = {"changes": [{"source": str(a), "status": "added"}, {"source": str(tmp_path / "gone.md"), "status": "deleted"}],
              "failed": [{"path": str(c), "error": "c.md is empty"}]}
    assert file_statuses(report, [a, b, c]) == [
        {"file": "a.md", "status": "added", "reason": ""},
        {"file": "b.md", "status": "unchanged", "reason": ""},
        {"file": "c.md", "status": "failed", "reason": "c.md is empty"},
        {"file": "gone.md", "status": "deleted", "reason": ""},
    ]
