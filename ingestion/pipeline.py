"""Incremental ingestion: paths in, an index that matches them out.

    report = Ingestor(records=..., sink=index, chunker=..., collection="default").run(["docs/"])

For each file: hash the bytes; an unchanged document (same hash, same chunking) costs nothing
more. A new or changed one is loaded, cleaned and chunked; only chunks whose ids are new get
embedded (ids follow content, not position). Documents are written in groups, so the embedder
sees large batches, through the record manager's two-phase protocol, so a crash at any point
leaves records, lexical index and vectors consistent after the next run's recovery. A folder
argument is synced: recorded documents under it that are gone from disk are deleted.
Bad files are reported in ``failed`` and never touch what was stored before.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Protocol, Sequence

from ingestion.chunking import Chunk, Chunker
from ingestion.errors import LoadError
from ingestion.files import file_sha256
from ingestion.loaders import DEFAULT_MAX_BYTES, SUPPORTED_SUFFIXES, iter_files, load_document
from ingestion.records import DocumentChange, RecordManager

GROUP_CHUNKS = 256  # chunks per write group: big enough for efficient embedding batches


class VectorSink(Protocol):
    """Where chunk vectors go (``rag.index.Index`` implements it)."""

    def add(self, chunks: Sequence[Chunk]) -> None: ...

    def remove(self, ids: Sequence[str]) -> None: ...

    def flush(self) -> None: ...


@dataclass
class IngestReport:
    collection: str
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    chunks_added: int = 0
    chunks_deleted: int = 0
    failed: list[dict[str, str]] = field(default_factory=list)
    recovered: int = 0
    seconds: float = 0.0
    changes: list[dict[str, str]] = field(default_factory=list)

    def as_json(self) -> dict:
        return {
            "collection": self.collection,
            "added": self.added,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "deleted": self.deleted,
            "chunks_added": self.chunks_added,
            "chunks_deleted": self.chunks_deleted,
            "failed": self.failed,
            "recovered": self.recovered,
            "changes": self.changes,
            "seconds": round(self.seconds, 3),
        }


@dataclass
class _Pending:
    change: DocumentChange
    new: list[Chunk]
    removed: list[str]
    status: str  # "added" | "updated" | "deleted"



Progress = Callable[[int, int, str], None]  # (done, total, current path)


class Ingestor:
    def __init__(
        self,
        *,
        records: RecordManager,
        sink: VectorSink,
        chunker: Chunker,
        collection: str,
        max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> None:
        self.records = records
        self.sink = sink
        self.chunker = chunker
        self.collection = collection
        self.max_bytes = max_bytes
        self._fingerprint = chunker.settings.fingerprint()

    def run(self, paths: Iterable[str | os.PathLike[str]], *, delete_missing: bool = True, progress: Progress | None = None) -> IngestReport:
        started = time.perf_counter()
        report = IngestReport(self.collection)
        report.recovered = self.recover()
        files, scopes = self._expand(paths, report)
        existing = self.records.documents(self.collection)
        group: list[_Pending] = []
        seen: set[str] = set()
        for n, path in enumerate(files):
            if progress:
                progress(n, len(files), str(path))
            source = str(path)
            seen.add(source)
            pending = self._prepare(path, existing.get(source), report)
            if pending is not None:
                group.append(pending)
                if sum(len(p.new) for p in group) >= GROUP_CHUNKS:
                    self._write(group, report)
                    group = []
        if group:
            self._write(group, report)
        if progress:
            progress(len(files), len(files), "")
        if delete_missing:
            gone = [
                _Pending(DocumentChange(s, rec.kind, rec.content_hash, rec.chunker, None), [], sorted(self.records.chunk_ids(self.collection, s)), "deleted")
                for s, rec in existing.items()
                if s not in seen and any(Path(s).is_relative_to(scope) for scope in scopes) and not os.path.exists(s)
            ]
            if gone:
                self._write(gone, report)
        self.sink.flush()
        report.seconds = time.perf_counter() - started
        return report

    def remove(self, sources: Iterable[str]) -> IngestReport:
        """Delete documents from the collection by source (as ``ragft docs`` lists them)."""
        started = time.perf_counter()
        report = IngestReport(self.collection)
        report.recovered = self.recover()
        existing = self.records.documents(self.collection)
        gone: list[_Pending] = []
        for source in dict.fromkeys(sources):
            rec = existing.get(source) or existing.get(str(Path(source).expanduser().resolve()))
            if rec is None:
                report.failed.append({"path": source, "error": f"{source} is not in collection '{self.collection}' (see `ragft docs`)"})
                continue
            ids = sorted(self.records.chunk_ids(self.collection, rec.source))
            gone.append(_Pending(DocumentChange(rec.source, rec.kind, rec.content_hash, rec.chunker, None), [], ids, "deleted"))
        if gone:
            self._write(gone, report)
        self.sink.flush()
        report.seconds = time.perf_counter() - started
        return report

    def recover(self) -> int:
        """Finish or undo the vector writes of an interrupted run (see ``ingestion.records``)."""
        orphans, sources = self.records.recover(self.collection)
        if sources:
            self.sink.remove(orphans)
            self.sink.flush()
            self.records.finish(self.collection, sources)
        return len(sources)

    # -- steps ------------------------------------------------------------------------------
    def _expand(self, paths: Iterable[str | os.PathLike[str]], report: IngestReport) -> tuple[list[Path], list[Path]]:
        files: list[Path] = []
        scopes: list[Path] = []
        for raw in paths:
            path = Path(raw).expanduser()
            if path.is_dir():
                root = path.resolve()
                scopes.append(root)
                files.extend(p.resolve() for p in iter_files(root))
            elif path.suffix.lower() not in SUPPORTED_SUFFIXES and path.exists():
                report.failed.append({"path": str(path), "error": f"unsupported file type '{path.suffix}' (supported: {' '.join(sorted(SUPPORTED_SUFFIXES))})"})
            else:
                files.append(path.resolve() if path.exists() else path.absolute())
        unique = list(dict.fromkeys(files))
        return unique, scopes

    def _prepare(self, path: Path, record, report: IngestReport) -> _Pending | None:
        source = str(path)
        try:
            if path.is_file() and path.stat().st_size <= self.max_bytes and record is not None:
                if record.content_hash == file_sha256(path) and record.chunker == self._fingerprint:
                    report.unchanged += 1
                    return None
            doc = load_document(path, max_bytes=self.max_bytes)
            version = record.version + 1 if record else 1
            chunks = self.chunker.chunk(doc, collection=self.collection, version=version)
            if not chunks:
                raise LoadError(f"{path} has no text left after cleaning", fix="check the file's content")
        except LoadError as err:
            report.failed.append({"path": source, "error": err.one_line()})
            return None
        except OSError as exc:
            report.failed.append({"path": source, "error": f"cannot read {path}: {exc.strerror or exc}"})
            return None
        old_ids = self.records.chunk_ids(self.collection, source) if record else set()
        new = [c for c in chunks if c.chunk_id not in old_ids]
        keep = {c.chunk_id for c in chunks}
        change = DocumentChange(source, doc.kind, doc.content_hash, self._fingerprint, chunks)
        return _Pending(change, new, sorted(old_ids - keep), "updated" if record else "added")

    def _write(self, group: list[_Pending], report: IngestReport) -> None:
        # Two-phase write: journal -> vectors in -> records swap -> old vectors out -> journal done.
        self.records.begin(self.collection, [(p.change.source, [c.chunk_id for c in p.new], p.removed) for p in group])
        self.sink.add([c for p in group for c in p.new])
        self.records.commit(self.collection, [p.change for p in group])
        self.sink.remove([cid for p in group for cid in p.removed])
        self.records.finish(self.collection, [p.change.source for p in group])
        for p in group:
            setattr(report, p.status, getattr(report, p.status) + 1)
            report.chunks_added += len(p.new)
            report.chunks_deleted += len(p.removed)
            report.changes.append({"source": p.change.source, "status": p.status})
