"""``ragft dataset build PATH... --out FILE``: documents -> facts -> questions -> split JSONL + card.

    result = build_dataset(["docs/"], Path("data.jsonl"), DatasetConfig(paraphrases=3, raft=True))
    result.counts   # {"train": 812, "validation": 96, "test": 104}

Reads top to bottom: collect inputs, extract facts (rules, plus an optional stronger model),
drop repeated questions, group facts that must share a split, assign splits, write examples,
check for leakage, write the JSONL and its card atomically. The same inputs and seed give a
byte-identical JSONL; an interrupted build leaves the previous files untouched.
"""

from __future__ import annotations

import hashlib
import json
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from finetune.dataset.card import TokenCounter, card_path, dumps_card, make_card
from finetune.dataset.corpus import Inputs, collect, document_facts, prose_passages
from finetune.dataset.facts import Fact
from finetune.dataset.raft import ContextDoc, pick_distractors, raft_messages, scrub
from finetune.dataset.splits import Grouper, assign_splits, check_leakage
from finetune.dataset.text import Lexicon, normalize, passages, split_sentences
from ingestion.errors import ConfigError, TrainingError
from ingestion.files import write_atomic
from ingestion.loaders import DEFAULT_MAX_BYTES
from rag.chat_model import ChatModel

Progress = Callable[[int, int, str], None]
GENERATORS = ("rules", "llm")


@dataclass(frozen=True, kw_only=True)
class DatasetConfig:
    paraphrases: int = 3
    """Extra wordings per fact on top of the first question (--paraphrases)."""
    val_frac: float = 0.1
    """Share of facts held out for validation (--val-frac)."""
    test_frac: float = 0.1
    """Share of facts held out for testing (--test-frac)."""
    raft: bool = False
    """Also write RAFT examples: question + gold passage + distractors -> answer (--raft)."""
    raft_distractors: int = 3
    """Distractor passages per RAFT example, from other documents (--raft-distractors)."""
    raft_oracle_frac: float = 0.8
    """Share of RAFT examples whose context holds the gold passage (the rest: distractors only)."""
    seed: int = 0
    """Seed for splits, wording choice and RAFT contexts (--seed)."""
    generator: str = "rules"
    """rules: offline templates; llm: rules plus questions written by --model (--generator)."""
    llm_facts_per_passage: int = 4
    """Facts the model is asked for per paragraph with --generator llm."""
    max_bytes: int = DEFAULT_MAX_BYTES
    """Documents larger than this are listed as failed (--max-file-mb)."""
    system_prompt: str | None = None
    """A system turn put before every question (none by default)."""

    def __post_init__(self) -> None:
        def whole(name: str, value: object, lo: int, hi: int, flag: str) -> None:
            if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
                raise ConfigError(f"{name} must be a whole number from {lo} to {hi}, got {value!r}", fix=f"pass {flag} {lo}..{hi}")

        whole("paraphrases", self.paraphrases, 0, 20, "--paraphrases")
        whole("raft_distractors", self.raft_distractors, 0, 10, "--raft-distractors")
        whole("seed", self.seed, 0, 2**32 - 1, "--seed")
        whole("llm_facts_per_passage", self.llm_facts_per_passage, 1, 20, "a facts-per-passage count")
        for name, flag in (("val_frac", "--val-frac"), ("test_frac", "--test-frac"), ("raft_oracle_frac", "an oracle fraction")):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 1:
                raise ConfigError(f"{name} must be a number in [0, 1), got {value!r}", fix=f"pass {flag} such as 0.1")
        if self.val_frac + self.test_frac >= 0.9:
            raise ConfigError(f"--val-frac {self.val_frac} + --test-frac {self.test_frac} leave almost nothing to train on",
                              fix="keep their sum below 0.9 (e.g. 0.1 each)")
        if self.generator not in GENERATORS:
            raise ConfigError(f"--generator {self.generator!r} is unknown", fix="use rules or llm")


@dataclass(frozen=True)
class DatasetResult:
    out: Path
    card: Path
    counts: dict[str, int]
    by_kind: dict[str, int]
    facts: int
    examples: int
    failed: list[dict[str, str]] = field(default_factory=list)
    seconds: float = 0.0

    def as_json(self) -> dict:
        return {"out": str(self.out), "card": str(self.card), "counts": self.counts, "facts": self.facts,
                "leakage": "passed", "examples": self.examples, "by_kind": self.by_kind, "failed": self.failed,
                "seconds": round(self.seconds, 2)}


def build_dataset(paths: Sequence[str | Path], out: Path, config: DatasetConfig = DatasetConfig(), *,
                  model: ChatModel | None = None, progress: Progress | None = None,
                  counter: TokenCounter | None = None) -> DatasetResult:
    started = time.perf_counter()
    out = Path(out).expanduser().resolve()
    if out.is_dir():
        raise ConfigError(f"--out {out} is a folder", fix="pass a file path such as data/train.jsonl")
    if config.generator == "llm" and model is None:
        raise ConfigError("--generator llm needs a model", fix="pass --model NAME (a stronger model than the default)")
    # setup: inputs and facts
    inputs = collect(paths, max_bytes=config.max_bytes, progress=progress)
    if not inputs.documents and not inputs.instructions:
        first = inputs.failed[0]["error"] if inputs.failed else "no loadable files"
        raise TrainingError(f"nothing to build a dataset from: {first}", fix="pass documents or instruction files")
    lexicon = Lexicon.build([d.text for d in inputs.documents])
    facts: list[Fact] = []
    if config.generator == "llm" and model is not None:  # the model's wordings first, rules fill up
        from finetune.dataset.llm import llm_facts

        facts += llm_facts(prose_passages(inputs.documents), model, per_passage=config.llm_facts_per_passage,
                           wordings=config.paraphrases + 1, progress=progress)
    for doc in inputs.documents:
        facts += document_facts(doc, lexicon, seed=config.seed)
    facts, dropped = _dedup(facts, config.paraphrases + 1)
    instructions, dropped_rows = _instruction_items(inputs, facts)
    # splits: one group per fact, its sentence, its table/record, and any reply that quotes it
    split_of = _assign(facts, instructions, config)
    rows = _examples(facts, instructions, split_of, inputs, config)
    counts = check_leakage(rows)
    if not rows:
        raise TrainingError("no facts or instruction rows were found in the inputs",
                            fix="pass documents with factual sentences (numbers, dates, names, definitions)")
    # save: JSONL first, then the card that describes it
    data = "".join(json.dumps(r, ensure_ascii=False, separators=(", ", ": ")) + "\n" for r in rows).encode()
    write_atomic(out, data)
    sources = [(d.source, d.content_hash) for d in inputs.documents] + [(p, h) for p, h, _ in inputs.instructions]
    generator = {"name": config.generator, "model": getattr(model, "name", None), **{
        k: v for k, v in asdict(config).items() if k not in {"generator", "seed", "max_bytes"}}}
    card = make_card(inputs=[str(p) for p in paths], rows=rows, facts=len({r["fact_id"] for r in rows}), sources=sources,
                     seed=config.seed, generator=generator, counter=counter or TokenCounter.default(),
                     data_sha256=hashlib.sha256(data).hexdigest(),
                     skipped={"duplicate_questions": dropped, "duplicate_instruction_rows": dropped_rows,
                              "failed_files": len(inputs.failed)})
    write_atomic(card_path(out), dumps_card(card))
    return DatasetResult(out, card_path(out), counts, card["by_kind"], card["facts"], len(rows), inputs.failed,
                         time.perf_counter() - started)


def _dedup(facts: list[Fact], wordings: int) -> tuple[list[Fact], int]:
    """Keep each normalised question once (the first fact to ask it wins) and at most
    ``wordings`` questions per fact; facts with the same id pool their questions."""
    seen_q: set[str] = set()
    kept: dict[str, Fact] = {}
    dropped = 0
    for fact in facts:
        have = list(kept[fact.fact_id].questions) if fact.fact_id in kept else []
        for q in fact.questions:
            key = normalize(q)
            if key in seen_q:
                dropped += 1
            elif len(have) < wordings:
                seen_q.add(key)
                have.append(q)
        if have:
            base = kept.get(fact.fact_id, fact)
            kept[fact.fact_id] = Fact(**{**asdict(base), "questions": tuple(have)})
    return list(kept.values()), dropped


@dataclass(frozen=True)
class _Item:
    fact_id: str
    source: str
    messages: tuple[dict[str, str], ...]


def _instruction_items(inputs: Inputs, facts: list[Fact]) -> tuple[list[_Item], int]:
    seen = {normalize(q) for f in facts for q in f.questions}
    items, dropped = [], 0
    for path, _, rows in inputs.instructions:
        for row in rows:
            key = normalize(row.prompt)
            if key in seen:
                dropped += 1
                continue
            seen.add(key)
            fid = "f_" + hashlib.sha256(f"{key}\0{normalize(row.reply)}".encode()).hexdigest()[:16]
            items.append(_Item(fid, path, row.messages))
    return items, dropped


def _assign(facts: list[Fact], items: list[_Item], config: DatasetConfig) -> dict[str, str]:
    groups = Grouper()
    by_sentence: dict[str, str] = {}
    for f in facts:
        sentence = normalize(f.sentence)
        groups.link(f.fact_id, "s:" + sentence, *(["g:" + f.group] if f.group else []))
        by_sentence.setdefault(sentence, f.fact_id)
    for f in facts:  # a multi-sentence reply (an FAQ answer) that quotes another fact's sentence
        for s in split_sentences(f.sentence)[1:] + split_sentences(f.sentence)[:1]:
            other = by_sentence.get(normalize(s))
            if other:
                groups.link(f.fact_id, other)
    for item in items:
        reply = normalize(item.messages[-1]["content"])
        keys = [item.fact_id] + (["s:" + reply] if len(reply.split()) >= 5 else [])
        groups.link(*keys)
    return assign_splits(groups.components(), seed=config.seed, val_frac=config.val_frac, test_frac=config.test_frac)


def _examples(facts: list[Fact], items: list[_Item], split_of: dict[str, str], inputs: Inputs,
              config: DatasetConfig) -> list[dict]:
    rows: list[dict] = []
    system = [{"role": "system", "content": config.system_prompt}] if config.system_prompt else []
    for f in facts:
        for i, q in enumerate(f.questions):
            msgs = system + [{"role": "user", "content": q}, {"role": "assistant", "content": f.sentence}]
            rows.append(_row(f.fact_id, split_of[f.fact_id], "qa" if i == 0 else "paraphrase", f.source, msgs, f.answer, q))
    if config.raft:
        rows += _raft_rows(facts, split_of, inputs, config, system)
    for item in items:
        last = item.messages[-1]["content"]
        rows.append(_row(item.fact_id, split_of[item.fact_id], "instruction", item.source, list(item.messages), last,
                         item.messages[-2]["content"] if len(item.messages) > 1 else ""))
    return rows


def _raft_rows(facts: list[Fact], split_of: dict[str, str], inputs: Inputs, config: DatasetConfig,
               system: list[dict]) -> list[dict]:
    sentence_split = {normalize(f.sentence): split_of[f.fact_id] for f in facts}
    group_split = {f.group: split_of[f.fact_id] for f in facts if f.group}
    from finetune.dataset.records import group_of

    pool: list[tuple[ContextDoc, str, str]] = []  # (doc, kind, split of its group or "")
    for d in inputs.documents:
        for p in passages(d):
            pool.append((ContextDoc(p.source, p.title, p.text), p.kind, group_split.get(group_of(p), "")))
    by_split: dict[str, tuple[set[str], list[ContextDoc]]] = {}
    for split in sorted(set(split_of.values())):  # contexts never show another split's sentence
        forbidden = {s for s, sp in sentence_split.items() if sp != split}
        usable = [ContextDoc(d.source, d.title, scrub(d.text, forbidden)) for d, kind, sp in pool
                  if kind == "prose" or sp in ("", split)]
        by_split[split] = (forbidden, usable)
    rows = []
    for f in facts:
        split = split_of[f.fact_id]
        forbidden, usable = by_split[split]
        rng = random.Random(f"{config.seed}:raft:{f.fact_id}")
        oracle = rng.random() < config.raft_oracle_frac
        distractors = pick_distractors(usable, f.source, config.raft_distractors, rng)
        gold = ContextDoc(f.source, f.title, scrub(f.passage, forbidden)) if oracle else None
        question = f.questions[0]
        msgs = system + raft_messages(question, gold, distractors, rng, sentence=f.sentence) + [
            {"role": "assistant", "content": f.sentence}]
        rows.append(_row(f.fact_id, split, "raft", f.source, msgs, f.answer, "raft:" + question))
    return rows


def _row(fact_id: str, split: str, kind: str, source: str, messages: list[dict], answer: str, salt: str) -> dict:
    rid = "ex_" + hashlib.sha256(f"{fact_id}\0{kind}\0{salt}".encode()).hexdigest()[:16]
    return {"id": rid, "split": split, "fact_id": fact_id, "kind": kind, "source": source or None,
            "messages": messages, "answer": answer}
