"""Per-collection answer calibration: the RAG routes' constants, fit on questions made from the
collection itself and stored with it.

    cal = calibrate_collection(home, collection="default")   # fits and stores; -> Calibration
    cal = load_calibration(home, "default")                   # what the routes use (None: never run)
    settings = cal.rag_settings(k=5)                          # RagSettings for NaiveRAG / agentic

Why: constants fit on one corpus do not transfer. The abstention gate fit on the bundled sample
corpus (threshold 0.392) declined 58% of answerable questions on real reference pages, because
sentence scores on technical text run lower than on the prose the sample corpus was written in.
So what can be measured on a collection is measured on it, with no model call, and what could
not be shown to transfer is fit across corpora and reported on corpora it never saw:

1. **Questions from its own chunks.** Answerable ones: a sentence holding a specific (a number,
   an option or code name), turned into a query that keeps a seeded ~60% of its other content
   words (users paraphrase: a question shares only part of its answer sentence's words) behind
   a question word for the specific's type. Unanswerable ones: the specific's entity from one
   document with the attribute words of a sentence from another, kept only when no chunk of the
   collection holds them together (the FTS5 index says so) — an attribute the corpus never states.
2. **Measured per collection**: each question through the real retriever, sentence scorer and
   gate. The context's sentence count is the smallest that holds the question's own sentence as
   often as ``CONTEXT_RECALL`` of the best count up to 4 does; with a model, whether it answers
   better by writing or by quoting the supporting sentence; and the gate's abstention on the
   made questions, which ``ragft doctor`` shows and warns about above ``WARN_ANSWERABLE_ABSTAIN``.
3. **The gate itself** (weights and threshold) is the cross-corpus fit of ``rag.abstain``.
   Fitting it on the made questions was tried and measured (``benchmarks/bench_calibration.py``,
   leave one corpus out over the sample corpus and SQLite, git and httpd docs): held out, such
   fits declined 29-31% of the sample corpus's real answerable questions and 0-33% of the real
   sets' unanswerable ones, while the cross-corpus gate held out declined 2-11% and 7-56%. Made questions
   are easier than a user's on some collections and harder on others, by more than the gate's
   margin, so they say how a collection looks, not where its bar belongs.

A collection with fewer than ``MIN_ANSWERABLE`` / ``MIN_UNANSWERABLE`` such questions is too
small to measure: the stored calibration says so and carries ``DEFAULTS``. The result lives in
``HOME/calibration/COLLECTION.json`` with the collection's snapshot (a digest of its documents'
hashes), so ``ragft doctor`` can say when it is stale; ``ragft ingest`` re-measures after a change
and ``ragft calibrate`` on demand.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import re
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Callable

from ingestion.home import Home
from rag.abstain import FOCUS_WEIGHT, THRESHOLD, UNKNOWN_WEIGHT

MAX_ANSWERABLE = 80  # questions made per collection: ~10 s of retrieval on 2 cores
MAX_UNANSWERABLE = 40
MIN_ANSWERABLE = 20
MIN_UNANSWERABLE = 10
# doctor warns when the gate declines more of the collection's own answerable questions than this:
# on the four corpora it was fit across the made-question rate stayed at or under 0.087 (2026-12-06)
WARN_ANSWERABLE_ABSTAIN = 0.25
CONTEXT_RECALL = 0.95
ANSWER_MODE_QUESTIONS = 30  # generations per mode and model: ~20 s with the default model on 2 cores
KEEP_WORDS = 0.6  # share of the sentence's other content words a made question keeps
SEED = 13

# For collections too small to measure (and never calibrated ones): the gate fit across corpora
# (rag.abstain) and the context size that the four corpora's made questions needed (2 sentences
# held the question's own sentence >= 95% as often as 4 did on each: benchmarks/RESULTS.md).
DEFAULTS = {"unknown_weight": UNKNOWN_WEIGHT, "focus_weight": FOCUS_WEIGHT, "threshold": THRESHOLD, "max_sentences": 2}

_NUMBER = re.compile(r"(?<![\w.-])\d[\d,.]*(?:\s?(?:KB|MB|GB|KiB|MiB|GiB|ms|bytes|seconds|minutes|days|%))?(?![\w-])")
_CODE = re.compile(r"(?<![\w-])(?:--?[a-z][\w-]+|[A-Za-z]+[._][A-Za-z_][\w.]*[A-Za-z0-9]|[a-z]+[A-Z]\w+|[A-Z]{2,}_[A-Z_]+)(?![\w-])")


# Everyday nouns for the second kind of unanswerable question: an attribute asked in words the
# collection never uses (each is kept only when no chunk contains it).
FOREIGN_NOUNS = tuple("""warranty salary bluetooth recipe passport vaccine mortgage horsepower calories altitude
    wingspan dividend tuition mascot anthem headquarters weight colour flavour ingredient lifespan population
    voltage refund discount birthday nickname gardener trophy harbour wattage sponsor uniform cuisine""".split())


@dataclass(frozen=True)
class MadeQuestion:
    question: str
    answerable: bool
    source: str = ""
    sentence: str = ""  # the sentence it was made from (answerable only)
    answer: str = ""  # the specific it asks for (answerable only)


@dataclass
class Calibration:
    collection: str
    snapshot: str
    unknown_weight: float
    focus_weight: float
    threshold: float
    max_sentences: int
    fitted: bool  # False: too small to measure, DEFAULTS in use
    answerable: int = 0
    unanswerable: int = 0
    made_answerable_abstained: float | None = None
    made_unanswerable_abstained: float | None = None
    context_recall: dict[str, float] = field(default_factory=dict)
    answer_modes: dict[str, dict[str, Any]] = field(default_factory=dict)  # model -> {generate, quote, mode, n}
    note: str = ""
    threshold_by: str = "cross-corpus fit"  # or "user": set by `ragft calibrate --threshold`, kept on re-calibration
    calibrated_at: str = ""
    seconds: float = 0.0

    def rag_settings(self, model: str | None = None, **overrides: Any):
        """RagSettings for the routes; ``model`` picks the answer mode measured for that model."""
        from rag.context import ContextSettings
        from rag.pipeline import RagSettings

        measured = self.answer_modes.get(model or "")
        mode, why = "generate", ""
        if measured:
            mode = measured["mode"]
            why = (f"on this collection's calibration questions {model} answered {measured['generate']:.0%} "
                   f"by writing and {measured['quote']:.0%} by quoting")
        values: dict[str, Any] = dict(abstain_threshold=self.threshold, unknown_weight=self.unknown_weight,
                                      focus_weight=self.focus_weight,
                                      context=ContextSettings(max_sentences=self.max_sentences),
                                      answer_mode=mode, answer_mode_why=why)
        return RagSettings(**{**values, **overrides})

    def summary(self) -> dict[str, Any]:
        keys = ("fitted", "threshold", "threshold_by", "unknown_weight", "focus_weight", "max_sentences", "answerable", "unanswerable",
                "made_answerable_abstained", "made_unanswerable_abstained", "note")
        return {k: getattr(self, k) for k in keys}


# -- storage -----------------------------------------------------------------------------------
def _path(home: Home, collection: str):
    return home.root / "calibration" / f"{collection}.json"


def load_calibration(home: Home, collection: str) -> Calibration | None:
    try:
        data = json.loads(_path(home, collection).read_text(encoding="utf-8"))
        return Calibration(**data)
    except (OSError, ValueError, TypeError):
        return None  # never calibrated, or an unreadable file: the caller falls back to defaults


def _store(home: Home, cal: Calibration) -> None:
    path = _path(home, cal.collection)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".tmp-{os.getpid()}")
    tmp.write_text(json.dumps(asdict(cal), indent=1), encoding="utf-8")
    os.replace(tmp, path)


def snapshot(records, collection: str) -> str:
    """A digest of the collection's (source, content hash) pairs: changes when any document does."""
    docs = records.documents(collection)
    raw = "\n".join(f"{s}\0{d.content_hash}" for s, d in sorted(docs.items()))
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def default_calibration(collection: str, snap: str = "", note: str = "") -> Calibration:
    return Calibration(collection=collection, snapshot=snap, fitted=False, note=note, **DEFAULTS)


def settings_for(home: Home, collection: str, model: str | None = None, **overrides: Any):
    """The RagSettings the routes use: the stored calibration, else the cross-corpus defaults."""
    cal = load_calibration(home, collection) or default_calibration(collection)
    return cal.rag_settings(model, **overrides)


# -- making questions --------------------------------------------------------------------------
def _specific(sentence: str) -> tuple[str, str] | None:
    """(kind, span) of the first number or code-like name in the sentence."""
    for kind, pattern in (("number", _NUMBER), ("name", _CODE)):
        m = pattern.search(sentence)
        if m and len(m.group(0).strip(".,")) >= 1:
            return kind, m.group(0).strip(".,")
    return None


def make_questions(chunks, *, seed: int = SEED, doc_freq: Callable[[list[str]], int]) -> list[MadeQuestion]:
    """Answerable and unanswerable questions from ``chunks`` (StoredChunk rows), deterministic for a seed.

    ``doc_freq(words)``: how many chunks contain every word (unanswerable ones must get 0)."""
    from rag.context import split_sentences, terms

    rng = random.Random(seed)
    pool: list[tuple[str, str, str, str, list[str]]] = []  # (source, sentence, kind, span, other terms)
    for chunk in chunks:
        for sentence in split_sentences(chunk.text):
            n = len(sentence.split())
            if not 8 <= n <= 45:
                continue
            found = _specific(sentence)
            if found is None:
                continue
            kind, span = found
            others = [t for t in terms(sentence.replace(span, " ")) if not any(c.isdigit() for c in t)]
            if len(others) >= 4:
                pool.append((chunk.source, sentence, kind, span, others))
    rng.shuffle(pool)
    answerable: list[MadeQuestion] = []
    seen: set[str] = set()
    for source, sentence, kind, span, others in pool:
        if len(answerable) >= MAX_ANSWERABLE:
            break
        keep = max(3, round(KEEP_WORDS * len(others)))
        picked = sorted(rng.sample(range(len(others)), min(keep, len(others))))
        words = " ".join(others[i] for i in picked)
        q = f"{'How many' if kind == 'number' else 'Which'} {words}?"
        if q not in seen:
            seen.add(q)
            answerable.append(MadeQuestion(q, True, source, sentence, span))
    unanswerable: list[MadeQuestion] = []
    sources = sorted({p[0] for p in pool})
    foreign = [w for w in FOREIGN_NOUNS if doc_freq([w]) == 0]
    for n, (source, sentence, kind, span, others) in enumerate(pool):
        if len(unanswerable) >= MAX_UNANSWERABLE or len(sources) < 2:
            break
        if n % 2 and foreign:  # half ask in words the collection never uses
            q = f"What is the {foreign[n % len(foreign)]} of {' '.join(others[:2])}?"
            if q not in seen:
                seen.add(q)
                unanswerable.append(MadeQuestion(q, False, source))
            continue
        entity = next((t for t in terms(sentence) if _CODE.fullmatch(t) or t[:1].isupper()), others[0])
        donor = next((p for p in pool[rng.randrange(len(pool)):] + pool if p[0] != source), None)
        if donor is None:
            continue
        attribute = donor[4][:2]
        if entity in attribute or doc_freq([entity, *attribute]) > 0:
            continue
        q = f"What is the {' '.join(attribute)} of {entity}?"
        if q not in seen:
            seen.add(q)
            unanswerable.append(MadeQuestion(q, False, source))
    return answerable + unanswerable


def collection_questions(index, collection: str) -> list[MadeQuestion]:
    """``make_questions`` over every chunk of ``collection``, with its FTS5 index as the co-occurrence check."""
    records = index.records
    chunks = [c for source in records.documents(collection) for c in records.chunks_of(collection, source)]

    def all_words(words: list[str]) -> int:
        match = " AND ".join('"' + w.replace('"', '""') + '"' for w in words)
        row = records.connection.execute(
            "SELECT count(*) FROM chunks_fts JOIN chunks c ON c.id = chunks_fts.rowid "
            "WHERE chunks_fts MATCH ? AND c.collection = ?", (match, collection)).fetchone()
        return int(row[0])

    return make_questions(chunks, doc_freq=all_words)


def measure(index, questions: list[MadeQuestion], *, progress: Callable[[int, int], None] | None = None):
    """Gate features of each question through the real retriever and scorer.

    -> (answerable features, unanswerable features, rank of each answerable question's own
    sentence among the best four, None when absent)."""
    from rag import abstain
    from rag.context import EvidenceScorer
    from rag.retrieval import Retriever

    retriever, scorer = Retriever(index), EvidenceScorer(index)
    pos, neg, ranks = [], [], []
    for i, m in enumerate(questions):
        hits = retriever.search(m.question, k=5, mode="hybrid").hits
        ranked = scorer.score(m.question, hits)
        feats = abstain.features(m.question, ranked, scorer)
        if m.answerable:
            pos.append(feats)
            key = " ".join(m.sentence.split())
            ranks.append(next((r for r, s in enumerate(ranked[:4]) if " ".join(s.text.split()) in key
                               or key in " ".join(s.text.split())), None))
        else:
            neg.append(feats)
        if progress:
            progress(i + 1, len(questions))
    return pos, neg, ranks


# -- fitting -----------------------------------------------------------------------------------
def calibrate_collection(home: Home, collection: str = "default", *, progress: Callable[[int, int], None] | None = None,
                         index=None, model=None, threshold: float | None = None,
                         reset_threshold: bool = False) -> Calibration:
    """Make questions from ``collection``, measure them, fit, store; returns the calibration.

    ``model`` (a ChatModel): also measure, on ``ANSWER_MODE_QUESTIONS`` made questions, whether
    it answers better by writing or by quoting the supporting sentence (kept per model name).
    ``threshold``: the user's own abstention bar for this collection, kept by later calibrations
    until ``reset_threshold``."""
    from rag import abstain
    from rag.index import Index

    start = time.perf_counter()
    own = index is None
    index = index or Index.open(home, collection=collection, create=False)
    try:
        snap = snapshot(index.records, collection)
        made = collection_questions(index, collection)
        pos_q = [m for m in made if m.answerable]
        neg_q = [m for m in made if not m.answerable]
        if len(pos_q) < MIN_ANSWERABLE or len(neg_q) < MIN_UNANSWERABLE:
            cal = default_calibration(collection, snap, note=(
                f"too small to calibrate: {len(pos_q)} answerable / {len(neg_q)} unanswerable questions could be "
                f"made (need {MIN_ANSWERABLE} / {MIN_UNANSWERABLE}); using defaults fit across corpora"))
        else:
            pos, neg, ranks = measure(index, made, progress=progress)
            gate = abstain.AbstentionGate()
            recall = {str(n): round(sum(r is not None and r < n for r in ranks) / len(ranks), 3) for n in (1, 2, 3, 4)}
            best = max(recall.values())
            sentences = next(n for n in (1, 2, 3, 4) if recall[str(n)] >= CONTEXT_RECALL * best)
            cal = Calibration(collection=collection, snapshot=snap, fitted=True, unknown_weight=gate.unknown_weight,
                              focus_weight=gate.focus_weight, threshold=gate.threshold, max_sentences=max(2, sentences),
                              answerable=len(pos), unanswerable=len(neg), made_answerable_abstained=gate.declined_share(pos),
                              made_unanswerable_abstained=gate.declined_share(neg), context_recall=recall)
            if cal.made_answerable_abstained > WARN_ANSWERABLE_ABSTAIN:
                cal.note = (f"the gate declines {cal.made_answerable_abstained:.0%} of the answerable questions made "
                            f"from this collection (at most 9% on the corpora it was fit on): its "
                            "scores run low; check with your own questions and pass a lower abstain threshold")
        previous = load_calibration(home, collection)
        if threshold is not None:
            abstain.AbstentionGate(threshold=threshold)  # validates the range, naming the value
            cal.threshold, cal.threshold_by = threshold, "user"
        elif previous is not None and previous.threshold_by == "user" and not reset_threshold:
            cal.threshold, cal.threshold_by = previous.threshold, "user"
        if previous is not None:
            # A model's answer mode describes how it reads this collection's kind of text; an edit
            # to some documents does not change that, so the measurements carry over (each keeps the
            # snapshot it was measured on) until the model is measured again.
            cal.answer_modes = {name: {"snapshot": previous.snapshot, **mode} if "snapshot" not in mode else dict(mode)
                                for name, mode in previous.answer_modes.items()}
        if model is not None and cal.fitted:
            cal.answer_modes[model.name] = {**measure_answer_modes(model, index, cal, pos_q[:ANSWER_MODE_QUESTIONS]), "snapshot": snap}
        cal.calibrated_at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        cal.seconds = round(time.perf_counter() - start, 2)
        _store(home, cal)
        return cal
    finally:
        if own:
            index.close()


def _norm(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())


def measure_answer_modes(model, index, cal: Calibration, questions: list[MadeQuestion]) -> dict[str, Any]:
    """Share of ``questions`` whose answer holds the asked specific, writing vs quoting; the
    better mode wins (writing on a tie: a model that can write should)."""
    from rag.chat_model import GenerationOptions
    from rag.naive import NaiveRAG
    from rag.retrieval import Retriever

    retriever = Retriever(index)
    rates = {}
    for mode in ("generate", "quote"):
        rag = NaiveRAG(model=model, retriever=retriever, settings=cal.rag_settings(None, answer_mode=mode),
                       options=GenerationOptions(deterministic=True, max_tokens=64))
        hits = [f" {_norm(m.answer)} " in f" {_norm(rag.answer(m.question).answer)} " for m in questions]
        rates[mode] = round(sum(hits) / len(hits), 3) if hits else 0.0
    return {**rates, "mode": "quote" if rates["quote"] > rates["generate"] else "generate", "n": len(questions)}


def recalibrate_after_change(home: Home, collection: str = "default", *, profile: str | None = None,
                             progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
    """What every writer (``ragft ingest``, the app's uploads) runs after documents changed: the
    retrieval side always; the answer mode of the profile's chat model only when none is stored for
    it yet (a collection's first ingest, about 30 s with the default model on 2 cores), since it
    decides whether the RAG routes write or quote (on the sample corpus's made questions 0.57 vs
    1.00, on the git set 0.23 vs 0.47 contains-gold). Answer modes carry over later edits
    (``ragft calibrate`` re-measures). Never raises a RagftError: the documents are stored either way,
    so a failure is returned as ``{"error": ...}``."""
    from ingestion.errors import RagftError

    try:
        model = _unmeasured_model(home, collection, profile)
        cal = calibrate_collection(home, collection, model=model, progress=progress)
    except RagftError as err:
        return {"error": err.one_line()}
    return {**cal.summary(), "answer_modes": {k: v.get("mode") for k, v in cal.answer_modes.items()}, "seconds": cal.seconds}


def _unmeasured_model(home: Home, collection: str, profile: str | None):
    """The profile's chat model when the collection has no answer mode stored for it, else None
    (also None when it cannot load: the retrieval side is calibrated all the same)."""
    from assistant.llm import get_model
    from assistant.profiles import resolve_profile
    from ingestion.errors import RagftError

    try:
        name = resolve_profile(profile, home).chat_model
        previous = load_calibration(home, collection)
        if previous is not None and name in previous.answer_modes:
            return None
        return get_model(name, home=home)
    except RagftError:
        return None


def calibration_report(home: Home) -> list[dict[str, Any]]:
    """For ``ragft doctor``: each collection's calibration, and whether its documents changed since."""
    from ingestion.records import RecordManager

    records = RecordManager(home.records_db)
    try:
        out = []
        for info in records.collections():
            cal = load_calibration(home, info.name)
            if cal is None:
                out.append({"collection": info.name, "calibrated": False,
                            "note": "never calibrated: defaults fit across corpora (ragft calibrate)"})
                continue
            out.append({"collection": info.name, "calibrated": True, "stale": cal.snapshot != snapshot(records, info.name),
                        "calibrated_at": cal.calibrated_at, **cal.summary()})
        return out
    finally:
        records.close()

