"""``ragft dataset build PATH... --out FILE [--json]`` and ``ragft dataset check FILE [--json]``.

build: documents (and ready-made instruction JSONL) -> split instruction dataset + data card.
check: re-runs the leakage check on an existing file; exit 1 naming an example and its fact.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from assistant.cli.common import home_of, progress_bar
from finetune.dataset.build import GENERATORS, DatasetConfig
from ingestion.errors import ConfigError


def register(sub: argparse._SubParsersAction) -> None:
    from assistant.cli import add_json_flag

    p = sub.add_parser("dataset", help="build or check a fine-tuning dataset from documents")
    dsub = p.add_subparsers(dest="dataset_command", metavar="SUBCOMMAND")
    dsub.required = True
    d = DatasetConfig()
    b = dsub.add_parser("build", help="documents -> synthetic QA (+ paraphrases, RAFT) split by fact, with a data card")
    b.add_argument("paths", nargs="+", metavar="PATH", help="documents, folders, or instruction .jsonl/.json files")
    b.add_argument("--out", required=True, metavar="FILE", help="the JSONL to write; its card goes to FILE.card.json")
    b.add_argument("--paraphrases", type=int, default=d.paraphrases, metavar="N", help="extra wordings per fact (default: 3)")
    b.add_argument("--val-frac", type=float, default=d.val_frac, metavar="F", help="share of facts for validation (default: 0.1)")
    b.add_argument("--test-frac", type=float, default=d.test_frac, metavar="F", help="share of facts for test (default: 0.1)")
    b.add_argument("--raft", action="store_true", help="also write RAFT examples (question + gold and distractor passages)")
    b.add_argument("--raft-distractors", type=int, default=d.raft_distractors, metavar="K", help="distractor passages per RAFT example (default: 3)")
    b.add_argument("--seed", type=int, default=d.seed, metavar="S", help="seed for splits and wording choice (default: 0)")
    b.add_argument("--generator", choices=GENERATORS, default=d.generator,
                   help="rules: offline templates (default); llm: rules plus questions written by --model")
    b.add_argument("--model", default=None, metavar="M", help="model for --generator llm: a `ragft models` name, .gguf, checkpoint dir, or openai:MODEL@URL")
    b.add_argument("--max-file-mb", type=float, default=20.0, help="documents larger than this are listed as failed")
    b.add_argument("--system-prompt", default=None, help="a system turn put before every question (none by default)")
    add_json_flag(b)
    b.set_defaults(handler=run_build, render=render_build)
    c = dsub.add_parser("check", help="re-run the leakage check on a dataset file")
    c.add_argument("file", metavar="FILE", help="a JSONL written by `ragft dataset build`")
    add_json_flag(c)
    c.set_defaults(handler=run_check, render=render_check)


def run_build(args: argparse.Namespace) -> dict:
    from finetune.dataset.build import build_dataset

    if args.max_file_mb <= 0:
        raise ConfigError(f"--max-file-mb {args.max_file_mb} must be positive", fix="pass a size in MB, e.g. --max-file-mb 20")
    config = DatasetConfig(paraphrases=args.paraphrases, val_frac=args.val_frac, test_frac=args.test_frac, raft=args.raft,
                           raft_distractors=args.raft_distractors, seed=args.seed, generator=args.generator,
                           max_bytes=int(args.max_file_mb * 1024 * 1024), system_prompt=args.system_prompt)
    model = None
    if args.generator == "llm":
        if not args.model:
            raise ConfigError("--generator llm needs --model", fix="pass --model NAME, a .gguf path or openai:MODEL@URL")
        from assistant.llm.registry import get_model

        model = get_model(args.model, home=home_of(args))
    elif args.model:
        raise ConfigError("--model is only used with --generator llm", fix="add --generator llm or drop --model")
    with progress_bar("dataset") as update:
        result = build_dataset(args.paths, Path(args.out), config, model=model, progress=update)
    return result.as_json()


def run_check(args: argparse.Namespace) -> dict:
    from finetune.dataset.splits import check_file

    return check_file(args.file)


def render_build(payload: dict) -> str:
    c = payload["counts"]
    lines = [f"wrote {payload['out']}: {payload['examples']} examples from {payload['facts']} facts "
             f"({c['train']} train, {c['validation']} validation, {c['test']} test); leakage check passed",
             f"  card: {payload['card']}"]
    lines += [f"  failed: {f['path']}: {f['error']}" for f in payload["failed"]]
    return "\n".join(lines)


def render_check(payload: dict) -> str:
    c = payload["counts"]
    return (f"{payload['file']}: {payload['examples']} examples, {payload['facts']} facts "
            f"({c['train']} train, {c['validation']} validation, {c['test']} test); no leakage between splits")
