"""``ragft doctor [--repair] [--json]`` -> ``{"ok": bool, "problems": [...], "collections": [...],
"runtime": {"cpu", "llama_cpp", "llamacpp_checks"}}``: the data dir's health, and the CPU features,
llama.cpp build and per-model buffer configuration (fast or safe) that generation runs with."""

from __future__ import annotations

import argparse

from assistant.cli.common import home_of
from assistant.calibration import calibration_report
from finetune.native import runtime_report
from rag.health import check


def register(sub: argparse._SubParsersAction) -> None:
    from assistant.cli import add_json_flag

    p = sub.add_parser("doctor", help="check (and with --repair, fix) the data dir")
    p.add_argument("--repair", action="store_true", help="finish interrupted writes and re-sync vectors with the records")
    add_json_flag(p)
    p.set_defaults(handler=run, render=render)


def run(args: argparse.Namespace) -> dict:
    home = home_of(args)
    return {**check(home, repair=args.repair).as_json(), "calibration": calibration_report(home),
            "runtime": runtime_report(home)}


def render(payload: dict) -> str:
    lines = [f"{c['name']}: {c['documents']} documents, {c['chunks']} chunks ({c['store']})" for c in payload["collections"]]
    for p in payload["problems"]:
        state = "repaired" if p.get("repaired") else "PROBLEM"
        lines.append(f"{state}: {p['kind']}: {p['message']}")
    for c in payload.get("calibration", []):
        if not c["calibrated"] or not c["fitted"]:
            lines.append(f"calibration {c['collection']}: {c['note']}")
        else:
            lines.append(f"calibration {c['collection']}: abstain below {c['threshold']}, {c['max_sentences']} context sentences"
                         f"{' (STALE: documents changed since; run ragft calibrate)' if c['stale'] else ''}"
                         f"{'; ' + c['note'] if c.get('note') else ''}")
    runtime = payload.get("runtime") or {}
    cpu, build = runtime.get("cpu", {}), runtime.get("llama_cpp", {})
    lines.append(f"cpu: {cpu.get('model')} ({cpu.get('cores')} cores; {' '.join(cpu.get('flags', [])) or 'no listed flags'})")
    lines.append(f"llama.cpp: {build.get('error') or 'llama-cpp-python ' + str(build.get('llama_cpp_python')) + ': ' + ' '.join(build.get('features', []))}")
    for v in runtime.get("llamacpp_checks", []):
        lines.append(f"llama.cpp {v['weight_type']} models: {v['configuration']} buffers "
                     f"({'; '.join(c['how'] for c in v['checks'])}, checked {v['checked_at']})")
    lines.append("ok" if payload["ok"] else "problems found: run `ragft doctor --repair`")
    return "\n".join(lines)
