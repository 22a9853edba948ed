"""How much context does a model need? The naive route's sentence context against whole chunks.

    .venv/bin/python benchmarks/probe_context.py --home DIR/git --set git --model qwen2.5-1.5b.gguf \\
        [--sentences 2] [--neighbours] [--chunks 0|1|2|3]

On one real documentation set whose data dir ``bench_rag.py --sets NAME --homes DIR`` ingested
and calibrated, every question is answered either by the naive route forced to generate
(``--sentences N``: the N best sentences, ``--neighbours`` adds the sentence before each) or,
with ``--chunks K``, by the plain prompt of ``realdocs.PlainPipeline`` over the top K chunks of
the same index and retriever (so only the shape of the context differs from the route). Prints
contains-gold over the answerable questions, abstention and p50 latency.
"""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import argparse
import json
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from assistant.runtime import apply_defaults  # noqa: E402

apply_defaults()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--home", required=True)
    ap.add_argument("--set", required=True, choices=("sqlite", "git", "httpd"))
    ap.add_argument("--model", default="smollm2-135m")
    ap.add_argument("--sentences", type=int, default=2)
    ap.add_argument("--neighbours", action="store_true")
    ap.add_argument("--chunks", type=int, default=0, help="K > 0: the plain prompt over the top K chunks instead")
    args = ap.parse_args()

    from assistant.calibration import load_calibration
    from assistant.llm import get_model
    from bench_rag import contains
    from ingestion.home import Home
    from rag.chat_model import GenerationOptions
    from rag.index import Index
    from rag.naive import NaiveRAG
    from rag.retrieval import Retriever
    from realdocs import PlainPipeline, doc_sets, load_questions

    home = Home.resolve(args.home)
    model = get_model(args.model, home=home)
    retriever = Retriever(Index.open(home, create=False))
    greedy = GenerationOptions(max_tokens=64, deterministic=True)
    settings = load_calibration(home, "default").rag_settings(None, answer_mode="generate")
    settings = replace(settings, context=replace(settings.context, max_sentences=args.sentences, neighbours=args.neighbours,
                                                 max_tokens=800))
    rag = NaiveRAG(model=model, retriever=retriever, settings=settings, options=greedy)
    rows = []
    for q in load_questions(doc_sets()[args.set]):
        t = time.perf_counter()
        if args.chunks:
            hits = retriever.search(q["question"], k=5, mode="hybrid").hits[: args.chunks]
            prompt = PlainPipeline.PROMPT.format(context="\n\n".join(h.text for h in hits), question=q["question"])
            answer, abstained = model.generate([{"role": "user", "content": prompt}], greedy).text, False
        else:
            out = rag.answer(q["question"])
            answer, abstained = out.answer, out.abstained
        rows.append({"kind": q["kind"], "latency": time.perf_counter() - t, "abstained": abstained,
                     "contains": max((contains(answer, g) for g in q.get("answers") or []), default=0.0)})
    ans = [r for r in rows if r["kind"] == "answerable"]
    una = [r for r in rows if r["kind"] != "answerable"]
    print(json.dumps({"set": args.set, "model": model.name,
                      "context": f"top {args.chunks} chunks" if args.chunks else f"{args.sentences} sentences"
                                 + (" + neighbours" if args.neighbours else ""),
                      "contains_gold": round(statistics.fmean(r["contains"] for r in ans), 3),
                      "abstain_answerable": round(statistics.fmean(r["abstained"] for r in ans), 3),
                      "abstain_unanswerable": round(statistics.fmean(r["abstained"] for r in una), 3),
                      "latency_p50_s": round(statistics.median(r["latency"] for r in rows), 2)}))


if __name__ == "__main__":
    main()
