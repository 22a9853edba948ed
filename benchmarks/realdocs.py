"""Real documentation sets for ``bench_rag.py --sets``: ingest, the plain baseline, the routes.

    .venv/bin/python benchmarks/bench_rag.py --sets sqlite,git,httpd [--routes naive,agentic] [--limit N]

Each set is a page list of documentation that a Debian package installs, and a frozen question
file under ``benchmarks/data/`` (``benchmarks/data/README.md`` says how each was written; none was
tuned on). The pages are ingested with the real pipeline into a fresh temporary data dir, the
collection is calibrated from itself (``assistant/calibration.py``), and every route answers
every question with the default model. The baseline in the same run is the plain pipeline of
issue 12: LangChain's ``RecursiveCharacterTextSplitter`` (900 characters, 150 overlap) over the
same extracted page text, MiniLM (the same embedder) and bm25s fused by reciprocal rank, the
top 3 chunks into one prompt, the same model (``--model``; default the bundled SmolLM2 GGUF) on
llama.cpp, greedy, 64 tokens.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"


@dataclass(frozen=True)
class DocSet:
    name: str
    root: Path
    package: str
    questions: Path
    pages: tuple[str, ...]


def _pages(name: str) -> tuple[str, ...]:
    return tuple(line.strip() for line in (DATA / name).read_text().splitlines() if line.strip())


def doc_sets() -> dict[str, DocSet]:
    from bench_retrieval import DOC_FILES  # the SQLite pages, shared with the retrieval benchmark

    return {
        "sqlite": DocSet("sqlite", Path("/usr/share/doc/sqlite3"), "sqlite3-doc", DATA / "qa_sqlite.jsonl", tuple(DOC_FILES)),
        "git": DocSet("git", Path("/usr/share/doc/git-doc"), "git-doc", DATA / "qa_git.jsonl", _pages("qa_git.pages.txt")),
        "httpd": DocSet("httpd", Path("/usr/share/doc/apache2-doc/manual/en"), "apache2-doc", DATA / "qa_httpd.jsonl",
                        _pages("qa_httpd.pages.txt")),
    }


def load_questions(ds: DocSet, limit: int | None = None) -> list[dict]:
    rows = [json.loads(line) for line in ds.questions.read_text().splitlines() if line.strip()]
    if limit:  # keep the answerable / unanswerable mix
        ans = [r for r in rows if r["kind"] == "answerable"]
        una = [r for r in rows if r["kind"] != "answerable"]
        rows = ans[: max(1, limit * len(ans) // len(rows))] + una[: max(1, limit * len(una) // len(rows))]
    return rows


def page_paths(ds: DocSet) -> list[Path]:
    missing = [p for p in ds.pages if not (ds.root / p).is_file()]
    if missing:
        raise SystemExit(f"bench_rag: {len(missing)} pages of the {ds.name} set are missing under {ds.root} "
                         f"(first: {missing[0]}); install them with: apt-get install -y {ds.package}")
    return [ds.root / p for p in ds.pages]


def ingest(home, ds: DocSet) -> float:
    """Copy the pages into the data dir (so sources are relative) and ingest them; returns seconds."""
    import shutil

    from rag.indexing import ingest_paths

    corpus = home.root / f"docs-{ds.name}"
    for src in page_paths(ds):
        dst = corpus / src.relative_to(ds.root)
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dst)
    report = ingest_paths(home, [str(corpus)])
    if report.failed:
        raise SystemExit(f"bench_rag: ingest of {ds.name} failed: {report.failed[:3]}")
    return report.seconds


# -- the plain baseline ---------------------------------------------------------------------------
class PlainPipeline:
    """The 40-line pipeline a user would write first (see the module docstring)."""

    PROMPT = "Answer the question using the context.\n\nContext:\n{context}\n\nQuestion: {question}"

    def __init__(self, ds: DocSet, *, home, embedder, model) -> None:
        import bm25s
        import numpy as np
        from langchain_text_splitters import RecursiveCharacterTextSplitter

        from ingestion.loaders import load_document

        splitter = RecursiveCharacterTextSplitter(chunk_size=900, chunk_overlap=150)
        self.chunks: list[tuple[str, str]] = []  # (source, text)
        for path in page_paths(ds):
            text = load_document(path).text
            self.chunks += [(path.relative_to(ds.root).as_posix(), c) for c in splitter.split_text(text)]
        self.embedder, self.model, self.np = embedder, model, np
        self.vectors = embedder.embed_documents([c for _, c in self.chunks])
        self.bm25 = bm25s.BM25()
        self.bm25.index(bm25s.tokenize([c for _, c in self.chunks], stopwords="en", show_progress=False), show_progress=False)

    def answer(self, question: str):
        import bm25s

        from rag.chat_model import GenerationOptions

        dense = list(self.np.argsort(-(self.vectors @ self.embedder.embed_query(question)))[:50])
        ids, _ = self.bm25.retrieve(bm25s.tokenize([question], stopwords="en", show_progress=False),
                                    k=min(50, len(self.chunks)), show_progress=False)
        fused: dict[int, float] = {}
        for ranking in (dense, list(ids[0])):
            for rank, i in enumerate(ranking):
                fused[int(i)] = fused.get(int(i), 0.0) + 1.0 / (60 + rank + 1)
        top = sorted(fused, key=fused.get, reverse=True)[:3]
        context = "\n\n".join(self.chunks[i][1] for i in top)
        done = self.model.generate([{"role": "user", "content": self.PROMPT.format(context=context, question=question)}],
                                   GenerationOptions(max_tokens=64, deterministic=True))
        return done.text.strip(), [self.chunks[i][0] for i in top]


# -- scoring ---------------------------------------------------------------------------------------
def score_row(q: dict, answer: str, abstained: bool, cited: list[str], latency: float, extra: dict | None = None) -> dict:
    from bench_rag import contains, exact, token_f1

    golds = q.get("answers") or []
    best = lambda f: max((f(answer, g) for g in golds), default=0.0)  # noqa: E731
    return {"id": q["id"], "kind": q["kind"], "question": q["question"], "gold": golds[:1], "answer": answer,
            "abstained": abstained, "em": best(exact), "f1": best(token_f1), "contains": best(contains),
            "cited": cited, "cited_gold": float(bool(q.get("source")) and q["source"] in cited),
            "latency_s": round(latency, 3), **(extra or {})}


def summarize(rows: list[dict]) -> dict:
    from bench_rag import pct

    ans = [r for r in rows if r["kind"] == "answerable"]
    una = [r for r in rows if r["kind"] != "answerable"]
    mean = lambda xs: round(statistics.fmean(xs), 4) if xs else None  # noqa: E731
    return {"answerable": len(ans), "unanswerable": len(una),
            "contains_gold": mean([r["contains"] for r in ans]), "token_f1": mean([r["f1"] for r in ans]),
            "exact_match": mean([r["em"] for r in ans]),
            "abstain_answerable": mean([float(r["abstained"]) for r in ans]),
            "abstain_unanswerable": mean([float(r["abstained"]) for r in una]),
            "citation_accuracy": mean([r["cited_gold"] for r in ans]),
            "latency_p50_s": round(pct([r["latency_s"] for r in rows], 0.5), 3)}


def run_set(ds: DocSet, routes: list[str], *, limit: int | None, log, baseline: bool = True, homes: str | None = None,
            model: str = "smollm2-135m") -> dict:
    import contextlib
    import tempfile

    from assistant.calibration import calibrate_collection
    from assistant.llm import get_model
    from assistant.routes import RouteContext, build_route
    from ingestion.home import Home
    from rag.chat_model import GenerationOptions
    from rag.embeddings import Embedder

    questions = load_questions(ds, limit)
    out: dict = {"questions": len(questions)}
    # --homes DIR keeps each set's data dir (DIR/NAME) between runs: a re-run ingests nothing new.
    keep = Path(homes) / ds.name if homes else None
    with (contextlib.nullcontext(str(keep)) if keep else tempfile.TemporaryDirectory(prefix=f"bench-rag-{ds.name}-")) as tmp:
        home = Home.resolve(tmp)
        out["ingest_s"] = round(ingest(home, ds), 1)
        corpus = home.root / f"docs-{ds.name}"
        start = time.perf_counter()
        cal = calibrate_collection(home, model=get_model(model, home=home))
        out["calibration"] = {**cal.summary(), "answer_modes": cal.answer_modes, "context_recall": cal.context_recall,
                              "seconds": round(time.perf_counter() - start, 1)}
        log(f"{ds.name}: ingested in {out['ingest_s']} s; calibrated in {out['calibration']['seconds']} s: {cal.summary()}")
        per_route: dict[str, list[dict]] = {}
        if baseline:
            plain = PlainPipeline(ds, home=home, embedder=Embedder(), model=get_model(model, home=home))
            rows = []
            for q in questions:
                t = time.perf_counter()
                text, sources = plain.answer(q["question"])
                rows.append(score_row(q, text, False, sources, time.perf_counter() - t))
            per_route["baseline"] = rows
            log(f"{ds.name}: baseline {summarize(rows)}")
        options = GenerationOptions(max_tokens=64, deterministic=True)
        for name in routes:
            route = build_route(name, RouteContext(home=home, model=model, options=options))
            route.answer("What is this documentation about?")  # warm-up
            rows = []
            for q in questions:
                t = time.perf_counter()
                res = route.answer(q["question"])
                cited = [Path(c["source"]).relative_to(corpus).as_posix() for c in res.citations]
                rows.append(score_row(q, res.answer, res.abstained, cited, time.perf_counter() - t,
                                      {"reason": res.reason}))
            if hasattr(route, "close"):
                route.close()
            per_route[name] = rows
            log(f"{ds.name}: {name} {summarize(rows)}")
        out["routes"] = {name: summarize(rows) for name, rows in per_route.items()}
        out["rows"] = per_route
    return out


def main(args, log) -> dict:
    sets = doc_sets()
    names = list(sets) if args.sets == "all" else args.sets.split(",")
    unknown = [n for n in names if n not in sets]
    if unknown:
        raise SystemExit(f"bench_rag: unknown set(s) {unknown}; known: {', '.join(sets)}")
    routes = [r for r in args.routes.split(",") if r and r != "base"] if args.routes else ["naive", "agentic"]
    results = {name: run_set(sets[name], routes, limit=args.limit, log=log, baseline=not args.no_baseline, homes=args.homes,
                             model=args.model or "smollm2-135m")
               for name in names}
    return results


def table(summary: dict) -> str:
    cols = ("contains_gold", "token_f1", "abstain_answerable", "abstain_unanswerable", "citation_accuracy", "latency_p50_s")
    lines = [f"{'set':<8}{'route':<10}" + "".join(f"{c[:18]:>19}" for c in cols)]
    for name, res in summary.items():
        for route, s in res["routes"].items():
            lines.append(f"{name:<8}{route:<10}" + "".join(f"{(s[c] if s[c] is not None else float('nan')):>19.3f}" for c in cols))
        lines.append(f"{'':<8}calibration: {res['calibration']}")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit("run it through bench_rag.py --sets")
