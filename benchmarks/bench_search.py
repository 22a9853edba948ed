""".venv/bin/python benchmarks/bench_search.py [--json] [--chunks 100000] [--queries 200]

Search latency at scale against the foundation issue's targets: at 100,000 chunks on 2 cores,
p50 dense <= 10 ms and hybrid <= 25 ms, excluding the query embedding (reported separately).

Building the index: embedding 100,000 chunks with MiniLM would take hours on 2 cores, so the
chunk *texts* are synthetic (a Zipf-distributed vocabulary of ~30,000 words, 80-200 words a
chunk, 50 chunks a document) and go into the records and the FTS5 index through the real
``RecordManager.begin/commit/finish`` path, while the *vectors* are seeded random unit vectors
(dim 384, float32) written through the real store interface (``ChromaStore.upsert``,
``FaissStore.upsert``). Random vectors have no cluster structure, which is the hard case for
Chroma's HNSW graph. The query vectors are real all-MiniLM-L6-v2 embeddings of realistic
questions built from the corpus's words.

Timed per query (all operations of one query run back to back, so load drift on the shared
machine hits them alike):
- dense: ``Retriever.search(mode="dense", k=5)`` minus the ``timings.embed_s`` it reports
  (store query + record lookup of the hit texts), for Chroma and FAISS; the retriever's
  embedder answers ``embed_query`` from the query vectors computed before the timing, so each
  query is embedded once, not once per timed operation;
- lexical: ``Retriever.search(mode="lexical", k=5)`` (FTS5 BM25 + record lookup);
- hybrid: ``Retriever.search(mode="hybrid", k=5)`` minus ``embed_s`` (dense and lexical at the
  retriever's candidate depth, RRF fusion, record lookup);
- the store alone: ``Index.dense(vector, k)`` with the pre-computed query vector, k=5 and 50;
- baseline: brute-force numpy (``vectors @ q`` + ``argpartition``) over the same vectors, in a
  loop of its own (BLAS threads busy-wait after a call and would slow the next operation),
  with numpy's default threads and with one BLAS thread;
- the query embedding itself (``Embedder.embed_query``).

Progress goes to stderr; ``--json`` prints one JSON object on stdout.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

TARGET_DENSE_MS = 10.0
TARGET_HYBRID_MS = 25.0
DIM = 384
CHUNKS_PER_DOC = 50
GROUP_DOCS = 20  # documents per begin/commit/finish group (1,000 chunks)
VOCAB_SIZE = 30_000
ZIPF_S = 1.0
NOTE = (
    "chunk texts are synthetic (Zipf vocabulary) written through RecordManager.commit (records + FTS5); "
    "vectors are seeded random unit vectors written through the store interface, not MiniLM embeddings; "
    "query vectors are real MiniLM embeddings"
)

# The most frequent English words, in rough frequency order: the head of the Zipf distribution.
HEAD = """the of and to a in is that for it as was with be by on not he this are or his from at which
but have an they you were her she there been one all we their has would when if so no will more
can out other into some time only them could new these two may first then do any like my now over
such our man me even most made after also did many before must through back years where much your
way well down should because each just those people how too little state good very make world
still own see men work long get here between both life being under never day same another know
while last might us great old year off come since against go came right used take three""".split()


def log(msg: str) -> None:
    print(f"[bench_search {time.strftime('%H:%M:%S')} load {os.getloadavg()[0]:.2f}] {msg}", file=sys.stderr, flush=True)


def make_vocab(tokenizer_vocab: dict[str, int], rng: np.random.Generator) -> np.ndarray:
    """~30k words in rank order: English function words first, then whole words of the MiniLM
    vocabulary in a seeded order, then pronounceable pseudo-words for the rare tail."""
    head = list(dict.fromkeys(HEAD))
    words = sorted(w for w in tokenizer_vocab if re.fullmatch(r"[a-z]{2,}", w) and w not in set(head))
    rng.shuffle(words)
    vocab = head + words
    syll = ["ka", "lo", "mi", "ter", "van", "su", "ren", "dor", "pel", "qui", "zan", "bri", "tol", "mes", "nar"]
    while len(vocab) < VOCAB_SIZE:
        vocab.append("".join(rng.choice(syll, size=int(rng.integers(3, 5)))))
    return np.array(list(dict.fromkeys(vocab))[:VOCAB_SIZE], dtype=object)


def make_texts(n: int, vocab: np.ndarray, rng: np.random.Generator) -> list[str]:
    ranks = np.arange(1, len(vocab) + 1, dtype=np.float64)
    p = ranks**-ZIPF_S
    p /= p.sum()
    lengths = rng.integers(80, 201, size=n)
    draws = rng.choice(len(vocab), size=int(lengths.sum()), p=p)
    texts, at = [], 0
    for length in lengths.tolist():
        words = vocab[draws[at : at + length]]
        at += length
        # sentences of ~8-20 words, so the text reads like prose to FTS5 and the splitter alike
        cut = 0
        parts = []
        while cut < length:
            step = int(rng.integers(8, 21))
            sentence = " ".join(words[cut : cut + step])
            parts.append(sentence[:1].upper() + sentence[1:] + ".")
            cut += step
        texts.append(" ".join(parts))
    return texts


TEMPLATES = (
    "how many {a} {b} does the {c} allow?",
    "what is the {a} policy for {b}?",
    "who approves {a} {b} in {c}?",
    "when does the {a} {b} start?",
    "{a} {b} {c} limit",
    "where can I find the {a} for {b} {c}?",
    "why was the {a} {b} changed?",
    "what happens if a {a} misses the {b} {c}?",
)


def make_queries(n: int, texts: list[str], rng: np.random.Generator) -> list[str]:
    """Questions about words that occur together in one chunk (users ask about what is there)."""
    from rag.lexical import STOPWORDS

    head = set(HEAD)
    queries = []
    for i in range(n):
        words = [w for w in re.findall(r"[a-z]+", texts[int(rng.integers(len(texts)))].lower()) if w not in head and w not in STOPWORDS]
        pick = rng.choice(words, size=3, replace=False) if len(set(words)) >= 3 else ["leave", "days", "policy"]
        queries.append(TEMPLATES[i % len(TEMPLATES)].format(a=pick[0], b=pick[1], c=pick[2]))
    return queries


def build(home, n: int, rng: np.random.Generator, embedder) -> dict:
    """Records + FTS5 through the record manager; random unit vectors into Chroma and FAISS."""
    from ingestion.chunking import Chunk, ChunkSettings, chunk_id_for
    from ingestion.records import DocumentChange
    from rag.index import Index
    from rag.stores.faiss_store import FaissStore

    t0 = time.perf_counter()
    vocab = make_vocab(embedder.model.tokenizer.get_vocab(), rng)
    texts = make_texts(n, vocab, rng)
    vectors = rng.standard_normal((n, DIM), dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    gen_s = time.perf_counter() - t0
    log(f"generated {n} chunk texts ({sum(len(t.split()) for t in texts)} words) and vectors in {gen_s:.1f} s")

    index = Index.open(home, store="chroma", embedder=embedder)
    faiss_store = FaissStore(directory=home.faiss_dir, collection=index.collection, dim=DIM)
    fingerprint = ChunkSettings().fingerprint()
    ids: list[str] = []
    timings = {"generate_s": gen_s, "records_s": 0.0, "chroma_s": 0.0, "faiss_s": 0.0}
    docs = (n + CHUNKS_PER_DOC - 1) // CHUNKS_PER_DOC
    for g0 in range(0, docs, GROUP_DOCS):
        changes, plan = [], []
        for d in range(g0, min(docs, g0 + GROUP_DOCS)):
            source = f"/bench/corpus/doc-{d:05d}.md"
            chunks = []
            for pos, i in enumerate(range(d * CHUNKS_PER_DOC, min(n, (d + 1) * CHUNKS_PER_DOC))):
                text_hash = hashlib.sha256(texts[i].encode()).hexdigest()
                chunks.append(Chunk(chunk_id_for(index.collection, source, text_hash, 0), source, pos, f"Document {d} > Part {pos // 10}", None, texts[i], text_hash))
            changes.append(DocumentChange(source, "md", hashlib.sha256(source.encode()).hexdigest(), fingerprint, chunks))
            plan.append((source, [c.chunk_id for c in chunks], []))
        group_ids = [c.chunk_id for ch in changes for c in ch.chunks]
        lo, hi = len(ids), len(ids) + len(group_ids)
        group_sources = [c.source for ch in changes for c in ch.chunks]
        t = time.perf_counter()
        index.records.begin(index.collection, plan)
        timings["records_s"] += time.perf_counter() - t
        t = time.perf_counter()
        index.store.upsert(group_ids, vectors[lo:hi], group_sources)
        timings["chroma_s"] += time.perf_counter() - t
        t = time.perf_counter()
        faiss_store.upsert(group_ids, vectors[lo:hi], group_sources)
        timings["faiss_s"] += time.perf_counter() - t
        t = time.perf_counter()
        index.records.commit(index.collection, changes)
        index.records.finish(index.collection, [s for s, _, _ in plan])
        timings["records_s"] += time.perf_counter() - t
        ids.extend(group_ids)
        if (g0 // GROUP_DOCS) % 10 == 0:
            log(f"  {hi} / {n} chunks written")
    t = time.perf_counter()
    faiss_store.flush()
    timings["faiss_s"] += time.perf_counter() - t
    faiss_index = Index(home=home, records=index.records, collection=index.collection, store=faiss_store, embedder=embedder)
    return {"index": index, "faiss_index": faiss_index, "texts": texts, "vectors": vectors, "ids": ids, "timings": {k: round(v, 2) for k, v in timings.items()}}


def pct(samples: list[float]) -> dict:
    a = np.asarray(samples) * 1000.0
    return {"p50_ms": round(float(np.percentile(a, 50)), 3), "p95_ms": round(float(np.percentile(a, 95)), 3), "mean_ms": round(float(a.mean()), 3)}


def precomputed(embedder, table: dict[str, np.ndarray]):
    """The same embedder, answering ``embed_query`` from vectors computed before the timing."""
    from rag.embeddings import Embedder

    class Precomputed(Embedder):
        def embed_query(self, text: str) -> np.ndarray:
            return table[text]

    pre = Precomputed(model=embedder.name, batch_size=embedder.batch_size, device=embedder.device)
    pre._model = embedder.model
    return pre


@contextmanager
def _blas_threads(n: int | None):
    """Limit numpy's BLAS to n threads (threadpoolctl, when installed); None = as configured."""
    if n is None:
        yield
        return
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        yield
        return
    with threadpool_limits(limits=n, user_api="blas"):
        yield


def measure(built: dict, queries: list[str], embedder, warmup: int = 20) -> dict:
    from rag.index import Index
    from rag.retrieval import Retriever

    vectors, ids = built["vectors"], built["ids"]
    log(f"embedding {len(queries)} queries (timed separately)")
    qvecs, embed_times = [], []
    for q in queries:
        t = time.perf_counter()
        qvecs.append(embedder.embed_query(q))
        embed_times.append(time.perf_counter() - t)
    # Retriever.search runs unchanged; its embed_query step returns the vectors computed above
    # (its reported embed_s, a dict lookup, is still subtracted).
    pre = precomputed(embedder, dict(zip(queries, qvecs)))
    retr = {
        name: Retriever(Index(home=idx.home, records=idx.records, collection=idx.collection, store=idx.store, embedder=pre))
        for name, idx in (("chroma", built["index"]), ("faiss", built["faiss_index"]))
    }

    def numpy_topk(v: np.ndarray, k: int = 5) -> list[str]:
        scores = vectors @ v
        top = np.argpartition(-scores, k)[:k]
        return [ids[i] for i in top[np.argsort(-scores[top])]]

    def search_no_embed(r: Retriever, q: str, mode: str) -> float:
        t = time.perf_counter()
        res = r.search(q, k=5, mode=mode)
        total = time.perf_counter() - t
        if not res.hits:
            raise SystemExit(f"bench_search: no hits for {q!r} in mode {mode}")
        return total - res.timings.embed_s

    ops = {
        "chroma_store_k5": lambda q, v: built["index"].dense(v, 5),
        "chroma_store_k50": lambda q, v: built["index"].dense(v, 50),
        "faiss_store_k5": lambda q, v: built["faiss_index"].dense(v, 5),
        "faiss_store_k50": lambda q, v: built["faiss_index"].dense(v, 50),
        "lexical_fts5_k50": lambda q, v: built["index"].lexical.search(q, collection=built["index"].collection, k=50),
    }
    timed_ops = {
        "dense_chroma": lambda q: search_no_embed(retr["chroma"], q, "dense"),
        "dense_faiss": lambda q: search_no_embed(retr["faiss"], q, "dense"),
        "lexical": lambda q: search_no_embed(retr["chroma"], q, "lexical"),
        "hybrid_chroma": lambda q: search_no_embed(retr["chroma"], q, "hybrid"),
        "hybrid_faiss": lambda q: search_no_embed(retr["faiss"], q, "hybrid"),
    }
    log(f"warm-up: {warmup} queries")
    for q, v in zip(queries[:warmup], qvecs[:warmup]):
        for fn in ops.values():
            fn(q, v)
        for fn in timed_ops.values():
            fn(q)
    samples: dict[str, list[float]] = {name: [] for name in list(ops) + list(timed_ops)}
    loads = [os.getloadavg()[0]]
    log(f"timing {len(queries)} queries x {len(samples)} operations")
    for i, (q, v) in enumerate(zip(queries, qvecs)):
        for name, fn in ops.items():
            t = time.perf_counter()
            fn(q, v)
            samples[name].append(time.perf_counter() - t)
        for name, fn in timed_ops.items():
            samples[name].append(fn(q))
        if i % 50 == 49:
            loads.append(os.getloadavg()[0])
            log(f"  {i + 1} queries")
    # The baseline runs in a loop of its own: numpy's BLAS threads busy-wait after each call and
    # would slow whatever ran next in an interleaved loop.
    log("numpy brute-force baseline")
    for label, threads in (("numpy_bruteforce_k5", None), ("numpy_bruteforce_k5_1thread", 1)):
        with _blas_threads(threads):
            for v in qvecs[:warmup]:
                numpy_topk(v)
            samples[label] = []
            for v in qvecs:
                t = time.perf_counter()
                numpy_topk(v)
                samples[label].append(time.perf_counter() - t)
    out = {name: pct(s) for name, s in samples.items()}
    out["query_embedding"] = pct(embed_times)
    return {"latency": out, "load_during": [round(x, 2) for x in loads]}


def run(n: int, nq: int, work: Path, seed: int = 20240607) -> dict:
    from ingestion.home import Home
    from rag.embeddings import Embedder

    rng = np.random.default_rng(seed)
    embedder = Embedder()
    log("loading the embedder")
    embedder.embed_query("warm up")
    home = Home.resolve(work / "home")
    built = build(home, n, rng, embedder)
    log(f"index built: {built['timings']}")
    queries = make_queries(nq, built["texts"], rng)
    result = measure(built, queries, embedder)
    lat = result["latency"]
    out = {
        "chunks": n,
        "documents": (n + CHUNKS_PER_DOC - 1) // CHUNKS_PER_DOC,
        "queries": nq,
        "dim": DIM,
        "note": NOTE,
        "example_queries": queries[:3],
        "build": built["timings"],
        **result,
        "ratios_to_numpy_p50": {
            base_name: {
                name: round(lat[name]["p50_ms"] / lat[base_name]["p50_ms"], 3)
                for name in ("chroma_store_k5", "faiss_store_k5", "dense_chroma", "dense_faiss", "hybrid_chroma", "hybrid_faiss")
            }
            for base_name in ("numpy_bruteforce_k5", "numpy_bruteforce_k5_1thread")
        },
        "targets": {
            "dense_chroma_p50_le_10ms": lat["dense_chroma"]["p50_ms"] <= TARGET_DENSE_MS,
            "dense_faiss_p50_le_10ms": lat["dense_faiss"]["p50_ms"] <= TARGET_DENSE_MS,
            "hybrid_chroma_p50_le_25ms": lat["hybrid_chroma"]["p50_ms"] <= TARGET_HYBRID_MS,
            "hybrid_faiss_p50_le_25ms": lat["hybrid_faiss"]["p50_ms"] <= TARGET_HYBRID_MS,
        },
        "cores": os.cpu_count(),
        "load_end": round(os.getloadavg()[0], 2),
    }
    built["faiss_index"].store.flush()
    built["index"].close()
    return out


def print_table(r: dict) -> None:
    lat = r["latency"]
    print(f"{r['chunks']} chunks in {r['documents']} documents, {r['queries']} queries, {r['cores']} cores")
    print(f"note: {r['note']}")
    print(f"build: {r['build']}; load during timing {r['load_during']}")
    print(f"{'operation':34} {'p50 ms':>8} {'p95 ms':>8} {'target':>8} {'met':>4}")
    targets = {"dense_chroma": TARGET_DENSE_MS, "dense_faiss": TARGET_DENSE_MS, "hybrid_chroma": TARGET_HYBRID_MS, "hybrid_faiss": TARGET_HYBRID_MS}
    for name, v in lat.items():
        tgt = targets.get(name)
        met = ("yes" if v["p50_ms"] <= tgt else "NO") if tgt else ""
        print(f"{name:34} {v['p50_ms']:8.2f} {v['p95_ms']:8.2f} {(f'{tgt:.0f}' if tgt else ''):>8} {met:>4}")
    for base, ratios in r["ratios_to_numpy_p50"].items():
        print(f"p50 / {base} p50: " + ", ".join(f"{k} {v:.2f}x" for k, v in ratios.items()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Dense / lexical / hybrid search latency at scale.")
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    parser.add_argument("--chunks", type=int, default=100_000, help="chunks in the index (default 100000)")
    parser.add_argument("--queries", type=int, default=200, help="timed queries (default 200)")
    args = parser.parse_args(argv)
    if args.chunks < 100 or args.queries < 1:
        parser.error("--chunks must be >= 100 and --queries >= 1")
    with tempfile.TemporaryDirectory(prefix="ragft-bench-search-") as tmp:
        result = run(args.chunks, args.queries, Path(tmp))
    if args.json:
        print(json.dumps(result))
    else:
        print_table(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
