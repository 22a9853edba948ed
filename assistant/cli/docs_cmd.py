"""``ragft docs [--collection NAME] [--json]``: the documents in a collection."""

from __future__ import annotations

import argparse

from assistant.cli.common import home_of
from ingestion.records import RecordManager
from rag.index import validate_collection
from rag.indexing import remove_documents


def register(sub: argparse._SubParsersAction) -> None:
    from assistant.cli import add_json_flag

    p = sub.add_parser("docs", help="list ingested documents")
    p.add_argument("--collection", default="default", help="collection name (default: default)")
    p.add_argument("--delete", nargs="+", metavar="SOURCE", default=None, help="delete these documents from the index")
    add_json_flag(p)
    p.set_defaults(handler=run, render=render)


def run(args: argparse.Namespace) -> dict:
    validate_collection(args.collection)
    if args.delete:
        report = remove_documents(home_of(args), args.delete, collection=args.collection).as_json()
        return {"collection": args.collection, "deleted": report["deleted"], "chunks_deleted": report["chunks_deleted"], "failed": report["failed"]}
    records = RecordManager(home_of(args).records_db)
    try:
        docs = [d.as_json() for d in records.documents(args.collection).values()]
    finally:
        records.close()
    return {"collection": args.collection, "documents": docs}


def render(payload: dict) -> str:
    if "deleted" in payload:
        lines = [f"deleted {payload['deleted']} documents ({payload['chunks_deleted']} chunks)"]
        return "\n".join(lines + [f"  failed: {f['path']}: {f['error']}" for f in payload["failed"]])
    if not payload["documents"]:
        return f"collection {payload['collection']} has no documents (run `ragft ingest PATH`)"
    return "\n".join(
        f"v{d['version']:<3} {d['chunks']:>4} chunks  {d['ingested_at']}  {d['source']}" for d in payload["documents"]
    )
