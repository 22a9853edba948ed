"""Answer every question on every route once, on disk as it goes, so a stopped run resumes.

    settings = EvalSettings(routes=("naive", "finetuned"), qa=Path("qa.jsonl"))
    run = EvalRun.open(home, settings)          # HOME/evals/RUN_ID/ (created, or found and resumed)
    run.answer_all(progress=update)             # answers what answers.jsonl does not hold yet
    run.answers()                               # one dict per (route, set, question id)

The run id is a digest of everything that shapes an answer: the settings, the bytes of the input
files, the collection's corpus snapshot and the adapter asked for. The same command on the same
corpus therefore finds its own run and resumes it; any change starts a new run, and ``--compare``
can show what changed between two. Generation is greedy with a fixed seed
(``GenerationOptions(deterministic=True)``) so a resumed run gives the answers an uninterrupted one
would.

Each answer is one line of ``answers.jsonl``, appended and flushed before the next question: a
kill loses at most the question being answered. A torn last line (a kill inside the write) is cut
off when the run is opened again.

Routes answer one after the other, each loaded once and closed before the next, so a route's
latency is its own (parallel routes would share the 2 cores) and only one route's models occupy
memory at a time. Memory per route: ``load_rss_mb``, what loading it added to the process's
resident set (its weights and indexes, less what an earlier route already loaded and the cache
kept), and ``peak_rss_mb``, the process's peak so far.

``--quantization`` adds the fine-tuned adapter at each asked precision as a route of its own,
``finetuned@nf4`` and so on, on the --qa questions; a precision that is not exported yet is
reported with the command that exports it instead of stopping the run.
"""

from __future__ import annotations

import hashlib
import json
import os
import resource
import sys
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterator

from assistant.evaluation.grading import grade_fresh, grade_qa
from assistant.evaluation.inputs import FreshItem, QAItem, load_fresh, load_qa
from assistant.evaluation.summary import FIXED
from assistant.routes import ROUTES, RouteContext, build_route
from ingestion.errors import ConfigError, RagftError
from ingestion.home import Home
from rag.chat_model import GenerationOptions

Progress = Callable[[int, int, str], None]
DEFAULT_ROUTES = (*FIXED, "auto")
ADAPTER_ROUTES = ("finetuned", "hybrid")


def default_routes(home: Home) -> tuple[str, ...]:
    """Every route that can answer here: the fine-tuned ones only once an adapter has finished training."""
    from finetune.registry import list_adapters

    trained = home.adapters_dir.is_dir() and any(a.get("status") == "complete" for a in list_adapters(home))
    return DEFAULT_ROUTES if trained else tuple(r for r in DEFAULT_ROUTES if r not in ADAPTER_ROUTES)


@dataclass(frozen=True, kw_only=True)
class EvalSettings:
    routes: tuple[str, ...] = DEFAULT_ROUTES
    qa: Path | None = None
    fresh: Path | None = None
    model: str | None = None
    """``--model`` of the base, naive and agentic routes (and auto's); finetuned and hybrid use the adapter's base."""
    adapter: str | None = None
    judge: str | None = None
    collection: str = "default"
    k: int | None = None
    profile: str | None = None
    quantization: tuple[str, ...] = ()
    """``--quantization``: precisions to serve the fine-tuned adapter at on the --qa questions
    (``assistant.routes.finetuned.WEIGHTS``); each is answered as the route ``finetuned@PRECISION``."""
    max_tokens: int = 64
    """Most tokens per answer; 64 holds every reference answer of the sample set with room."""
    limit: int | None = None
    """``--limit``: only the first N rows of each input file (a quick look before the whole run)."""

    def __post_init__(self) -> None:
        if not self.routes:
            raise ConfigError("--routes is empty", fix=f"name at least one of {', '.join(ROUTES)}")
        unknown = [r for r in self.routes if r not in ROUTES]
        if unknown:
            raise ConfigError(f"--routes: {', '.join(unknown)} unknown", fix=f"use {', '.join(ROUTES)}")
        if len(set(self.routes)) != len(self.routes):
            raise ConfigError("--routes names a route twice", fix="name each route once")
        if self.qa is None and self.fresh is None:
            raise ConfigError("nothing to evaluate", fix="pass --qa FILE, --fresh FILE or both")
        from assistant.routes.finetuned import WEIGHTS

        bad = [w for w in self.quantization if w not in WEIGHTS]
        if bad:
            raise ConfigError(f"--quantization: {', '.join(bad)} unknown", fix=f"use {', '.join(WEIGHTS)}")
        if self.quantization and self.qa is None:
            raise ConfigError("--quantization needs --qa", fix="pass the question set to ask at each precision")
        if isinstance(self.max_tokens, bool) or not isinstance(self.max_tokens, int) or self.max_tokens < 1:
            raise ConfigError(f"--max-tokens must be a positive integer, not {self.max_tokens!r}")
        if self.limit is not None and (isinstance(self.limit, bool) or not isinstance(self.limit, int) or self.limit < 1):
            raise ConfigError(f"--limit must be a positive integer, not {self.limit!r}", fix="leave it out to use every row")

    def as_json(self) -> dict[str, Any]:
        return {k: (str(v) if isinstance(v, Path) else list(v) if isinstance(v, tuple) else v) for k, v in asdict(self).items()}


@dataclass(frozen=True)
class Question:
    set: str  # "qa" | "fresh"
    item: QAItem | FreshItem

    @property
    def key(self) -> tuple[str, str]:
        return self.set, self.item.id


def _sha(path: Path | None) -> str | None:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest() if path else None


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def rss_mb() -> float:
    """The process's resident set size now (Linux /proc; 0 elsewhere, where load_rss_mb reads 0)."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, ValueError, IndexError):
        return 0.0
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_rss_mb() -> float:
    """The process's peak resident set size so far (Linux reports KiB, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(peak / (1024 * 1024 if sys.platform == "darwin" else 1024), 1)


def identify(home: Home, settings: EvalSettings) -> tuple[str, dict[str, Any], list[QAItem], list[FreshItem]]:
    """(run id, what it is a digest of, the qa items, the fresh items); reads and checks the inputs."""
    from assistant.arena.store import corpus_snapshot

    # Inputs are read (and checked line by line) before any model loads.
    qa = (load_qa(settings.qa) if settings.qa else [])[:settings.limit]  # a whole file is still checked
    fresh = (load_fresh(settings.fresh) if settings.fresh else [])[:settings.limit]
    identity = {"settings": settings.as_json(), "qa_sha256": _sha(settings.qa), "fresh_sha256": _sha(settings.fresh),
                "corpus_snapshot": corpus_snapshot(home, settings.collection)}
    identity["settings"].pop("qa"), identity["settings"].pop("fresh")  # the bytes count, not where they lie
    return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:12], identity, qa, fresh


def run_dir(home: Home, run_id: str) -> Path:
    return home.root / "evals" / run_id


@dataclass
class EvalRun:
    home: Home
    settings: EvalSettings
    run_id: str
    directory: Path
    questions: list[Question]
    meta: dict[str, Any] = field(default_factory=dict)

    # ---- opening ---------------------------------------------------------------------------
    @classmethod
    def open(cls, home: Home, settings: EvalSettings, *, restart: bool = False) -> "EvalRun":
        run_id, identity, qa, fresh = identify(home, settings)
        questions = [Question("qa", q) for q in qa] + [Question("fresh", f) for f in fresh]
        directory = run_dir(home, run_id)
        run = cls(home, settings, run_id, directory, questions)
        if restart and directory.exists():
            (directory / "answers.jsonl").unlink(missing_ok=True)
        directory.mkdir(parents=True, exist_ok=True)
        meta_path = directory / "run.json"
        meta = json.loads(meta_path.read_text()) if meta_path.is_file() and not restart else {}
        meta.update({"run_id": run_id, **identity, "settings": settings.as_json(), "collection": settings.collection,
                     "questions": {"qa": len(qa), "fresh": len(fresh)}})
        meta.setdefault("started_at", _now())
        meta.setdefault("routes", {})
        run.meta = meta
        run._save_meta()
        run._cut_torn_line()
        return run

    def _save_meta(self) -> None:
        tmp = self.directory / "run.json.tmp"
        tmp.write_text(json.dumps(self.meta, indent=1, default=str))
        os.replace(tmp, self.directory / "run.json")

    @property
    def answers_path(self) -> Path:
        return self.directory / "answers.jsonl"

    def _cut_torn_line(self) -> None:
        path = self.answers_path
        if not path.is_file():
            return
        data = path.read_bytes()
        if data and not data.endswith(b"\n"):
            with path.open("r+b") as fh:
                fh.truncate(data.rfind(b"\n") + 1)

    # ---- reading ---------------------------------------------------------------------------
    def answers(self) -> list[dict[str, Any]]:
        if not self.answers_path.is_file():
            return []
        return [json.loads(line) for line in self.answers_path.read_text(encoding="utf-8").splitlines() if line.strip()]

    def done(self) -> set[tuple[str, str, str]]:
        return {(a["route"], a["set"], a["id"]) for a in self.answers()}

    # ---- answering -------------------------------------------------------------------------
    def plan(self) -> list[tuple[str, str, str | None, list[Question]]]:
        """(answer label, route, weights, questions) for every route and every --quantization variant."""
        out = [(r, r, None, self.questions) for r in self.settings.routes]
        qa = [q for q in self.questions if q.set == "qa"]
        return out + [(f"finetuned@{w}", "finetuned", w, qa) for w in self.settings.quantization]

    def pending(self) -> Iterator[tuple[str, str, str | None, list[Question]]]:
        done = self.done()
        for label, route, weights, questions in self.plan():
            todo = [q for q in questions if (label, *q.key) not in done]
            if todo:
                yield label, route, weights, todo

    def answer_all(self, progress: Progress | None = None) -> None:
        total = sum(len(qs) for *_, qs in self.plan())
        count = len(self.done())
        if progress:
            progress(count, total, "resuming" if count else "")
        for label, route_name, weights, todo in list(self.pending()):
            # The fine-tuned routes answer on their adapter's own base: --model is for the others.
            model = None if route_name in ADAPTER_ROUTES else self.settings.model
            context = RouteContext(home=self.home, model=model, collection=self.settings.collection,
                                   k=self.settings.k, judge=self.settings.judge, adapter=self.settings.adapter,
                                   profile=self.settings.profile, weights=weights,
                                   options=GenerationOptions(max_tokens=self.settings.max_tokens, deterministic=True))
            started, before = time.perf_counter(), rss_mb()
            try:
                route = build_route(route_name, context)
            except RagftError as err:
                if weights is None:
                    raise  # a route that was asked for and cannot load: the user needs that error
                self.meta["routes"][label] = {"error": err.one_line()}  # a precision not exported yet: said in the report
                self._save_meta()
                count += len(todo)
                continue
            load_s, load_rss = time.perf_counter() - started, rss_mb() - before
            loop_s = routes_s = 0.0
            try:
                with self.answers_path.open("a", encoding="utf-8") as out:
                    for q in todo:
                        t = time.perf_counter()
                        row = self._answer(route, label, q)
                        out.write(json.dumps(row, ensure_ascii=False) + "\n")
                        out.flush()
                        loop_s += time.perf_counter() - t
                        routes_s += row["latency_s"]
                        count += 1
                        if progress:
                            progress(count, total, f"{label}: {q.item.id}")
            finally:
                close = getattr(route, "close", None)
                if close:
                    close()
            info = self.meta["routes"].setdefault(label, {})
            info.pop("error", None)
            # harness overhead: the loop's wall time beyond the route's own answer time
            info.update({"load_s": round(load_s, 2), "load_rss_mb": round(load_rss, 1), "peak_rss_mb": peak_rss_mb(),
                         "loop_s": round(info.get("loop_s", 0.0) + loop_s, 3),
                         "route_s": round(info.get("route_s", 0.0) + routes_s, 3)})
            self._save_meta()
        self.meta["finished_at"] = _now()
        self._save_meta()

    def _answer(self, route, route_name: str, q: Question) -> dict[str, Any]:
        t0 = time.perf_counter()
        result = route.answer(q.item.question)
        t1 = time.perf_counter()
        sources = [c.get("source", "") for c in result.citations]
        if q.set == "qa":
            grade = grade_qa(q.item, result.answer, result.abstained, sources)
        else:
            grade = grade_fresh(q.item, result.answer, result.abstained)
        router = result.steps[0] if result.steps and result.steps[0].get("step") == "router" else {}
        row = {"route": route_name, "set": q.set, "id": q.item.id, "kind": q.item.kind, "question": q.item.question,
               "answer": result.answer, "abstained": result.abstained, "sources": sources,
               "scores": result.scores, "model": result.model, "adapter": result.adapter, "stale": result.stale,
               "chosen": router.get("chosen", route_name), "latency_s": round(t1 - t0, 4),
               "completion_tokens": result.tokens.get("completion", 0), "prompt_tokens": result.tokens.get("prompt", 0),
               **grade}
        return row
