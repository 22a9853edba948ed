"""The bundled sample corpus: a fictional organisation's documentation in two editions.

``v2`` changes about a quarter of ``v1``'s files, removes one and adds one, so a user can ingest
``v1``, train on it, switch the working copy to ``v2`` and see which routes notice.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from ingestion.errors import ConfigError

SAMPLE_ROOT = Path(__file__).resolve().parent / "sample_corpus"
EDITIONS = ("v1", "v2")


def edition_dir(edition: str) -> Path:
    if edition not in EDITIONS:
        raise ConfigError(f"--edition '{edition}' is not a sample edition", fix="use v1 or v2")
    path = SAMPLE_ROOT / edition
    if not path.is_dir():
        raise ConfigError(f"the sample corpus is missing at {path}", fix="reinstall ragft")
    return path


def materialize(edition: str, target: Path) -> list[Path]:
    """Make ``target`` hold exactly the files of ``edition`` (a working copy users can edit).

    Files are copied only when their bytes differ, so unchanged files keep their identity and
    a re-ingest sees exactly the edition's changes.
    """
    source = edition_dir(edition)
    target.mkdir(parents=True, exist_ok=True)
    wanted = {p.relative_to(source) for p in source.rglob("*") if p.is_file()}
    for rel in sorted(wanted):
        dst = target / rel
        src = source / rel
        if not dst.is_file() or dst.read_bytes() != src.read_bytes():
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, dst)
    for path in sorted(target.rglob("*"), reverse=True):
        rel = path.relative_to(target)
        if path.is_file() and rel not in wanted:
            path.unlink()
        elif path.is_dir() and not any(path.iterdir()):
            path.rmdir()
    return [target / rel for rel in sorted(wanted)]


def questions() -> list[dict]:
    """The evaluation questions shipped with the corpus (see sample_corpus/README.md)."""
    path = SAMPLE_ROOT / "questions.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
