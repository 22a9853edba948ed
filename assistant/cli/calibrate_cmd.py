"""``ragft calibrate [--collection NAME] [--model NAME] [--no-model] [--threshold T | --reset-threshold]
[--json]``: re-measure the collection's answer calibration (``assistant/calibration.py``) and
store it with the collection; ``--threshold`` sets the collection's own abstention bar (kept by
later calibrations, e.g. after an ingest, until ``--reset-threshold``).

-> ``{"collection", "fitted", "threshold", "threshold_by", "unknown_weight", "focus_weight", "max_sentences",
"answerable", "unanswerable", "made_answerable_abstained", "made_unanswerable_abstained",
"answer_modes", "context_recall", "note", "seconds"}``.
"""

from __future__ import annotations

import argparse
from dataclasses import asdict

from assistant.cli.common import add_collection_flags, home_of, profile_of, progress_bar


def register(sub: argparse._SubParsersAction) -> None:
    from assistant.cli import add_json_flag

    p = sub.add_parser("calibrate", help="re-measure the collection's context size, answer mode and abstention")
    add_collection_flags(p, with_store=False)
    p.add_argument("--model", default=None, help="also measure whether this model answers better by writing or by quoting "
                                                 "(default: the default model)")
    p.add_argument("--no-model", action="store_true", help="fit the retrieval side only (no generation)")
    bar = p.add_mutually_exclusive_group()
    bar.add_argument("--threshold", type=float, default=None, metavar="T",
                     help="abstain below T on this collection (default: the gate fit across corpora)")
    bar.add_argument("--reset-threshold", action="store_true", help="drop a --threshold set before")
    add_json_flag(p)
    p.set_defaults(handler=run, render=render)


def run(args: argparse.Namespace) -> dict:
    from assistant.calibration import calibrate_collection
    from assistant.llm import get_model
    from assistant.profiles import resolve_profile

    home = home_of(args)
    model = None if args.no_model else get_model(args.model or resolve_profile(profile_of(args), home).chat_model, home=home)
    with progress_bar("calibrate", unit="question") as update:
        cal = calibrate_collection(home, args.collection, model=model, threshold=args.threshold,
                                   reset_threshold=args.reset_threshold,
                                   progress=lambda done, total: update(done, total, ""))
    out = asdict(cal)
    out.pop("snapshot", None)
    return out


def render(payload: dict) -> str:
    if not payload["fitted"]:
        return f"collection {payload['collection']}: {payload['note']}"
    lines = [
        f"collection {payload['collection']}: abstain below {payload['threshold']} ({payload['threshold_by']}; "
        f"unknown-term weight {payload['unknown_weight']}, focus weight {payload['focus_weight']}); "
        f"{payload['max_sentences']} context sentences",
        f"  on {payload['answerable']} answerable / {payload['unanswerable']} unanswerable questions made from it: "
        f"abstains on {payload['made_answerable_abstained']:.0%} / {payload['made_unanswerable_abstained']:.0%}",
    ]
    for model, m in payload["answer_modes"].items():
        lines.append(f"  {model}: {m['mode']} (answer held the fact: writing {m['generate']:.0%}, quoting {m['quote']:.0%}; n={m['n']})")
    if payload["note"]:
        lines.append(f"  note: {payload['note']}")
    lines.append(f"  {payload['seconds']} s")
    return "\n".join(lines)
