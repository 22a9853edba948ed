"""``ragft search QUERY [-k N] [--mode dense|lexical|hybrid] [--json]`` or ``--queries FILE``."""

from __future__ import annotations

import argparse
from pathlib import Path

from assistant.cli.common import add_collection_flags, home_of
from ingestion.errors import ConfigError
from rag.index import Index
from rag.retrieval import MODES, Retriever


def register(sub: argparse._SubParsersAction) -> None:
    from assistant.cli import add_json_flag

    p = sub.add_parser("search", help="retrieve the chunks that best match a query")
    p.add_argument("query", nargs="?", metavar="QUERY")
    p.add_argument("--queries", metavar="FILE", help="one query a line; models load once")
    p.add_argument("-k", type=int, default=5, help="number of hits (default 5)")
    p.add_argument("--mode", choices=MODES, default="hybrid", help="dense, lexical or hybrid (default)")
    p.add_argument("--rerank", metavar="MODEL", default=None, help="cross-encoder model path to re-order the hits")
    add_collection_flags(p, with_store=False)
    add_json_flag(p)
    p.set_defaults(handler=run, render=render)


def _queries(args: argparse.Namespace) -> list[str] | None:
    if args.queries and args.query:
        raise ConfigError("give either QUERY or --queries FILE, not both", fix="drop one of them")
    if args.queries:
        path = Path(args.queries)
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"--queries {path} cannot be read: {exc}", fix="pass a UTF-8 text file, one query a line") from exc
        return [q.strip() for q in lines if q.strip()]
    if not args.query or not args.query.strip():
        raise ConfigError("no query given", fix="pass QUERY or --queries FILE")
    return None


def run(args: argparse.Namespace) -> dict:
    batch = _queries(args)
    index = Index.open(home_of(args), collection=args.collection, create=False)
    try:
        retriever = Retriever(index, reranker=args.rerank)

        def hits(q: str) -> list[dict]:
            result = retriever.search(q, k=args.k, mode=args.mode)
            return [
                {"source": h.source, "chunk_id": h.chunk_id, "score": h.score, "text": h.text, "heading": h.heading, "page": h.page}
                for h in result.hits
            ]

        if batch is None:
            return {"query": args.query, "mode": args.mode, "hits": hits(args.query)}
        return {"mode": args.mode, "results": [{"query": q, "hits": hits(q)} for q in batch]}
    finally:
        index.close()


def render(payload: dict) -> str:
    blocks = payload.get("results") or [{"query": payload["query"], "hits": payload["hits"]}]
    out: list[str] = []
    for block in blocks:
        out.append(f"# {block['query']}")
        for n, h in enumerate(block["hits"], start=1):
            snippet = " ".join(h["text"].split())[:160]
            out.append(f"{n}. [{h['score']:.3f}] {h['source']}\n   {snippet}")
    return "\n".join(out)
