"""Load one file into a ``Document``; list the loadable files of a folder.

    doc = load_document(Path("guide.md"))          # -> Document(sections=(Section(...), ...))
    for path in iter_files(Path("docs/")): ...      # sorted, recursive, hidden entries skipped

Every failure is a ``LoadError`` that names the file and says what to do; no library exception
escapes. The size limit is checked from ``stat`` before the file is read. Each format's parser
lives in its own module and is imported on first use, so a CLI start stays fast.
"""

from __future__ import annotations

import hashlib
import importlib
import os
import stat
from collections.abc import Iterator
from pathlib import Path

from ingestion.document import Document, Section
from ingestion.errors import ConfigError, LoadError
from ingestion.loaders._base import Parsed, human_size

__all__ = ["DEFAULT_MAX_BYTES", "SUPPORTED_SUFFIXES", "iter_files", "load_document"]

DEFAULT_MAX_BYTES = 20 * 1024 * 1024

# suffix -> (kind, "module:function"); kind is the normalised suffix stored in Document.kind.
_PARSERS: dict[str, tuple[str, str]] = {
    ".md": ("md", "text:load_markdown"),
    ".markdown": ("md", "text:load_markdown"),
    ".rst": ("rst", "text:load_rst"),
    ".txt": ("txt", "text:load_plain"),
    ".html": ("html", "web:load_html"),
    ".htm": ("html", "web:load_html"),
    ".pdf": ("pdf", "pdf:load_pdf"),
    ".docx": ("docx", "word:load_docx"),
    ".csv": ("csv", "records:load_csv"),
    ".jsonl": ("jsonl", "records:load_jsonl"),
}
_ATOMIC_KINDS = frozenset({"csv", "jsonl"})

SUPPORTED_SUFFIXES: frozenset[str] = frozenset(_PARSERS)


def load_document(path: Path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Document:
    """Read, decode and split one file; raises ``LoadError`` for anything unusable."""
    if isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes <= 0:
        raise ConfigError(f"max_bytes must be a positive number of bytes, got {max_bytes!r}",
                          fix="pass a --max-file-mb greater than 0")
    path = Path(path)
    size = _check_file(path)
    suffix = path.suffix.lower()
    if suffix not in _PARSERS:
        shown = suffix or "(no extension)"
        raise LoadError(f"{path} has an unsupported file type {shown}",
                        fix=f"convert it to one of {', '.join(sorted(SUPPORTED_SUFFIXES))}")
    data = _read(path, size, max_bytes)
    if not data.strip():
        what = "empty (0 bytes)" if not data else "empty (only whitespace)"
        raise LoadError(f"{path} is {what}", fix="add content to it or remove it")
    kind, target = _PARSERS[suffix]
    parsed = _parse(target, data, path, suffix)
    sections = tuple(Section(text=s.text.strip("\n"), heading_path=s.heading_path, page=s.page)
                     for s in parsed.sections if s.text.strip())
    if not sections:
        raise LoadError(f"{path} has no text after extraction (it is empty or only whitespace)",
                        fix="add content to it or remove it")
    return Document(
        source=str(path.resolve()),
        kind=kind,
        content_hash=hashlib.sha256(data).hexdigest(),
        sections=sections,
        atomic_sections=kind in _ATOMIC_KINDS,
        metadata=parsed.metadata,
    )


def iter_files(folder: Path) -> Iterator[Path]:
    """Loadable files under ``folder``, sorted by relative path; hidden files and dirs skipped.

    Symlinked files are listed (load_document reports broken ones); symlinked folders are not
    followed, so a link loop cannot hang the walk. A sub-folder that cannot be listed raises:
    silently skipping it would make a folder sync delete its documents from the index.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise LoadError(f"{folder} is not a folder",
                        fix="pass an existing folder (or a single file)")

    def fail(exc: OSError) -> None:
        raise LoadError(f"cannot list {exc.filename}: {exc.strerror}",
                        fix="check its permissions, or move it out of the ingested folder")

    found: list[tuple[tuple[str, ...], Path]] = []
    for root, dirs, files in os.walk(folder, onerror=fail):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in files:
            if not name.startswith(".") and Path(name).suffix.lower() in SUPPORTED_SUFFIXES:
                full = Path(root, name)
                found.append((full.relative_to(folder).parts, full))
    for _, full in sorted(found):
        yield full


def _check_file(path: Path) -> int:
    """The size of a regular file, or a LoadError saying what the path is instead."""
    try:
        info = path.stat()
    except FileNotFoundError:
        if path.is_symlink():
            raise LoadError(f"{path} is a broken symlink (it points to {os.readlink(path)})",
                            fix="fix or remove the link") from None
        raise LoadError(f"{path} does not exist", fix="check the path") from None
    except OSError as exc:
        raise LoadError(f"cannot access {path}: {exc.strerror}",
                        fix="check the path and its permissions") from None
    except ValueError as exc:  # e.g. an embedded NUL character
        raise LoadError(f"{path!r} is not a valid path: {exc}", fix="check the path") from None
    if stat.S_ISDIR(info.st_mode):
        raise LoadError(f"{path} is a folder, not a file",
                        fix="pass a file, or ingest the folder to load every file in it")
    if not stat.S_ISREG(info.st_mode):
        raise LoadError(f"{path} is not a regular file (a device, pipe or socket)",
                        fix="copy its content into a regular file")
    return info.st_size


def _read(path: Path, size: int, max_bytes: int) -> bytes:
    """The file's bytes; the size limit is checked (from stat) before reading, and again after."""

    def too_big(size: int) -> LoadError:
        have, limit = human_size(size), human_size(max_bytes)
        if have == limit:  # 20.0 MB vs 20.0 MB: show the bytes
            have, limit = f"{size} bytes", f"{max_bytes} bytes"
        return LoadError(f"{path} is {have}, over the {limit} limit",
                         fix="raise --max-file-mb or split the file")

    if size > max_bytes:
        raise too_big(size)
    try:
        with path.open("rb") as handle:
            data = handle.read(max_bytes + 1)  # the file may have grown since stat
    except PermissionError:
        raise LoadError(f"cannot read {path}: permission denied",
                        fix="make it readable (e.g. chmod u+r) or run as its owner") from None
    except OSError as exc:
        raise LoadError(f"cannot read {path}: {exc.strerror or exc}",
                        fix="check the path and that the disk is readable") from None
    if len(data) > max_bytes:
        raise too_big(len(data))
    return data


def _parse(target: str, data: bytes, path: Path, suffix: str) -> Parsed:
    """Run the format's parser; an unexpected library exception becomes a LoadError."""
    module_name, func_name = target.split(":")
    try:
        module = importlib.import_module(f"ingestion.loaders.{module_name}")
        return getattr(module, func_name)(data, str(path))
    except LoadError:
        raise
    except Exception as exc:  # noqa: BLE001 - the contract: no raw library exception escapes
        first = (str(exc).strip().splitlines() or [""])[0][:200]
        raise LoadError(f"could not parse {path}: {type(exc).__name__}: {first}",
                        fix=f"check that it is a valid {suffix} file (open and re-save it), "
                            "or convert it to plain text") from exc
