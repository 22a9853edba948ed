"""Small file helpers shared by every layer (ingestion is the bottom of the import graph)."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path


def write_atomic(path: Path, data: bytes) -> None:
    """Write to a temporary file in the same folder and rename it over ``path``: a reader (or a
    crash) sees the old file or the new one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def replace_dir(tmp: Path, out: Path) -> None:
    """Swap a fully written folder ``tmp`` into ``out`` (replacing what was there): the folder is
    the old one or the new one, never half-written."""
    import shutil

    if out.exists():
        old = out.parent / f".{out.name}.old-{os.getpid()}"
        shutil.rmtree(old, ignore_errors=True)
        out.rename(old)
        shutil.rmtree(old, ignore_errors=True)
    tmp.rename(out)


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of a file's bytes, read in blocks (documents and datasets can be large)."""
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()
