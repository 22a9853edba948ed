"""Files uploaded through the browser, saved under ``HOME/uploads/`` with safe names.

    path = save_upload(home.uploads_dir, "../notes/Guide v2.md", data)   # -> HOME/uploads/Guide v2.md

A browser sends whatever name the user's file had (or whatever a crafted request says), so the
name is reduced to a plain file name before it touches the disk: directories are stripped, ``..``
anywhere is refused, hidden names (a leading dot) and empty names are refused, odd characters
become ``_`` and long names are shortened with their extension kept. Only the loaders' file types
are accepted, up to ``max_bytes``. The bytes are written to a temporary file in the same folder
and renamed over the target, so a reader never sees half a file and uploading a file with the
same name again replaces the stored one (the next ingest then reports it as updated).
"""

from __future__ import annotations

import os
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from ingestion.errors import ConfigError, LoadError
from ingestion.files import write_atomic
from ingestion.loaders import DEFAULT_MAX_BYTES, SUPPORTED_SUFFIXES
from ingestion.loaders._base import human_size

MAX_NAME_CHARS = 120
_UNSAFE = re.compile(r"[^\w.\- ()+,@&]")  # \w is Unicode-aware: letters of any script stay


def safe_name(raw: str) -> str:
    """The stored file name for an uploaded ``raw`` name; ``LoadError`` if it cannot be made safe."""
    if not isinstance(raw, str):
        raise LoadError(f"upload name {raw!r} is not text", fix="rename the file and upload it again")
    name = unicodedata.normalize("NFC", raw).replace("\\", "/").strip()
    parts = [p for p in name.split("/") if p.strip()]
    if any(p.strip() == ".." for p in parts):
        raise LoadError(f"upload name {raw!r} points outside the upload folder", fix="upload the file itself, not a path")
    base = parts[-1].strip() if parts else ""
    if not base or base == ".":
        raise LoadError(f"upload name {raw!r} is empty", fix="give the file a name such as notes.md")
    if base.startswith("."):
        raise LoadError(f"upload {base!r} is a hidden file", fix="rename it without the leading dot")
    if any(unicodedata.category(ch) == "Cc" for ch in base):
        raise LoadError(f"upload name {raw!r} holds control characters", fix="rename the file")
    base = _UNSAFE.sub("_", base)
    stem, suffix = os.path.splitext(base)
    if suffix.lower() not in SUPPORTED_SUFFIXES:
        shown = suffix or "(no extension)"
        raise LoadError(f"upload {base!r} has an unsupported file type {shown}",
                        fix=f"upload one of {', '.join(sorted(SUPPORTED_SUFFIXES))}")
    if not stem.strip(" ._"):
        raise LoadError(f"upload name {raw!r} has no name before its extension", fix="rename the file, e.g. notes" + suffix)
    if len(base) > MAX_NAME_CHARS:
        base = stem[: MAX_NAME_CHARS - len(suffix)].rstrip(" .") + suffix
    return base


def save_upload(folder: Path, name: str, data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Path:
    """Write ``data`` atomically as ``folder/safe_name(name)``; replaces a previous upload of that name."""
    if isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes <= 0:
        raise ConfigError(f"max_bytes must be a positive number of bytes, got {max_bytes!r}", fix="pass a positive upload limit")
    stored = safe_name(name)
    if not data:
        raise LoadError(f"upload {stored!r} is empty (0 bytes)", fix="upload a file with content")
    if len(data) > max_bytes:
        raise LoadError(f"upload {stored!r} is {human_size(len(data))}, over the {human_size(max_bytes)} limit",
                        fix="split the file or raise the limit (--max-file-mb)")
    folder = Path(folder).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / stored
    if target.resolve().parent != folder:  # belt and braces: safe_name already removed separators
        raise LoadError(f"upload name {name!r} points outside the upload folder", fix="upload the file itself, not a path")
    write_atomic(target, data)
    return target


@dataclass
class SavedUploads:
    paths: list[Path] = field(default_factory=list)
    failed: list[dict[str, str]] = field(default_factory=list)  # [{"path": name as sent, "error": one line}]


def save_uploads(folder: Path, files: Iterable[tuple[str, bytes]], *, max_bytes: int = DEFAULT_MAX_BYTES) -> SavedUploads:
    """Save each ``(name, data)``; a bad file is listed in ``failed`` and never stops the others."""
    out = SavedUploads()
    for name, data in files:
        try:
            out.paths.append(save_upload(folder, name, data, max_bytes=max_bytes))
        except LoadError as err:
            out.failed.append({"path": str(name), "error": err.one_line()})
    out.paths = list(dict.fromkeys(out.paths))  # the same name twice in one batch: the last one wins
    return out


def file_statuses(report: dict, paths: Iterable[Path | str]) -> list[dict[str, str]]:
    """One row per ingested file from an ingest report (``IngestReport.as_json()``).

    ``[{"file", "status", "reason"}]`` with status "added" / "updated" / "unchanged" / "failed";
    the report lists changes and failures, so a file in neither was unchanged. Deleted documents
    (a synced folder lost them) follow as "deleted" rows.
    """
    paths = list(paths)
    changes = {c["source"]: c["status"] for c in report.get("changes", [])}
    failed = {f["path"]: f["error"] for f in report.get("failed", [])}
    rows = []
    for path in paths:
        source = str(Path(path).resolve())
        if source in failed or str(path) in failed:
            rows.append({"file": Path(path).name, "status": "failed", "reason": failed.get(source) or failed[str(path)]})
        else:
            rows.append({"file": Path(path).name, "status": changes.get(source, "unchanged"), "reason": ""})
    listed = {str(Path(p).resolve()) for p in paths}
    rows += [{"file": Path(s).name, "status": st, "reason": ""} for s, st in changes.items() if s not in listed]
    rows += [{"file": Path(p).name, "status": "failed", "reason": e} for p, e in failed.items()
             if p not in listed and not any(str(x) == p for x in paths)]
    return rows
