""".venv/bin/python benchmarks/bench_ui.py [--json] [--questions 8] [--reruns 10] [--home DIR]

The browser app's targets (UI issue), on the default model and 2 cores:
- first answer within 5 s of asking, with warm models;
- a page rerun with warm caches <= 300 ms.

Everything runs in one process through ``streamlit.testing.v1.AppTest`` on ``ui/app.py``: the
real pages, the real ``st.cache_resource`` (process-wide, as in the server), the real route
(naive: MiniLM + Chroma + FTS5 + SmolLM2-135M on llama.cpp) over the sample corpus v1 ingested
into a temp data dir (or ``--home``). AppTest runs the script as the server does, minus the
websocket and the browser's drawing, so the times are the script's share of what a user waits.

Timed:
- the cold first run of the app (imports, first page), the baseline; then warm reruns of each
  page (Chat with an empty conversation and with all the answered turns, Compare, Documents,
  Fine-tune), p50/p95 and their ratio to the cold run;
- the cold first answer (loads the route's models), not a target;
- time to answer with warm models: for each question, the whole Chat run that the chat input
  triggers (retrieve, generate every token, render the answer and its sources), in a fresh
  conversation, p50/p95. The route's own ``latency_s`` is reported beside it.

With ``--browser`` it also times the same questions in the real thing: `ragft ui` on a loopback
port and Debian's Chromium through Playwright (the test helpers in tests/ui/browser_fixtures.py),
from pressing Enter to the first streamed text and to the answer's "Sources (N)" expander, after
one warm-up question has loaded the route in the server.

Writes benchmarks/out/ui.json; ``--json`` prints the same object on stdout (progress: stderr).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

APP = ROOT / "ui" / "app.py"
OUT = ROOT / "benchmarks" / "out" / "ui.json"
TARGET_ANSWER_S = 5.0
TARGET_RERUN_MS = 300.0
PAGES = ("chat", "compare", "documents", "finetune")
HISTORY = "chat_history"  # the Chat page's session_state key for the conversation


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def summary(values: list[float], scale: float = 1.0, digits: int = 3) -> dict:
    return {"n": len(values), "p50": round(statistics.median(values) * scale, digits),
            "p95": round(pct(values, 0.95) * scale, digits), "max": round(max(values) * scale, digits)}


def questions(n: int) -> list[str]:
    """``n`` answerable single-fact questions of the sample corpus v1, spread over its files."""
    from ingestion.sample import edition_dir

    rows = [json.loads(line) for line in (edition_dir("v1").parent / "questions.jsonl").read_text().splitlines()]
    facts = [r for r in rows if r["kind"] == "fact" and "v1" in r["editions"]]
    step = max(1, len(facts) // n)
    return [r["question"] for r in facts[::step][:n]]


def prepare_home(explicit: str | None) -> Path:
    from ingestion.home import Home
    from ingestion.sample import materialize
    from rag.indexing import ingest_paths

    if explicit:
        return Home.resolve(explicit).root
    home = Home.resolve(tempfile.mkdtemp(prefix="bench-ui-"))
    corpus = home.root / "sample-corpus"
    materialize("v1", corpus)
    t0 = time.perf_counter()
    report = ingest_paths(home, [str(corpus)])
    log(f"sample corpus v1 ingested into {home.root}: {report.added} files in {time.perf_counter() - t0:.1f} s")
    return home.root


def timed_run(at, **kwargs) -> float:
    t0 = time.perf_counter()
    at.run(**kwargs)
    seconds = time.perf_counter() - t0
    if at.exception:
        raise RuntimeError(f"the app raised: {at.exception[0].value}")
    if at.error:
        raise RuntimeError(f"the app showed an error: {at.error[0].value}")
    return seconds


def reruns(at, count: int) -> list[float]:
    return [timed_run(at) for _ in range(count)]


_COUNT_JS = """() => {
  const msgs = [...document.querySelectorAll('[data-testid="stChatMessage"]')];
  const bots = msgs.filter(m => m.querySelector('[data-testid="stChatMessageAvatarAssistant"]'));
  const last = bots[bots.length - 1];
  const done = bots.filter(m => [...m.querySelectorAll('[data-testid="stExpander"] summary')]
                               .some(s => /Sources \\(\\d+\\)/.test(s.innerText))).length;
  const text = last ? (last.querySelector('[data-testid="stChatMessageContent"]') || last).innerText.trim() : "";
  return {bots: bots.length, done: done, text: text.length};
}"""


def browser_answers(home: Path, asked: list[str]) -> dict:
    """Enter -> first streamed text, and Enter -> sources shown, in Chromium against `ragft ui`."""
    from tests.ui import browser_fixtures as bf

    missing = bf.browser_missing_reason()
    if missing:
        return {"skipped": missing}
    first_text, complete = [], []
    port = bf.free_port()
    with tempfile.TemporaryDirectory() as tmp, bf.served(bf.ragft_ui_argv(port), env=bf.ragft_env(home), port=port,
                                                         log=Path(tmp) / "server.log") as url, bf.chromium_browser() as browser:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        bf.open_app(page, url)
        for i, question in enumerate(asked):
            before = page.evaluate(_COUNT_JS)
            box = page.locator('[data-testid="stChatInput"] textarea')
            box.fill(question)
            t0 = time.perf_counter()
            box.press("Enter")
            page.wait_for_function(f"() => {{ const c = ({_COUNT_JS})(); return c.bots > {before['bots']} && c.text > 0; }}",
                                   timeout=bf.ANSWER_TIMEOUT_MS, polling=20)
            t1 = time.perf_counter()
            page.wait_for_function(f"() => ({_COUNT_JS})().done > {before['done']}", timeout=bf.ANSWER_TIMEOUT_MS, polling=20)
            t2 = time.perf_counter()
            bf.wait_idle(page)
            if i == 0:
                log(f"browser: cold first answer {t2 - t0:.1f} s (loads the route in the server)")
                cold = t2 - t0
                continue
            first_text.append(t1 - t0)
            complete.append(t2 - t0)
            log(f"  browser {t1 - t0:5.2f} s first text, {t2 - t0:5.2f} s answer  {question}")
    return {"cold_first_answer_s": round(cold, 3), "first_text_s": summary(first_text), "answer_s": summary(complete)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    parser.add_argument("--questions", type=int, default=8, help="questions for the warm time to answer")
    parser.add_argument("--reruns", type=int, default=10, help="warm reruns per page")
    parser.add_argument("--browser", action="store_true", help="also time the answers in Chromium against `ragft ui`")
    parser.add_argument("--home", default=None, help="data dir with an ingested collection (default: temp + sample v1)")
    args = parser.parse_args()
    if args.questions < 1 or args.reruns < 1:
        parser.error("--questions and --reruns must be at least 1")

    load_before = os.getloadavg()
    home = prepare_home(args.home)
    os.environ["RAGFT_HOME"] = str(home)
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(APP), default_timeout=900)
    cold = timed_run(at)  # baseline: imports + first page, nothing cached yet
    log(f"cold first run: {cold * 1000:.0f} ms")
    warm = {"chat_empty": reruns(at, args.reruns)}

    asked = questions(args.questions + 1)
    at.chat_input[0].set_value(asked[0])
    first_answer = timed_run(at)  # loads embedder, index and model
    log(f"cold first answer (loads the naive route): {first_answer:.1f} s")
    answers, per_question, turns = [], [], []
    for question in asked[1:]:
        at.session_state[HISTORY] = []  # each question in a fresh conversation
        at.run()
        at.chat_input[0].set_value(question)
        seconds = timed_run(at)
        (turn,) = at.session_state[HISTORY]
        result = turn["result"]
        answers.append(seconds)
        turns.append(turn)
        per_question.append({"question": question, "answer_s": round(seconds, 3), "route_latency_s": result["latency_s"],
                             "completion_tokens": (result.get("tokens") or {}).get("completion", 0),
                             "abstained": result["abstained"], "citations": len(result["citations"])})
        log(f"  {seconds:5.2f} s  {question}")
    at.session_state[HISTORY] = turns
    warm[f"chat_{len(turns)}_turns"] = reruns(at, args.reruns)
    for page in PAGES[1:]:
        at.switch_page(f"pages/{page}.py")
        timed_run(at)  # the page's first run (its own imports and caches)
        warm[page] = reruns(at, args.reruns)
    browser = browser_answers(home, asked) if args.browser else None
    load_after = os.getloadavg()

    rerun_ms = {name: summary(values, 1000, 1) for name, values in warm.items()}
    worst_p50 = max(s["p50"] for s in rerun_ms.values())
    worst_p95 = max(s["p95"] for s in rerun_ms.values())
    answer = summary(answers)
    payload = {
        "benchmark": "ui",
        "method": "streamlit.testing.v1.AppTest on ui/app.py, one process; naive route, default model",
        "machine": {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(), "python": platform.python_version()},
        "load_before": [round(x, 2) for x in load_before],
        "load_after": [round(x, 2) for x in load_after],
        "cold_first_run_ms": round(cold * 1000, 1),
        "warm_rerun_ms": rerun_ms,
        "warm_rerun_vs_cold": {name: round(s["p50"] / (cold * 1000), 4) for name, s in rerun_ms.items()},
        "cold_first_answer_s": round(first_answer, 3),
        "answer_s": answer,
        "route_latency_s": summary([q["route_latency_s"] for q in per_question]),
        "per_question": per_question,
        "browser": browser,
        "targets": {
            "first_answer_warm_s": {"target": TARGET_ANSWER_S, "p50": answer["p50"], "p95": answer["p95"],
                                    "met_p50": answer["p50"] <= TARGET_ANSWER_S, "met_p95": answer["p95"] <= TARGET_ANSWER_S},
            "warm_rerun_ms": {"target": TARGET_RERUN_MS, "worst_page_p50": worst_p50, "worst_page_p95": worst_p95,
                              "met_p50": worst_p50 <= TARGET_RERUN_MS, "met_p95": worst_p95 <= TARGET_RERUN_MS},
        },
    }
    if browser and "answer_s" in browser:
        b = browser["answer_s"]
        payload["targets"]["first_answer_warm_browser_s"] = {"target": TARGET_ANSWER_S, "p50": b["p50"], "p95": b["p95"],
                                                             "met_p50": b["p50"] <= TARGET_ANSWER_S, "met_p95": b["p95"] <= TARGET_ANSWER_S}
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    if args.json:
        print(json.dumps(payload))
    else:
        print(f"cold first run {payload['cold_first_run_ms']:.0f} ms (baseline)")
        for name, s in rerun_ms.items():
            print(f"warm rerun {name:14s} p50 {s['p50']:7.1f} ms  p95 {s['p95']:7.1f} ms  "
                  f"({payload['warm_rerun_vs_cold'][name]:.3f}x cold)")
        print(f"cold first answer {first_answer:.2f} s; warm answers p50 {answer['p50']:.2f} s  p95 {answer['p95']:.2f} s "
              f"(target {TARGET_ANSWER_S:.0f} s)")
        if browser and "answer_s" in browser:
            print(f"browser (Chromium, `ragft ui`): first text p50 {browser['first_text_s']['p50']:.2f} s, "
                  f"answer p50 {browser['answer_s']['p50']:.2f} s  p95 {browser['answer_s']['p95']:.2f} s")
        print(f"load {load_before[0]:.2f} -> {load_after[0]:.2f}; wrote {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
