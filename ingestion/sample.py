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


def eval_sets(edition: str, target: Path) -> dict[str, Path]:
    """Write the corpus's questions as ``ragft eval`` inputs into ``target``; {"qa", "stable", "fresh"} paths.

    ``qa-EDITION.jsonl``: every question the edition answers (an unanswerable one with no answers),
    its value as of that edition; ``qa-stable.jsonl``: those whose answer is the same in both
    editions (the set to ask beside ``fresh.jsonl`` after switching editions). ``fresh.jsonl``: what v2 changed against v1: a changed value
    (old and new answers), a fact only v2 has (no old answers), and one only v1 had
    (``"deleted": true``: the documents no longer say it).
    """
    edition_dir(edition)
    target.mkdir(parents=True, exist_ok=True)
    rows = questions()
    qa = []
    for q in rows:
        if edition not in q["editions"]:
            continue
        answer = q.get("answer_v2", q["answer"]) if edition == "v2" else q["answer"]
        qa.append({"id": q["id"], "question": q["question"], "answers": [] if q["kind"] == "unanswerable" else [answer],
                   "source": q.get("source"), "kind": q["kind"]})
    fresh = []
    for q in rows:
        if q["kind"] == "changed":
            fresh.append({"id": q["id"], "question": q["question"], "old_answers": [q["answer"]],
                          "new_answers": [q["answer_v2"]], "source": q["source"]})
        elif q["editions"] == ["v2"]:
            fresh.append({"id": q["id"], "question": q["question"], "old_answers": [], "new_answers": [q["answer"]],
                          "source": q["source"]})
        elif q["editions"] == ["v1"] and q["kind"] != "unanswerable":
            fresh.append({"id": q["id"], "question": q["question"], "old_answers": [q["answer"]], "new_answers": [],
                          "source": q["source"], "deleted": True})
    moved = {f["id"] for f in fresh}
    stable = [r for r, q in zip(qa, [q for q in rows if edition in q["editions"]]) if r["id"] not in moved and len(q["editions"]) == 2]
    paths = {"qa": target / f"qa-{edition}.jsonl", "stable": target / "qa-stable.jsonl", "fresh": target / "fresh.jsonl"}
    for key, items in (("qa", qa), ("stable", stable), ("fresh", fresh)):
        paths[key].write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in items), encoding="utf-8")
    return paths
