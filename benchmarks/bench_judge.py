"""Can a judge model read? AUC of its graded votes on the real documentation sets, and its cost.

    .venv/bin/python benchmarks/bench_judge.py --homes /tmp/homes \\
        --judges smollm2-135m,/path/to/qwen2.5-1.5b.gguf [--sets sqlite,git,httpd] [--limit N]

Two questions a RAG route asks its judge (``rag.checks.LLMJudge``), each scored by AUC: the chance
that a random positive case gets a higher P(yes) than a random negative one (0.5 is chance).

1. **Does the passage state the answer?** The route's best sentence for each question of the
   set (the sentence ``--judge`` may use to overrule the gate), answerable questions positive,
   unanswerable ones negative. Baseline in the same run: the calibrated gate's own score.
2. **Is the answer grounded and does it answer?** Every answer the naive route gave (not
   abstained) in the saved ``bench_rag.py --sets`` runs named by ``--answers`` (default: the
   bundled model's and, when present, the 1.5B model's), judged against the route's context for
   the question: answers that contain a gold answer are positive, answers to unanswerable
   questions and answerable ones without the gold negative. Baseline: the answer score
   ``grounded`` (share of the answer's words found in the context).

P(yes) is P(yes) / (P(yes) + P(no)) of the judge's first reply token (one prompt pass, no
decoding: ``LocalChatModel.yes_probability``). Cost: mean seconds per vote on this machine.
Each set's data dir under ``--homes`` must have been ingested and calibrated by
``bench_rag.py --sets ... --homes DIR`` (a missing one is ingested and calibrated here).
Results go to ``benchmarks/out/judge.json``.
"""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import argparse
import json
import platform
import statistics
import sys
import time
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from assistant.runtime import apply_defaults  # noqa: E402

apply_defaults()

OUT = REPO / "benchmarks" / "out"


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def auc(pos: list[float], neg: list[float]) -> float | None:
    """Mann-Whitney AUC, ties counted half."""
    if not pos or not neg:
        return None
    wins = sum((p > n) + 0.5 * (p == n) for p in pos for n in neg)
    return round(wins / (len(pos) * len(neg)), 3)


def saved_answers(paths: list[Path]) -> dict[str, dict[str, list[dict]]]:
    """{generator: {set: naive-route rows}} from saved ``bench_rag.py --sets`` runs."""
    out: dict[str, dict[str, list[dict]]] = {}
    for path in paths:
        data = json.loads(path.read_text())
        generator = Path(str(data.get("model", path.stem)).split(" ")[0]).stem
        out[generator] = {name: res["rows"]["naive"] for name, res in data["sets"].items() if "naive" in res.get("rows", {})}
    return out


class SetProbe:
    """The naive route's evidence and context for one set's questions (no generation)."""

    def __init__(self, home, model) -> None:
        from assistant.calibration import settings_for
        from rag.index import Index
        from rag.naive import NaiveRAG
        from rag.retrieval import Retriever

        self.index = Index.open(home, create=False)
        self.rag = NaiveRAG(model=model, retriever=Retriever(self.index), settings=settings_for(home, "default", model.name))

    def evidence(self, question: str):
        from rag.pipeline import Trace

        trace = Trace()
        ranked = self.rag._evidence(question, trace)
        conf = self.rag.gate.confidence(question, ranked, self.rag.scorer)
        ctx = self.rag._context(question, ranked, trace)
        return ranked, conf, ctx


def run_set(ds, home, judges: dict, answers: dict[str, list[dict]], limit: int | None) -> dict:
    from rag.citations import grounded_share
    from realdocs import load_questions

    questions = load_questions(ds, limit)
    by_q = {q["question"]: q for q in questions}
    probe = SetProbe(home, next(iter(judges.values())).model)
    seen: dict[str, tuple] = {}
    for q in questions:
        seen[q["question"]] = probe.evidence(q["question"])
    out: dict = {"questions": len(questions), "answerable": sum(q["kind"] == "answerable" for q in questions)}

    # 1. does the best sentence state the answer?
    labels = [q["kind"] == "answerable" for q in questions]
    gate = [seen[q["question"]][1].score for q in questions]
    out["states_answer"] = {"gate score (baseline)": {"auc": auc([s for s, y in zip(gate, labels) if y],
                                                                 [s for s, y in zip(gate, labels) if not y])}}
    for name, judge in judges.items():
        t = time.perf_counter()
        scores = [judge.answers_score(q["question"], seen[q["question"]][0][0].labelled) if seen[q["question"]][0] else 0.0
                  for q in questions]
        per_vote = (time.perf_counter() - t) / len(questions)
        out["states_answer"][name] = {"auc": auc([s for s, y in zip(scores, labels) if y], [s for s, y in zip(scores, labels) if not y]),
                                      "s_per_vote": round(per_vote, 3),
                                      "vote_yes_answerable": round(statistics.fmean(s > 0.5 for s, y in zip(scores, labels) if y), 3),
                                      "vote_yes_unanswerable": round(statistics.fmean(s > 0.5 for s, y in zip(scores, labels) if not y), 3)}
        log(f"{ds.name}: states-answer {name}: {out['states_answer'][name]}")

    # 2. is a given answer grounded and does it answer?
    out["grounded"] = {}
    for generator, rows in answers.items():
        rows = [r for r in rows if not r["abstained"] and r["question"] in by_q and r["answer"].strip()]
        good = [r["kind"] == "answerable" and r["contains"] > 0 for r in rows]
        ctx_of = lambda r: seen[r["question"]][2].text  # noqa: E731
        rule = [grounded_share(r["answer"], r["question"], ctx_of(r)) for r in rows]
        res = {"answers": len(rows), "correct": sum(good),
               "grounded score (baseline)": auc([s for s, g in zip(rule, good) if g], [s for s, g in zip(rule, good) if not g])}
        for name, judge in judges.items():
            t = time.perf_counter()
            scores = [judge.grounded_score(r["question"], r["answer"], ctx_of(r)) for r in rows]
            res[name] = {"auc": auc([s for s, g in zip(scores, good) if g], [s for s, g in zip(scores, good) if not g]),
                         "s_per_vote": round((time.perf_counter() - t) / max(1, len(rows)), 3)}
        out["grounded"][generator] = res
        log(f"{ds.name}: grounded, answers of {generator}: {res}")
    probe.index.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sets", default="sqlite,git,httpd")
    parser.add_argument("--homes", required=True, metavar="DIR", help="the data dirs of bench_rag.py --sets --homes DIR")
    parser.add_argument("--judges", default="smollm2-135m", help="comma-separated models (registry names or .gguf paths)")
    parser.add_argument("--answers", default=None, help="comma-separated saved bench_rag --sets JSON files")
    parser.add_argument("--limit", type=int, default=None)
    args = parser.parse_args()

    import realdocs
    from assistant.calibration import calibrate_collection
    from assistant.llm import get_model
    from ingestion.home import Home
    from rag.checks import LLMJudge

    default_answers = [OUT / "rag_sets.json", OUT / "rag_sets.qwen2.5-1.5b.json"]
    answer_files = [Path(p) for p in args.answers.split(",")] if args.answers else [p for p in default_answers if p.is_file()]
    answers = saved_answers(answer_files)
    sets = realdocs.doc_sets()
    started = time.perf_counter()
    results = {}
    for name in args.sets.split(","):
        ds = sets[name]
        home = Home.resolve(Path(args.homes) / name)
        realdocs.ingest(home, ds)  # unchanged pages are skipped
        if not (home.root / "calibration" / "default.json").is_file():
            calibrate_collection(home)
        judges = {Path(ref).stem: LLMJudge(get_model(ref, home=home)) for ref in args.judges.split(",")}
        results[name] = run_set(ds, home, judges, {g: rows[name] for g, rows in answers.items() if name in rows}, args.limit)
    payload = {"benchmark": "bench_judge", "date": date.today().isoformat(), "sets": results,
               "answers_from": [str(p) for p in answer_files],
               "machine": {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(),
                           "load_after": [round(x, 2) for x in os.getloadavg()]},
               "seconds": round(time.perf_counter() - started, 1)}
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "judge.json").write_text(json.dumps(payload, indent=1))
    print(json.dumps(payload, indent=1))


if __name__ == "__main__":
    main()
