"""Health checks over the data dir: records readable, vectors and records in step, no write left
half-done, embedder installed. ``repair=True`` fixes what can be fixed from the records alone
(interrupted writes are finished or undone; vectors are re-embedded or dropped to match).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ingestion.errors import RagftError
from ingestion.home import Home
from ingestion.records import RecordManager
from rag.embeddings import default_model_dir
from rag.index import Index


@dataclass
class HealthReport:
    problems: list[dict] = field(default_factory=list)
    collections: list[dict] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(p.get("repaired") for p in self.problems)

    def as_json(self) -> dict:
        return {"ok": self.ok, "problems": self.problems, "collections": self.collections}


def check(home: Home, *, repair: bool = False) -> HealthReport:
    report = HealthReport()
    try:
        default_model_dir()
    except RagftError as err:
        report.problems.append({"kind": "embedder", "message": err.one_line(), "repaired": False})
    try:
        records = RecordManager(home.records_db)
    except RagftError as err:
        report.problems.append({"kind": "records", "message": err.one_line(), "repaired": False})
        return report
    names = [c.name for c in records.collections()]
    records.close()
    for name in names:
        _check_collection(home, name, repair, report)
    return report


def _check_collection(home: Home, name: str, repair: bool, report: HealthReport) -> None:
    try:
        index = Index.open(home, collection=name, create=False)
    except RagftError as err:
        report.problems.append({"kind": "store", "collection": name, "message": err.one_line(), "repaired": False})
        return
    try:
        orphans, pending = index.records.recover(name)
        if pending:
            report.problems.append(
                {"kind": "interrupted-write", "collection": name, "message": f"{len(pending)} documents have an unfinished write", "repaired": repair}
            )
            if repair:
                index.remove(orphans)
                index.records.finish(name, pending)
        recorded = index.records.chunk_ids(name)
        present = index.store.ids()
        if recorded != present:
            report.problems.append(
                {
                    "kind": "vectors-out-of-step",
                    "collection": name,
                    "message": f"{len(recorded - present)} chunks lack vectors, {len(present - recorded)} vectors lack chunks",
                    "repaired": repair,
                }
            )
            if repair:
                index.reconcile()
        report.collections.append({"name": name, "store": index.store.kind, "documents": len(index.records.documents(name)), "chunks": len(recorded)})
    finally:
        index.close()
