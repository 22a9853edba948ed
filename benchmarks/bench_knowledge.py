"""Knowledge learned by fine-tuning: recall of trained facts on unseen wordings, hallucination on unseen facts.

    .venv/bin/python benchmarks/bench_knowledge.py --inject [--epochs 8] [--json]          # build, train, check (~25 min)
    .venv/bin/python benchmarks/bench_knowledge.py --adapter NAME [--home DIR] [--per-group N] [--json]

Writes the report to benchmarks/out/knowledge.json too (``--adapter``: knowledge_NAME.json).

``--inject``: the experiment the issue asks for, on a small static corpus so that several epochs
fit on a laptop CPU: five documents of the sample corpus (``INJECT_DOCS``: a product datasheet,
a price list, a gateway page, a warranty and an on-call policy; 80 facts). ``ragft dataset build``
writes each fact's question and three paraphrases, split by fact (train / validation / test). Of
every trained fact with at least three wordings, the last paraphrase is **held out**: it is
removed from the training file and asked afterwards. ``ragft finetune`` then trains on the rest
(every paraphrase, ``--epochs`` passes, ``--keep last``: the validation split holds other facts,
whose loss rises while the trained ones are memorised, so the lowest-loss checkpoint would be
the least trained one). Base model and merged
fine-tuned model (transformers fp32, greedy, ``--max-new`` tokens, no system turn, as in
training) answer four groups:

- ``held_out_wordings``: the held-out paraphrases of trained facts (the target: recall);
- ``trained_wordings``: trained questions verbatim (memorisation; an upper bound);
- ``hand_written``: the corpus's hand-written questions (``ingestion/sample_corpus/questions.jsonl``)
  whose gold answer a trained answer holds: wordings no template wrote;
- ``never_trained``: the test split's questions (every wording), facts the model never saw
  (hallucination).

``--adapter NAME``: the same check for an adapter already trained on the whole sample corpus
(``ragft dataset build`` of v1), on the hand-written questions: *trained* when the gold answer
occurs in a train answer, else *validation* / *test* by the split that holds it.

Scores: contains-gold (case and punctuation folded), token F1 against the gold, and
hallucination: the share of answers that neither contain the gold nor decline ("I don't know",
"not mentioned", ...).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OUT_DIR = REPO / "benchmarks" / "out"
sys.path.insert(0, str(REPO))

from assistant.runtime import apply_defaults  # noqa: E402

apply_defaults()  # OpenMP threads must not spin on a shared machine: see assistant/runtime.py

SAMPLE_V1 = REPO / "ingestion" / "sample_corpus" / "v1"
QUESTIONS = REPO / "ingestion" / "sample_corpus" / "questions.jsonl"
INJECT_DOCS = ("product/kestrel-gateway.md", "product/lanternfish-pricing.md", "product/heron-s4-datasheet.md",
               "product/warranty.txt", "engineering/oncall-rotation.txt")
INJECT_SETTINGS = dict(learning_rate=1e-3, lora_r=16, lora_alpha=32)


def log(msg: str) -> None:
    print(f"bench_knowledge: {msg}", file=sys.stderr, flush=True)


# -- scoring ---------------------------------------------------------------------------------------
def fold(text: str) -> str:
    return " ".join(re.sub(r"[^0-9a-z]+", " ", text.lower()).split())


def token_f1(pred: str, gold: str) -> float:
    p, g = fold(pred).split(), fold(gold).split()
    common = sum((Counter(p) & Counter(g)).values())
    if not p or not g or not common:
        return 0.0
    prec, rec = common / len(p), common / len(g)
    return 2 * prec * rec / (prec + rec)


def declines(text: str) -> bool:
    """The answer says it does not know (rather than asserting something)."""
    return bool(re.search(r"\b(don'?t know|do not know|not sure|no information|cannot (?:find|answer|say)|can'?t (?:find|answer|say)|"
                          r"unknown|not (?:mentioned|provided|available))\b", text.lower()))


def answer_groups(model_path: str, tokenizer_path: str, groups: dict[str, list[dict]], max_new: int, threads: int | None) -> dict:
    """Greedy answers of one model to every group's questions (``{"question", "gold"}``), scored."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    if threads:
        torch.set_num_threads(threads)
    tok = AutoTokenizer.from_pretrained(tokenizer_path)
    model = AutoModelForCausalLM.from_pretrained(model_path, dtype=torch.float32).eval()
    scores = {}
    for group, qs in groups.items():
        hits, wrong, f1s, samples = 0, 0, [], []
        for q in qs:
            ids = tok.apply_chat_template([{"role": "user", "content": q["question"]}], add_generation_prompt=True,
                                          return_tensors="pt", return_dict=True)
            with torch.inference_mode():
                gen = model.generate(**ids, max_new_tokens=max_new, do_sample=False, pad_token_id=tok.pad_token_id)
            text = tok.decode(gen[0, ids["input_ids"].shape[1]:], skip_special_tokens=True).strip()
            hit = fold(q["gold"]) in fold(text)
            hits += hit
            wrong += not hit and not declines(text)
            f1s.append(token_f1(text, q["gold"]))
            if len(samples) < 3:
                samples.append({"question": q["question"], "gold": q["gold"], "answer": text})
        scores[group] = {"n": len(qs), "contains_gold": round(hits / len(qs), 3) if qs else None,
                         "token_f1": round(statistics.mean(f1s), 3) if f1s else None,
                         "hallucination": round(wrong / len(qs), 3) if qs else None, "samples": samples}
    del model
    return scores


def compare(base_path: str, merged_dir: str, groups: dict[str, list[dict]], max_new: int, threads: int | None) -> dict:
    out: dict = {"questions": {k: len(v) for k, v in groups.items()}}
    for label, path in (("base", base_path), ("finetuned", merged_dir)):
        log(f"answering {sum(map(len, groups.values()))} questions with the {label} model")
        out[label] = answer_groups(path, base_path, groups, max_new, threads)
    out["summary"] = {f"{label}_{group}_{metric}": out[label][group][metric]
                      for label in ("base", "finetuned") for group in groups
                      for metric in ("contains_gold", "token_f1", "hallucination")}
    return out


def hand_written(answers_by_split: dict[str, list[str]], sources: tuple[str, ...] | None = None) -> dict[str, list[dict]]:
    """The sample corpus's hand-written v1 questions, grouped by the split whose answers hold their gold."""
    groups: dict[str, list[dict]] = {"trained": [], "validation": [], "test": []}
    for line in QUESTIONS.read_text().splitlines():
        q = json.loads(line)
        if q["kind"] not in ("fact", "paraphrase", "multi_doc") or "v1" not in q["editions"]:
            continue
        if sources is not None and q["source"] not in sources:
            continue
        gold = fold(q["answer"])
        for split, group in (("train", "trained"), ("validation", "validation"), ("test", "test")):
            if any(gold in a for a in answers_by_split.get(split, [])):
                groups[group].append({"question": q["question"], "gold": q["answer"]})
                break
    return groups


def _answers_by_split(rows: list[dict]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = defaultdict(list)
    for r in rows:
        out[r["split"]].append(fold(r["messages"][-1]["content"]))
    return out


# -- --adapter: an adapter trained on the whole sample corpus ----------------------------------------
def knowledge_check(home_dir: Path, name: str, threads: int | None, max_new: int = 48, per_group: int | None = None) -> dict:
    from finetune import registry
    from ingestion.home import Home

    entry = registry.read_entry(Home.resolve(home_dir), name)
    rows = [json.loads(l) for l in Path(entry["dataset"]["path"]).read_text().splitlines() if l.strip()]
    groups = hand_written(_answers_by_split(rows))
    if per_group is not None:  # the first N of each group, in file order (a shorter run on a busy machine)
        groups = {k: v[:per_group] for k, v in groups.items()}
    return {"adapter": name, **compare(entry["base"]["path"], entry["merged_dir"], groups, max_new, threads)}


# -- --inject: build, hold out, train, check -------------------------------------------------------
def hold_out(rows: list[dict]) -> tuple[list[dict], list[dict]]:
    """(training rows, held-out rows): the last paraphrase of each trained fact with >= 3 wordings."""
    by_fact: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        by_fact[r["fact_id"]].append(r)
    train, held = [], []
    for facts in by_fact.values():
        if facts[0]["split"] == "train" and len(facts) >= 3 and facts[-1]["kind"] == "paraphrase":
            held.append(facts[-1])
            train += facts[:-1]
        else:
            train += facts
    return train, held


def _cli(args: list[str], env: dict) -> dict:
    proc = subprocess.run([sys.executable, "-m", "assistant.cli", *args, "--json"], capture_output=True, text=True, env=env, cwd=REPO)
    if proc.returncode != 0:
        raise SystemExit(f"bench_knowledge: `ragft {' '.join(args[:2])}` failed: {proc.stderr.strip()[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def inject(home_dir: Path, tmp: Path, epochs: float, threads: int | None, max_new: int, name: str) -> dict:
    from finetune import registry
    from ingestion.home import Home

    env = {**os.environ, "PYTHONPATH": str(REPO), "RAGFT_HOME": str(home_dir), "HF_HUB_OFFLINE": "1"}
    built = _cli(["dataset", "build", *(str(SAMPLE_V1 / d) for d in INJECT_DOCS), "--out", str(tmp / "all.jsonl")], env)
    rows = [json.loads(l) for l in (tmp / "all.jsonl").read_text().splitlines() if l.strip()]
    train, held = hold_out(rows)
    (tmp / "train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in train))
    log(f"{built['facts']} facts, {len(rows)} rows; {len(held)} paraphrases held out; training {epochs:g} epochs on {len(train)} rows")
    cmd = ["finetune", "--data", str(tmp / "train.jsonl"), "--name", name, "--epochs", str(epochs), "--paraphrases-per-fact", "-1",
           "--learning-rate", str(INJECT_SETTINGS["learning_rate"]), "--lora-r", str(INJECT_SETTINGS["lora_r"]),
           "--lora-alpha", str(INJECT_SETTINGS["lora_alpha"]), "--keep", "last", "--overwrite"]
    if threads:
        cmd += ["--threads", str(threads)]
    start = time.perf_counter()
    trained = _cli(cmd, env)
    train_s = time.perf_counter() - start
    entry = registry.read_entry(Home.resolve(home_dir), name)
    trained_qa = [r for r in train if r["split"] == "train" and r["kind"] == "qa"]
    groups = {
        "held_out_wordings": [{"question": r["messages"][-2]["content"], "gold": r["answer"]} for r in held],
        "trained_wordings": [{"question": r["messages"][-2]["content"], "gold": r["answer"]} for r in trained_qa[: len(held)]],
        "hand_written": hand_written(_answers_by_split(train), INJECT_DOCS)["trained"],
        "never_trained": [{"question": r["messages"][-2]["content"], "gold": r["answer"]} for r in rows if r["split"] == "test"],
    }
    report = compare(entry["base"]["path"], entry["merged_dir"], groups, max_new, threads)
    report["training"] = {"documents": list(INJECT_DOCS), "facts": built["facts"], "rows": len(train), "held_out": len(held),
                          "epochs": epochs, **INJECT_SETTINGS, "wall_s": round(train_s, 1),
                          **{k: trained.get(k) for k in ("global_step", "tokens_per_s", "train_loss", "best_eval_loss", "seconds")}}
    return report


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = ap.add_mutually_exclusive_group(required=True)
    mode.add_argument("--inject", action="store_true", help="build, hold out, train and check on INJECT_DOCS")
    mode.add_argument("--adapter", metavar="NAME", help="check adapter NAME (trained on sample v1) in --home")
    ap.add_argument("--home", type=Path, default=None, help="data dir (default: $RAGFT_HOME; --inject: a temporary one"
                    " sharing nothing)")
    ap.add_argument("--epochs", type=float, default=8.0, help="--inject: passes over the training rows (default 8)")
    ap.add_argument("--name", default="bench-inject", help="--inject: adapter name (default bench-inject)")
    ap.add_argument("--per-group", type=int, default=None, help="--adapter: at most N questions per group (default: all)")
    ap.add_argument("--max-new", type=int, default=48, help="tokens generated per answer (default 48)")
    ap.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    from bench_train import machine  # noqa: E402  (same directory)

    from ingestion.home import Home

    report: dict = {"benchmark": "bench_knowledge", "machine": machine(args.threads)}
    if args.adapter:
        report["knowledge"] = knowledge_check(Home.resolve(args.home).root, args.adapter, args.threads, args.max_new, args.per_group)
        out = OUT_DIR / f"knowledge_{args.adapter}.json"
    else:
        with tempfile.TemporaryDirectory(prefix="ragft-bench-knowledge-") as tmp_name:
            home = Home.resolve(args.home or Path(tmp_name) / "home")
            # With --home the dataset stays beside the adapter, so that `ragft export` can later
            # check the export on its held-out rows and `ragft adapters` points at a real file.
            data = home.root / "bench-knowledge" if args.home else Path(tmp_name) / "data"
            data.mkdir(parents=True, exist_ok=True)
            report["inject"] = inject(home.root, data, args.epochs, args.threads, args.max_new, args.name)
        out = OUT_DIR / "knowledge.json"
    report["machine"]["load_avg_end"] = [round(x, 2) for x in os.getloadavg()]
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=None if args.json else 2))


if __name__ == "__main__":
    main()
