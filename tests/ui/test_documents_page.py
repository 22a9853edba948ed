"""Documents page: upload, re-upload a changed file ("updated"), unsafe names, folder ingest, delete."""

from __future__ import annotations

from tests.ui.app_fixtures import app, errors

PAGE = "documents"


def statuses(at) -> dict[str, str]:
    table = at.dataframe[0].value
    return dict(zip(table["file"], table["status"]))


def test_upload_ingest_then_changed_reupload_shows_updated(home):
    at = app(PAGE)
    uploader = at.file_uploader(key="documents_upload")
    assert uploader.label == "Upload files" and uploader.accept_multiple_files
    uploader.set_value([("plan.md", b"# Plan\n\nThe Team plan costs EUR 49 per seat per month.\n", "text/markdown"),
                        ("../../escape.md", b"# Escape\n\nOutside.\n", "text/markdown"),
                        (".hidden.md", b"# Hidden\n", "text/markdown")])
    at.button(key="documents_ingest_uploads").click().run()
    assert not at.exception and errors(at) == []
    assert "added 1 · updated 0 · unchanged 0 · deleted 0" in [m.value for m in at.markdown]
    rows = statuses(at)
    assert rows == {"plan.md": "added", "../../escape.md": "failed", ".hidden.md": "failed"}
    assert sorted(p.name for p in home.uploads_dir.iterdir()) == ["plan.md"]  # nothing escaped or hidden was written
    assert not (home.root.parent / "escape.md").exists() and not (home.root / "escape.md").exists()
    # as `ragft ingest` does after a change: the collection is calibrated again (one document is too
    # few to fit, so the defaults are recorded for this snapshot, with the reason)
    import json

    cal = json.loads((home.root / "calibration" / "default.json").read_text())
    assert cal["fitted"] is False and "too small to calibrate" in cal["note"]

    at.file_uploader(key="documents_upload").set_value(
        ("plan.md", b"# Plan\n\nThe Team plan costs EUR 59 per seat per month.\n", "text/markdown"))
    at.button(key="documents_ingest_uploads").click().run()
    assert "added 0 · updated 1 · unchanged 0 · deleted 0" in [m.value for m in at.markdown]
    assert statuses(at) == {"plan.md": "updated"}
    assert b"EUR 59" in (home.uploads_dir / "plan.md").read_bytes()

    # The browser lists it at version 2; deleting removes it from the index.
    docs = at.dataframe[1].value
    assert list(docs["version"]) == [2] and str(docs["source"][0]).endswith("plan.md")
    at.button(key="documents_delete").click().run()
    assert "added 0 · updated 0 · unchanged 0 · deleted 1" in [m.value for m in at.markdown]
    assert any("No documents yet" in i.value for i in at.info)


def test_ingest_folder_and_bad_folder(home, tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a.md").write_text("# A\n\nAlpha has 3 moons.\n")
    (folder / "empty.txt").write_text("")
    at = app(PAGE)
    at.text_input(key="documents_folder").set_value(str(tmp_path / "missing"))
    at.button(key="documents_ingest_folder").click().run()
    (message,) = errors(at)
    assert "is not a folder" in message and "\n" not in message

    at.text_input(key="documents_folder").set_value(str(folder))
    at.button(key="documents_ingest_folder").click().run()
    assert not at.exception and errors(at) == []
    rows = at.dataframe[0].value
    assert dict(zip(rows["file"], rows["status"])) == {"a.md": "added", "empty.txt": "failed"}
    assert "empty" in rows["reason"][list(rows["file"]).index("empty.txt")]
