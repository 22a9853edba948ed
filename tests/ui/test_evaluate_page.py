"""Evaluate page: a real background `ragft eval` started from the page, its progress, and its report."""

from __future__ import annotations

import json
import time

from assistant import jobs
from tests.ui.app_fixtures import app, errors


def write(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_bad_input_is_one_line_and_starts_nothing(home):
    bad = write(home.root / "qa.jsonl", [{"id": "a", "answers": ["x"]}])
    at = app("evaluate")
    assert at.info[0].value == "No finished evaluation yet."
    at.text_input(key="eval_qa").set_value(str(bad))
    at.multiselect(key="eval_routes").set_value(["base"])
    at.button(key="eval_start").click().run()
    assert errors(at) == [f"--qa {bad} line 1: field 'question': field required (see `ragft eval --help` for the row format)"]
    assert jobs.list_evals(home) == []


def test_a_run_started_on_the_page_finishes_in_the_background_and_its_report_opens(home):
    qa = write(home.root / "qa.jsonl", [{"id": "fr", "question": "What is the capital of France?", "answers": ["Paris"]},
                                        {"id": "moon", "question": "What is Marrowfield's moon base called?", "answers": []}])
    at = app("evaluate")
    at.text_input(key="eval_qa").set_value(str(qa))
    at.multiselect(key="eval_routes").set_value(["base"])
    at.button(key="eval_start").click().run()
    assert errors(at) == [] and at.success[0].value.startswith("Evaluation ")
    (job,) = jobs.list_evals(home)
    assert job["total"] == 2
    deadline = time.monotonic() + 300
    while jobs.eval_status(home, job["name"])["state"] == "running" and time.monotonic() < deadline:
        time.sleep(1)
    status = jobs.eval_status(home, job["name"])
    assert status["state"] == "complete" and status["done"] == 2 and status["progress"] == 1.0, status
    at.run()
    assert errors(at) == [] and not at.exception
    assert at.selectbox(key="eval_pick").value == job["name"]
    quality = at.dataframe[0].value
    assert list(quality["route"]) == ["base"] and int(quality["n"].iloc[0]) == 2
    assert len(at.get("image")) == 2  # quality with its interval, quality against latency (no fresh set, no auto)
    (bar,) = at.get("progress")
    assert bar.proto.text == "2/2 answers" and bar.proto.value == 100  # the jobs panel: the finished run, complete
    assert (home.root / "evals" / job["name"] / "report" / "report.html").is_file()
