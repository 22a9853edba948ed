"""Question files: both --qa formats, the --fresh format, and errors that name the line and field."""

from __future__ import annotations

import json

import pytest

from assistant.evaluation.grading import cites, grade_fresh, grade_qa
from assistant.evaluation.inputs import FreshItem, QAItem, load_fresh, load_qa
from ingestion.errors import ConfigError
from ingestion.sample import eval_sets
from tests.assistant.cli.conftest import run_ragft


def write(tmp_path, name, lines):
    path = tmp_path / name
    path.write_text("\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines) + "\n")
    return path


def test_user_rows_and_dataset_rows_are_read(tmp_path):
    path = write(tmp_path, "qa.jsonl", [
        {"id": 1, "question": " Who? ", "answers": ["Ada"], "source": "a.md"},
        {"id": "u", "question": "What is the moon made of?", "answers": []},
        "",
        {"id": "t1", "split": "test", "fact_id": "f", "messages": [{"role": "user", "content": "When?"}, {"role": "assistant", "content": "2011"}],
         "answer": "2011", "source": "/docs/a.md"},
        {"id": "tr", "split": "train", "fact_id": "g", "messages": [{"role": "user", "content": "Trained?"}], "answer": "yes"},
    ])
    items = load_qa(path)
    assert items == [QAItem("1", "Who?", ("Ada",), "a.md", "fact"), QAItem("u", "What is the moon made of?", (), None, "unanswerable"),
                     QAItem("t1", "When?", ("2011",), "/docs/a.md", "held_out_fact")]  # train rows were trained on: skipped


@pytest.mark.parametrize("line, message", [
    ('{"id": "a", "question": "Q"}', "line 2: field 'answers': field required"),
    ('{"id": "a", "question": "", "answers": ["x"]}', "line 2: field 'question'"),
    ('{"id": "a", "question": "Q", "answers": "x"}', "line 2: field 'answers'"),
    ('{"id": "a", "question": "Q", "answers": [" "]}', "line 2: field 'answers': value error, every answer must be non-empty"),
    ('{"id": "a", "question": "Q", "answers": [', "line 2: not JSON"),
    ('["a"]', "line 2: a JSON object is expected, not list"),
    ('{"id": "first", "question": "Q", "answers": ["x"]}', "line 2: field 'id': 'first' repeats line 1"),
])
def test_a_malformed_qa_line_is_named_with_its_field(tmp_path, line, message):
    path = write(tmp_path, "qa.jsonl", ['{"id": "first", "question": "Q", "answers": ["x"]}', line])
    with pytest.raises(ConfigError, match="--qa .*" + message.replace("(", r"\(").replace("[", r"\[")):
        load_qa(path)


def test_fresh_rows_and_their_checks(tmp_path):
    ok = write(tmp_path, "fresh.jsonl", [
        {"id": "p", "question": "Price?", "old_answers": ["EUR 49"], "new_answers": ["EUR 59"], "source": "p.md"},
        {"id": "n", "question": "New?", "old_answers": [], "new_answers": ["Lumen"], "source": "ai.md"},
        {"id": "d", "question": "Gone?", "old_answers": ["EUR 350"], "new_answers": [], "source": "oncall.txt", "deleted": True},
    ])
    assert [f.kind for f in load_fresh(ok)] == ["changed", "added", "deleted"]
    bad = write(tmp_path, "bad.jsonl", [{"id": "p", "question": "Price?", "old_answers": ["EUR 49"], "new_answers": [], "source": "p.md"}])
    with pytest.raises(ConfigError, match="line 1: field 'new_answers': empty for a document that was not deleted"):
        load_fresh(bad)
    with pytest.raises(ConfigError, match="no such file"):
        load_fresh(tmp_path / "missing.jsonl")
    with pytest.raises(ConfigError, match="holds no questions"):
        load_fresh(write(tmp_path, "empty.jsonl", [""]))


def test_grading_counts_declines_and_citations():
    item = QAItem("1", "How many?", ("612",), "company/overview.md")
    assert grade_qa(item, "It had 612 employees.", False, ["/home/x/sample-corpus/company/overview.md"]) == {
        "correct": 1.0, "em": 0.0, "f1": 0.4, "contains": 1.0, "citation_ok": 1.0}  # F1: 1/4 precision, full recall
    assert grade_qa(item, "612", True, [])["correct"] == 0.0  # a declined answer scores nothing, whatever its text
    assert grade_qa(item, "612", False, ["other/overview.md"])["citation_ok"] == 0.0
    assert grade_qa(QAItem("2", "Moon?", ()), "I cannot tell.", True, [])["correct"] == 1.0
    changed = FreshItem("p", "Price?", ("EUR 49",), ("EUR 59",), "p.md")
    assert grade_fresh(changed, "It costs EUR 59.", False)["outcome"] == "new"
    assert grade_fresh(changed, "It costs EUR 49.", False)["outcome"] == "stale"
    assert grade_fresh(changed, "It went from EUR 49 to EUR 59.", False)["outcome"] == "new"
    assert grade_fresh(changed, "EUR 59", True)["outcome"] == "none"
    gone = FreshItem("d", "Gone?", ("EUR 350",), (), "oncall.txt", deleted=True)
    assert grade_fresh(gone, "EUR 350 a week.", False) == {"outcome": "stale", "still_stated": 1.0}
    assert cites(["a/b/c.md"], "b/c.md") and cites(["a/b/c.md"], "c.md") and not cites(["a/b/c.md"], "x/c.md")


def test_the_sample_corpus_questions_become_eval_inputs(tmp_path):
    paths = eval_sets("v2", tmp_path)
    qa, stable, fresh = load_qa(paths["qa"]), load_qa(paths["stable"]), load_fresh(paths["fresh"])
    assert len(qa) == 125 and len(stable) == 109 and len(fresh) == 20
    assert {f.kind for f in fresh} == {"changed", "added", "deleted"}
    by_id = {q.id: q for q in qa}
    assert by_id["q110"].answers == ("EUR 59 per seat per month",)  # v2's value
    assert not {q.id for q in stable} & {f.id for f in fresh}
    assert sum(not q.answerable for q in stable) == 16


def test_the_cli_refuses_bad_input_before_any_model_loads(tmp_path):
    bad = write(tmp_path, "qa.jsonl", ['{"id": "a", "question": "Q", "answers": ["x"]}', '{"id": "b", "answers": ["x"]}'])
    proc = run_ragft("eval", "--qa", str(bad), "--routes", "naive", home=tmp_path / "home")
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1] == (f"ragft eval: error: --qa {bad} line 2: field 'question': field required "
                                                    "(see `ragft eval --help` for the row format)")
    assert not (tmp_path / "home" / "evals").exists()  # nothing ran, nothing stored
    assert run_ragft("eval", home=tmp_path / "home").returncode == 2
    unknown = run_ragft("eval", "--qa", str(bad), "--routes", "naive,psychic", home=tmp_path / "home")
    assert unknown.returncode == 2 and "psychic" in unknown.stderr
