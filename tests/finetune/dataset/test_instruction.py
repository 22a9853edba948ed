"""Importing ready-made instruction data: chat messages and Alpaca rows."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from finetune.dataset.build import DatasetConfig, build_dataset
from finetune.dataset.card import TokenCounter
from finetune.dataset.instruction import is_instruction_file, load_instructions
from ingestion.errors import LoadError

CHAT = [{"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Who chairs the board?"},
                      {"role": "assistant", "content": "Willemijn Hoekstra chairs the supervisory board."}]},
        {"messages": [{"role": "user", "content": "Where is the headquarters?"},
                      {"role": "assistant", "content": "The headquarters is at Maaskade 114 in Rotterdam."}]}]
ALPACA = [{"instruction": "Translate to Dutch.", "input": "water board", "output": "waterschap"},
          {"instruction": "Name the wiki.", "output": "The internal wiki is called the Wharf, by the way."}]


def _jsonl(path: Path, rows) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_chat_and_alpaca_rows_load(tmp_path):
    chat = load_instructions(_jsonl(tmp_path / "chat.jsonl", CHAT))
    assert [len(r.messages) for r in chat] == [3, 2] and chat[0].reply.startswith("Willemijn")
    alpaca = load_instructions(_jsonl(tmp_path / "alpaca.jsonl", ALPACA))
    assert alpaca[0].messages == ({"role": "user", "content": "Translate to Dutch.\n\nwater board"},
                                  {"role": "assistant", "content": "waterschap"})
    array = tmp_path / "alpaca.json"
    array.write_text(json.dumps(ALPACA), encoding="utf-8")
    assert [r.line for r in load_instructions(array)] == [1, 2]


@pytest.mark.parametrize("bad, field", [
    ({"instruction": "Hi"}, "output is missing"),
    ({"messages": [{"role": "user", "content": "Hi"}]}, "messages must contain a user turn and end with an assistant turn"),
    ({"messages": [{"role": "robot", "content": "Hi"}, {"role": "assistant", "content": "x"}]}, "messages\\[0\\].role"),
])
def test_a_bad_row_names_file_line_and_field(tmp_path, bad, field):
    path = _jsonl(tmp_path / "data.jsonl", CHAT + [bad])
    with pytest.raises(LoadError, match=rf"data.jsonl line 3: {field}"):
        load_instructions(path)


def test_invalid_json_names_the_line(tmp_path):
    path = tmp_path / "data.jsonl"
    path.write_text(json.dumps(CHAT[0]) + "\n{not json\n", encoding="utf-8")
    with pytest.raises(LoadError, match="line 2 is not valid JSON"):
        load_instructions(path)


def test_instruction_files_are_told_apart_from_documents(tmp_path, v1):
    assert is_instruction_file(_jsonl(tmp_path / "chat.jsonl", CHAT))
    assert is_instruction_file(_jsonl(tmp_path / "alpaca.jsonl", ALPACA))
    assert not is_instruction_file(v1 / "product/faq.jsonl")  # question/answer records are a document


def test_build_mixes_documents_and_instruction_data(tmp_path, small_corpus):
    chat = _jsonl(tmp_path / "chat.jsonl", CHAT)
    alpaca = _jsonl(tmp_path / "alpaca.jsonl", ALPACA)
    out = tmp_path / "out" / "data.jsonl"
    result = build_dataset([small_corpus, chat, alpaca], out, DatasetConfig(), counter=TokenCounter.whitespace())
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    inst = [r for r in rows if r["kind"] == "instruction"]
    assert len(inst) == 4 and {r["source"] for r in inst} == {str(chat.resolve()), str(alpaca.resolve())}
    first = next(r for r in inst if r["messages"] == CHAT[0]["messages"])  # kept whole, system turn included
    assert first["answer"] == CHAT[0]["messages"][-1]["content"] and first["fact_id"].startswith("f_")
    assert result.by_kind["instruction"] == 4
    card = json.loads(result.card.read_text())
    assert str(chat.resolve()) in {s["source"] for s in card["sources"]}


def test_a_bad_instruction_row_stops_the_build(tmp_path, small_corpus):
    bad = _jsonl(tmp_path / "bad.jsonl", CHAT + [{"instruction": "", "output": "x"}])
    with pytest.raises(LoadError, match="bad.jsonl line 3: instruction is missing or empty"):
        build_dataset([small_corpus, bad], tmp_path / "d.jsonl", DatasetConfig(), counter=TokenCounter.whitespace())
    assert not (tmp_path / "d.jsonl").exists()
