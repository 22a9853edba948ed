""".venv/bin/python benchmarks/bench_ingest.py [--json] [--docs N]

Ingest cost of the real pipeline (``rag.indexing.ingest_paths``) on a synthetic corpus of N
(default 1000) Markdown documents, against the targets of the foundation issue:

- re-ingesting an unchanged corpus costs <= 5% of the first ingest;
- re-ingesting after one changed file costs <= 5% of a full rebuild (a fresh data dir);
- ingest throughput >= 75% of bare ``SentenceTransformer.encode`` on the same chunk texts with
  the same batch size (pipeline overhead <= 25%).

Phases, each timed around ``ingest_paths`` calls, with a fresh temp data dir per store:
(a) first ingest, (b) re-ingest unchanged, (c) one file edited (one fact in one paragraph)
and re-ingest, (d) full rebuild of the edited corpus in a fresh data dir (the baseline of (c)).
Chroma (the default store) runs (a)-(d); FAISS runs (a)-(c).

Throughput: chunks the pipeline embedded in (a) per second, against bare
``SentenceTransformer.encode`` of exactly the same texts (computed with the pipeline's own
loader, chunker and heading prefix, checked against the records afterwards), same batch size,
same process, model warmed first so its load time counts in neither. The machine is shared and
its load drifts by minutes, so Chroma's (a) runs folder by folder (12 ``ingest_paths`` calls,
one per top-level folder, summed) and the baseline -- one ``encode`` call's batches, dealt into
12 slices -- runs a slice next to each folder's ingest, alternating which goes first.
Four full embedding passes in all: bare, (a) chroma, (d), (a) faiss.

The corpus is deterministic (seeded): documents vary in length (lognormal, median 110 words,
40 to 1,200), have Markdown structure (title, sections, lists) and facts with numbers, names
and dates, so no two chunks are near-duplicates. 1,000 documents give ~3,100 chunks; the full
run costs ~11 CPU-minutes (about 19 minutes of wall time on 2 cores at load 4-7; less on idle
cores). ``--docs 100`` is a quick check of the script, not of the targets.

Progress goes to stderr; ``--json`` prints one JSON object on stdout. The machine is shared:
the load average is recorded at every phase, and CPU seconds of this process are reported
beside wall seconds.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

TARGET_REINGEST = 0.05
TARGET_CHANGED = 0.05
TARGET_THROUGHPUT = 0.75

# --- the synthetic corpus --------------------------------------------------------------------
TEAMS = "platform billing search payments identity mobile data security support onboarding growth infra analytics compliance logistics".split()
PRODUCTS = "Quarry Lantern Atlas Beacon Harbor Meridian Orchid Summit Tundra Vesper Willow Zephyr Cobalt Juniper Falcon".split()
CITIES = "Lisbon Austin Nairobi Osaka Krakow Toronto Dublin Santiago Pune Oslo Melbourne Tallinn Leeds Porto Denver".split()
PEOPLE = "Ana Bruno Chen Dalia Emeka Farah Goran Hana Ivan Jonas Kofi Lena Mateo Nadia Omar Priya Quinn Rosa Sven Tomas".split()
SURNAMES = "Silva Okafor Tanaka Novak Moreau Haddad Larsen Costa Iyer Brennan Kowalski Mensah Ortiz Petrov Reyes".split()
NOUNS = """request ticket deployment release contract invoice laptop badge account server cluster backup
report review budget license vendor incident alert dashboard migration rollout audit refund shipment
schedule policy exception approval quota token certificate replica pipeline query index cache""".split()
VERBS = """approves reviews escalates archives rotates deploys monitors audits reconciles encrypts renews
validates schedules tracks migrates provisions rebuilds signs publishes retires""".split()
ADJS = """critical routine quarterly annual regional internal external urgent scheduled temporary permanent
primary secondary encrypted shared legacy standard premium""".split()
UNITS = ["days", "hours", "minutes", "weeks", "percent", "euros", "dollars", "requests per second", "gigabytes", "seats"]
MONTHS = "January February March April May June July August September October November December".split()
FILLER = """because however therefore meanwhile usually sometimes typically especially instead although
before after during within without between across through under above""".split()
HEADINGS = """Overview|Scope|Eligibility|How to request|Approval process|Limits and quotas|Exceptions|
Escalation|Timelines|Costs|Security requirements|Ownership|Troubleshooting|Frequently asked questions|
Changes from last year|Contacts|Glossary|Metrics|Retention|Rollback""".replace("\n", "").split("|")


def _person(rng: random.Random) -> str:
    return f"{rng.choice(PEOPLE)} {rng.choice(SURNAMES)}"


def _sentence(rng: random.Random) -> str:
    n = rng.choice([rng.randint(2, 30), rng.randint(31, 500), rng.randint(1000, 90000)])
    templates = (
        lambda: f"The {rng.choice(TEAMS)} team {rng.choice(VERBS)} every {rng.choice(ADJS)} {rng.choice(NOUNS)} within {n} {rng.choice(UNITS)}.",
        lambda: f"{_person(rng)} owns the {rng.choice(PRODUCTS)} {rng.choice(NOUNS)} process in the {rng.choice(CITIES)} office since {rng.choice(MONTHS)} {rng.randint(2015, 2025)}.",
        lambda: f"A {rng.choice(ADJS)} {rng.choice(NOUNS)} above {n} {rng.choice(UNITS)} needs approval from the head of {rng.choice(TEAMS)}.",
        lambda: f"{rng.choice(PRODUCTS)} {rng.choice(VERBS)} {n} {rng.choice(NOUNS)}s a day, {rng.choice(FILLER)} the {rng.choice(ADJS)} {rng.choice(NOUNS)} stays {rng.choice(ADJS)}.",
        lambda: f"In {rng.choice(CITIES)}, staff get {rng.randint(2, 40)} {rng.choice(['days', 'hours', 'weeks'])} of {rng.choice(['leave', 'training', 'on-call rest', 'remote work', 'parental leave'])} per year.",
        lambda: f"Ask {_person(rng)} ({rng.choice(PEOPLE).lower()}@example.org) before a {rng.choice(NOUNS)} is {rng.choice(VERBS)[:-1]}d, {rng.choice(FILLER)} it affects {rng.randint(2, 900)} customers.",
        lambda: f"Since version {rng.randint(1, 9)}.{rng.randint(0, 20)}, the {rng.choice(NOUNS)} limit is {n} {rng.choice(UNITS)} and {rng.choice(TEAMS)} {rng.choice(VERBS)} it weekly.",
        lambda: " ".join(rng.choice(NOUNS + FILLER + ADJS + TEAMS) for _ in range(rng.randint(8, 18))).capitalize() + ".",
    )
    return rng.choice(templates)()


def _document(rng: random.Random, number: int) -> str:
    words = int(min(1200, max(40, rng.lognormvariate(math.log(110), 0.7))))
    title = f"{rng.choice(PRODUCTS)} {rng.choice(NOUNS)} {rng.choice(['policy', 'guide', 'runbook', 'handbook', 'FAQ', 'notes'])} {number}"
    out = [f"# {title}", "", f"Owner: {_person(rng)}. Last reviewed {rng.choice(MONTHS)} {rng.randint(2019, 2025)}.", ""]
    written = 0
    headings = rng.sample(HEADINGS, k=len(HEADINGS))
    while written < words:
        out += [f"## {headings.pop() if headings else 'Notes ' + str(written)}", ""]
        for _ in range(rng.randint(1, 3)):
            if rng.random() < 0.2:
                items = [f"- {_sentence(rng)}" for _ in range(rng.randint(2, 5))]
                out += items + [""]
                written += sum(len(i.split()) for i in items)
            else:
                para = " ".join(_sentence(rng) for _ in range(rng.randint(2, 6)))
                out += [para, ""]
                written += len(para.split())
            if written >= words:
                break
    return "\n".join(out)


def write_corpus(root: Path, docs: int, seed: int = 1234) -> list[Path]:
    rng = random.Random(seed)
    paths = []
    for i in range(docs):
        folder = root / f"area-{i % 12:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"doc-{i:04d}.md"
        path.write_text(_document(rng, i), encoding="utf-8")
        paths.append(path)
    return paths


def edit_one_fact(path: Path) -> None:
    """Change one sentence of one paragraph in the middle of the document (a realistic edit)."""
    lines = path.read_text(encoding="utf-8").split("\n")
    paras = [i for i, line in enumerate(lines) if line and not line.startswith(("#", "Owner:"))]
    i = paras[len(paras) // 2]
    lines[i] = lines[i] + " Effective immediately, the limit is 4242 requests per second."
    path.write_text("\n".join(lines), encoding="utf-8")


# --- measurement --------------------------------------------------------------------------------
def log(msg: str) -> None:
    print(f"[bench_ingest {time.strftime('%H:%M:%S')} load {os.getloadavg()[0]:.2f}] {msg}", file=sys.stderr, flush=True)


def timed_ingest(home_dir: Path, corpus: Path, store: str, embedder) -> dict:
    from ingestion.home import Home
    from rag.indexing import ingest_paths

    load0 = os.getloadavg()[0]
    c0, t0 = time.process_time(), time.perf_counter()
    report = ingest_paths(Home.resolve(home_dir), [str(corpus)], store=store, embedder=embedder)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    if report.failed:
        raise SystemExit(f"bench_ingest: {len(report.failed)} files failed, e.g. {report.failed[0]}")
    return {
        "seconds": round(wall, 3),
        "cpu_seconds": round(cpu, 3),
        "load": round(load0, 2),
        "added": report.added,
        "updated": report.updated,
        "unchanged": report.unchanged,
        "chunks_added": report.chunks_added,
        "chunks_deleted": report.chunks_deleted,
    }


def embedded_texts(home_dir: Path) -> list[str]:
    """The exact texts the pipeline embedded, read back from the records."""
    from ingestion.chunking import Chunk
    from ingestion.records import RecordManager
    from rag.index import embed_text

    records = RecordManager(home_dir / "records.db")
    try:
        rows = records.connection.execute(
            "SELECT chunk_id, source, position, heading, page, text, text_hash, version FROM chunks ORDER BY source, position"
        ).fetchall()
    finally:
        records.close()
    return [embed_text(Chunk(*r)) for r in rows]


def planned_texts(corpus: Path, embedder) -> list[str]:
    """What the pipeline will embed, computed with its own loader, chunker and ``embed_text``."""
    from ingestion.chunking import Chunker, ChunkSettings
    from ingestion.loaders import iter_files, load_document
    from rag.index import embed_text

    chunker = Chunker(settings=ChunkSettings(), tokenize=embedder.tokenize)
    return [embed_text(c) for p in iter_files(corpus) for c in chunker.chunk(load_document(p), collection="default")]


def first_ingest_with_baseline(home: Path, corpus: Path, embedder) -> tuple[dict, dict]:
    """(a) as one ingest per top-level folder, interleaved with slices of the bare baseline.

    The baseline is one ``encode`` call over all chunk texts, cut into its own batches (the
    texts sorted longest first, as ``SentenceTransformer.encode`` sorts them, then ``batch_size``
    at a time): the same padding and compute as the single call. Its batches are dealt round-robin
    into one slice per folder; slice i runs just before folder i's ingest (even i) or just after
    it (odd i), so the shared machine's load drift hits pipeline and baseline alike.
    """
    first: dict = {"seconds": 0.0, "cpu_seconds": 0.0, "load": [], "calls": 0, "added": 0, "updated": 0, "unchanged": 0, "chunks_added": 0, "chunks_deleted": 0}
    bare: dict = {"seconds": 0.0, "cpu_seconds": 0.0, "load": [], "chunks": 0, "batch_size": embedder.batch_size}
    folders = sorted(p for p in corpus.iterdir() if p.is_dir())
    texts = planned_texts(corpus, embedder)
    ordered = sorted(texts, key=len, reverse=True)
    size = embedder.batch_size
    batches = [ordered[i : i + size] for i in range(0, len(ordered), size)]
    slices = [batches[i :: len(folders)] for i in range(len(folders))]
    for i, folder in enumerate(folders):
        for step in (("bare", "pipeline") if i % 2 == 0 else ("pipeline", "bare")):
            if step == "bare":
                load0 = os.getloadavg()[0]
                c0, t0 = time.process_time(), time.perf_counter()
                for batch in slices[i]:
                    embedder.model.encode(batch, batch_size=size, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)
                bare["seconds"] += time.perf_counter() - t0
                bare["cpu_seconds"] += time.process_time() - c0
                bare["chunks"] += sum(len(b) for b in slices[i])
                bare["load"].append(round(load0, 2))
            else:
                r = timed_ingest(home, folder, "chroma", embedder)
                first["calls"] += 1
                for key, value in r.items():
                    if key == "load":
                        first["load"].append(value)
                    else:
                        first[key] += value
        log(f"  {folder.name}: so far pipeline {first['seconds']:.1f} s ({first['chunks_added']} chunks), bare {bare['seconds']:.1f} s ({bare['chunks']} chunks)")
    if sorted(texts) != sorted(embedded_texts(home)):
        raise SystemExit("bench_ingest: the baseline's texts differ from what the pipeline embedded")
    for d in (first, bare):
        d["seconds"], d["cpu_seconds"] = round(d["seconds"], 3), round(d["cpu_seconds"], 3)
    bare["chunks_per_s"] = round(bare["chunks"] / bare["seconds"], 2)
    return first, bare


def warm_up(work: Path, embedder) -> None:
    """Load the model, import chromadb/faiss/llama-index, build the splitter: none of it is timed."""
    corpus = work / "warm-corpus"
    write_corpus(corpus, 4, seed=7)
    for store in ("chroma", "faiss"):
        timed_ingest(work / f"warm-{store}", corpus, store, embedder)
    embedder.model.encode(["warm up"] * 64, batch_size=embedder.batch_size)


def run(docs: int, work: Path) -> dict:
    from rag.embeddings import Embedder

    embedder = Embedder()
    log("warming up (model load, imports)")
    warm_up(work, embedder)

    pristine = work / "corpus"
    log(f"writing {docs} documents")
    paths = write_corpus(pristine, docs)
    size = sum(p.stat().st_size for p in paths)
    words = sum(len(p.read_text(encoding="utf-8").split()) for p in paths)
    edited = paths[docs // 2].relative_to(pristine)

    out: dict = {"docs": docs, "corpus_bytes": size, "corpus_words": words, "edited": str(edited)}
    stores = {}
    for store in ("chroma", "faiss"):
        corpus = work / f"corpus-{store}"  # each store ingests its own copy (sources are absolute paths)
        shutil.copytree(pristine, corpus)
        home = work / f"home-{store}"
        if store == "chroma":
            log(f"{store}: (a) first ingest, folder by folder, beside the bare encode of each folder's texts")
            first, bare = first_ingest_with_baseline(home, corpus, embedder)
            out["chunks"] = bare["chunks"]
        else:
            log(f"{store}: (a) first ingest")
            first = timed_ingest(home, corpus, store, embedder)
        log(f"{store}: (a) {first['chunks_added']} chunks in {first['seconds']} s")
        log(f"{store}: (b) re-ingest unchanged")
        again = timed_ingest(home, corpus, store, embedder)
        log(f"{store}: (c) one fact edited in {edited}, re-ingest")
        edit_one_fact(corpus / edited)
        changed = timed_ingest(home, corpus, store, embedder)
        stores[store] = {"first": first, "unchanged": again, "changed": changed}
        if store == "chroma":
            log("chroma: (d) full rebuild of the edited corpus in a fresh data dir")
            stores[store]["rebuild"] = timed_ingest(work / "home-rebuild", corpus, store, embedder)

    ch = stores["chroma"]
    pipeline_cps = ch["first"]["chunks_added"] / ch["first"]["seconds"]
    ratios = {
        "reingest_unchanged": ch["unchanged"]["seconds"] / ch["first"]["seconds"],
        "one_changed_vs_rebuild": ch["changed"]["seconds"] / ch["rebuild"]["seconds"],
        "throughput_vs_bare": pipeline_cps / bare["chunks_per_s"],
        "throughput_vs_bare_cpu": (bare["cpu_seconds"] / bare["chunks"]) / (ch["first"]["cpu_seconds"] / ch["first"]["chunks_added"]),
        "faiss_reingest_unchanged": stores["faiss"]["unchanged"]["seconds"] / stores["faiss"]["first"]["seconds"],
        "faiss_one_changed_vs_rebuild": stores["faiss"]["changed"]["seconds"] / ch["rebuild"]["seconds"],
    }
    out.update(
        stores=stores,
        bare_encode=bare,
        pipeline_chunks_per_s=round(pipeline_cps, 2),
        ratios={k: round(v, 4) for k, v in ratios.items()},
        targets={
            "reingest_unchanged_le_5pct": ratios["reingest_unchanged"] <= TARGET_REINGEST,
            "one_changed_le_5pct_of_rebuild": ratios["one_changed_vs_rebuild"] <= TARGET_CHANGED,
            "throughput_ge_75pct_of_bare": ratios["throughput_vs_bare"] >= TARGET_THROUGHPUT,
            "faiss_reingest_unchanged_le_5pct": ratios["faiss_reingest_unchanged"] <= TARGET_REINGEST,
            "faiss_one_changed_le_5pct_of_rebuild": ratios["faiss_one_changed_vs_rebuild"] <= TARGET_CHANGED,
        },
        load_end=round(os.getloadavg()[0], 2),
        cores=os.cpu_count(),
    )
    return out


def print_table(r: dict) -> None:
    ch, fa = r["stores"]["chroma"], r["stores"]["faiss"]
    ra, t = r["ratios"], r["targets"]
    yes = lambda b: "yes" if b else "NO"  # noqa: E731
    print(f"corpus: {r['docs']} markdown docs, {r['corpus_words']} words, {r['chunks']} chunks; {r['cores']} cores")
    print(f"{'phase':34} {'chroma s':>9} {'faiss s':>9}  chunks embedded (chroma)")
    for key, name in (("first", "(a) first ingest"), ("unchanged", "(b) re-ingest unchanged"), ("changed", "(c) one file changed"), ("rebuild", "(d) full rebuild (baseline of c)")):
        fs = f"{fa[key]['seconds']:9.2f}" if key in fa else f"{'-':>9}"
        print(f"{name:34} {ch[key]['seconds']:9.2f} {fs}  {ch[key]['chunks_added']}")
    print(f"throughput: pipeline {r['pipeline_chunks_per_s']} chunks/s, bare encode {r['bare_encode']['chunks_per_s']} chunks/s")
    print(f"{'target':44} {'measured':>9} {'met':>4}")
    print(f"{'re-ingest unchanged <= 5% of first':44} {ra['reingest_unchanged']:9.2%} {yes(t['reingest_unchanged_le_5pct']):>4}")
    print(f"{'one changed file <= 5% of rebuild':44} {ra['one_changed_vs_rebuild']:9.2%} {yes(t['one_changed_le_5pct_of_rebuild']):>4}")
    print(f"{'throughput >= 75% of bare encode (wall)':44} {ra['throughput_vs_bare']:9.2%} {yes(t['throughput_ge_75pct_of_bare']):>4}")
    print(f"{'  (same, CPU seconds)':44} {ra['throughput_vs_bare_cpu']:9.2%}")
    print(f"{'faiss: re-ingest unchanged <= 5%':44} {ra['faiss_reingest_unchanged']:9.2%} {yes(t['faiss_reingest_unchanged_le_5pct']):>4}")
    print(f"{'faiss: one changed file <= 5% of rebuild':44} {ra['faiss_one_changed_vs_rebuild']:9.2%} {yes(t['faiss_one_changed_le_5pct_of_rebuild']):>4}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Incremental ingest cost and pipeline overhead vs bare encode.")
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    parser.add_argument("--docs", type=int, default=1000, help="documents in the synthetic corpus (default 1000)")
    args = parser.parse_args(argv)
    if args.docs < 4:
        parser.error("--docs must be at least 4")
    with tempfile.TemporaryDirectory(prefix="ragft-bench-ingest-") as tmp:
        result = run(args.docs, Path(tmp))
    if args.json:
        print(json.dumps(result))
    else:
        print_table(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
