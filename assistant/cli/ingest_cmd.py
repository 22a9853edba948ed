"""``ragft ingest PATH... [--collection NAME] [--store chroma|faiss|http://HOST:PORT] [--json]``."""

from __future__ import annotations

import argparse

from assistant.cli.common import add_collection_flags, home_of, progress_bar
from ingestion.chunking import ChunkSettings
from ingestion.errors import ConfigError
from rag.embeddings import DEFAULT_EMBEDDER, Embedder
from rag.indexing import ingest_paths


def register(sub: argparse._SubParsersAction) -> None:
    from assistant.cli import add_json_flag

    p = sub.add_parser("ingest", help="add, update and sync documents into the index")
    p.add_argument("paths", nargs="+", metavar="PATH", help="files or folders; a folder is synced")
    add_collection_flags(p)
    p.add_argument("--no-delete", action="store_true", help="keep documents that are gone from a synced folder")
    p.add_argument("--chunk-tokens", type=int, default=ChunkSettings.chunk_tokens, help="chunk length in embedder tokens")
    p.add_argument("--chunk-overlap", type=int, default=ChunkSettings.chunk_overlap, help="overlap between chunks, in tokens")
    p.add_argument("--max-file-mb", type=float, default=20.0, help="files larger than this are skipped as failed")
    p.add_argument("--embedder", default=None, help=f"sentence-transformers model or path (default: {DEFAULT_EMBEDDER})")
    p.add_argument("--no-calibrate", action="store_true",
                   help="do not re-fit the collection's answer calibration after a change (ragft calibrate does it later)")
    add_json_flag(p)
    p.set_defaults(handler=run, render=render)


def run(args: argparse.Namespace) -> dict:
    if args.max_file_mb <= 0:
        raise ConfigError(f"--max-file-mb {args.max_file_mb} must be positive", fix="pass a size in MB, e.g. --max-file-mb 20")
    settings = ChunkSettings(chunk_tokens=args.chunk_tokens, chunk_overlap=args.chunk_overlap)
    embedder = Embedder(model=args.embedder) if args.embedder else None
    with progress_bar("ingest") as update:
        report = ingest_paths(
            home_of(args),
            args.paths,
            collection=args.collection,
            store=args.store,
            settings=settings,
            max_bytes=int(args.max_file_mb * 1024 * 1024),
            embedder=embedder,
            delete_missing=not args.no_delete,
            progress=update,
        )
    out = report.as_json()
    changed = report.added or report.updated or report.deleted
    if changed and not args.no_calibrate:  # the routes' gate and context size follow the documents
        out["calibration"] = _calibrate(args)
    return out


def _calibrate(args: argparse.Namespace) -> dict:
    """``assistant.calibration.recalibrate_after_change`` with a progress bar."""
    from assistant.calibration import recalibrate_after_change
    from assistant.cli.common import profile_of

    with progress_bar("calibrate", unit="question") as update:
        return recalibrate_after_change(home_of(args), args.collection, profile=profile_of(args),
                                        progress=lambda d, t: update(d, t, ""))


def render(payload: dict) -> str:
    lines = [
        f"collection {payload['collection']}: {payload['added']} added, {payload['updated']} updated, "
        f"{payload['unchanged']} unchanged, {payload['deleted']} deleted; chunks +{payload['chunks_added']} "
        f"-{payload['chunks_deleted']} ({payload['seconds']:.1f} s)"
    ]
    lines += [f"  failed: {f['path']}: {f['error']}" for f in payload["failed"]]
    cal = payload.get("calibration")
    if cal:
        lines.append(f"  calibration: {cal.get('error') or cal['note'] or 'abstain below %s, %s context sentences (%s s)' % (cal['threshold'], cal['max_sentences'], cal['seconds'])}")
    return "\n".join(lines)
