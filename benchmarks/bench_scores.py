"""Do the answer scores mean anything? Their AUC at telling correct answers from wrong and
unsupported ones, on real answers of the routes, and their cost.

    .venv/bin/python benchmarks/bench_scores.py [--sets sample,git] [--routes base,naive,agentic] [--limit N] [--json]

Each set is ingested into a fresh data dir and calibrated from itself, as `ragft sample --ingest`
and `ragft calibrate` do; then every route answers every question with the default model, and each
answer the route did not decline is labelled without looking at any score:

- **correct**: an answerable question, and the answer contains a gold answer (SQuAD normalisation);
- **wrong**: an answerable question, and it does not;
- **unsupported**: the question is unanswerable from the documents (they were written or checked
  to hold no answer), so whatever the answer states, the context does not support it.

Sets: ``sample`` (the bundled corpus, v1 edition, ``questions.jsonl``; "changed" questions are
left out because their gold differs by edition) and the real documentation sets of
``realdocs.py`` (``benchmarks/data/README.md``; nothing in the scores was fitted on them).
Printed per score: AUC of correct vs (wrong + unsupported), of correct vs wrong, and of
answerable-and-answered vs unsupported, beside the routes' own ``confidence`` and ``grounded`` (the
baselines in the same run); and the p50 milliseconds ``with_scores`` takes per answer.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from assistant.runtime import apply_defaults  # noqa: E402

apply_defaults()

from assistant.calibration import calibrate_collection  # noqa: E402
from assistant.routes import RouteContext, build_route  # noqa: E402
from assistant.routes.scored import with_scores  # noqa: E402
from assistant.scoring import contains  # noqa: E402
from bench_generate import cpu_model  # noqa: E402
from ingestion.home import Home  # noqa: E402
from rag.chat_model import GenerationOptions  # noqa: E402

SCORES = ("faithfulness", "answer_relevance", "context_relevance", "confidence", "grounded")
OUT = REPO / "benchmarks" / "out" / "scores.json"


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def sample_set(home: Home) -> list[dict]:
    from bench_rag import ingest_sample

    ingest_sample(home)
    rows = [json.loads(line) for line in (REPO / "ingestion" / "sample_corpus" / "questions.jsonl").read_text().splitlines() if line.strip()]
    return [{"id": r["id"], "question": r["question"], "answers": [r["answer"]] if r["answer"] else [],
             "answerable": r["kind"] != "unanswerable"} for r in rows if r["kind"] != "changed" and "v1" in r["editions"]]


def real_set(home: Home, name: str) -> list[dict]:
    from realdocs import doc_sets, ingest, load_questions

    ds = doc_sets()[name]
    ingest(home, ds)
    return [{"id": r["id"], "question": r["question"], "answers": r.get("answers") or [],
             "answerable": r["kind"] == "answerable"} for r in load_questions(ds)]


def label(q: dict, answer: str) -> str:
    if not q["answerable"]:
        return "unsupported"
    return "correct" if any(contains(answer, g) for g in q["answers"]) else "wrong"


def auc(pos: list[float], neg: list[float]) -> float | None:
    if not pos or not neg:
        return None
    from sklearn.metrics import roc_auc_score

    return round(float(roc_auc_score([1] * len(pos) + [0] * len(neg), pos + neg)), 3)


def run_set(name: str, routes: list[str], limit: int | None) -> list[dict]:
    with tempfile.TemporaryDirectory(prefix=f"bench-scores-{name}-") as tmp:
        home = Home.resolve(tmp)
        questions = sample_set(home) if name == "sample" else real_set(home, name)
        questions = questions[:limit] if limit else questions
        calibrate_collection(home)
        log(f"{name}: {len(questions)} questions, ingested and calibrated")
        rows = []
        for route_name in routes:
            # unscored route + with_scores timed by hand: the cost of the scores alone
            route = build_route(route_name, RouteContext(home=home, options=GenerationOptions(max_tokens=64, deterministic=True)),
                                scored=False)
            for q in questions:
                res = route.answer(q["question"])
                if res.abstained:
                    continue
                t = time.perf_counter()
                scored = with_scores(res, q["question"], home)
                ms = (time.perf_counter() - t) * 1000
                rows.append({"set": name, "route": route_name, "id": q["id"], "question": q["question"],
                             "answer": res.answer, "label": label(q, res.answer), "score_ms": round(ms, 2),
                             "scores": scored.scores})
            log(f"{name}: {route_name} answered {sum(r['route'] == route_name for r in rows)} of {len(questions)}")
            if hasattr(route, "close"):
                route.close()
        return rows


def summarize(rows: list[dict]) -> dict:
    out = {"n": {lab: sum(r["label"] == lab for r in rows) for lab in ("correct", "wrong", "unsupported")}}
    for score in SCORES:
        have = [r for r in rows if score in r["scores"]]
        pick = lambda labs: [r["scores"][score] for r in have if r["label"] in labs]  # noqa: E731
        out[score] = {"n": len(have),
                      "correct_vs_rest": auc(pick(("correct",)), pick(("wrong", "unsupported"))),
                      "correct_vs_wrong": auc(pick(("correct",)), pick(("wrong",))),
                      "answerable_vs_unsupported": auc(pick(("correct", "wrong")), pick(("unsupported",)))}
    out["score_ms_p50"] = round(statistics.median(r["score_ms"] for r in rows), 2) if rows else None
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", default="sample,git")
    parser.add_argument("--routes", default="base,naive,agentic")
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rows = []
    for name in args.sets.split(","):
        rows += run_set(name, args.routes.split(","), args.limit)
    result = {"date": date.today().isoformat(), "cpu": cpu_model(), "sets": args.sets, "routes": args.routes,
              "all": summarize(rows), "by_set": {s: summarize([r for r in rows if r["set"] == s]) for s in args.sets.split(",")},
              "by_route": {x: summarize([r for r in rows if r["route"] == x]) for x in args.routes.split(",")}}
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps({**result, "rows": rows}, indent=1))
    if args.json:
        print(json.dumps(result))
        return
    print(f"{result['date']} · {result['cpu']} · sets {args.sets} · routes {args.routes} · rows in {OUT}")
    for title, block in [("all", result["all"]), *result["by_set"].items()]:
        print(f"\n{title}: {block['n']} · scoring p50 {block['score_ms_p50']} ms")
        print(f"  {'score':<18} {'n':>4} {'correct/rest':>13} {'correct/wrong':>14} {'answerable/unsup':>17}")
        for score in SCORES:
            b = block[score]
            print(f"  {score:<18} {b['n']:>4} {str(b['correct_vs_rest']):>13} {str(b['correct_vs_wrong']):>14} "
                  f"{str(b['answerable_vs_unsupported']):>17}")


if __name__ == "__main__":
    main()
