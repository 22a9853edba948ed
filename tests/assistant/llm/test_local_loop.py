"""The token loop both local backends share: detokenizing, stop sequences, split characters.

A byte-level scripted model drives it: each token is one UTF-8 byte, so multi-byte characters
arrive split across tokens, as they do with real byte-level BPE vocabularies.
"""

from __future__ import annotations

import pytest

from assistant.llm.local import LocalChatModel, _held_back
from assistant.llm.prompt import CHATML, ChatTemplate
from ingestion.errors import ModelError
from rag.chat_model import GenerationOptions

END = 256


class ByteModel(LocalChatModel):
    def __init__(self, reply: str, context_window: int = 4096) -> None:
        self.name, self.context_window, self.template = "bytes", context_window, ChatTemplate(CHATML)
        self.reply = list(reply.encode("utf-8")) + [END]

    def tokenize(self, text):
        return list(text.encode("utf-8"))

    def detokenize(self, ids):
        return bytes(ids).decode("utf-8", errors="replace")

    def is_end(self, token):
        return token == END

    def next_tokens(self, prompt_ids, options, max_new):
        yield from self.reply  # the shared loop stops at max_new


MSG = [{"role": "user", "content": "hi"}]


def run(reply: str, **opts):
    pieces: list[str] = []
    done = ByteModel(reply).generate(MSG, GenerationOptions(**opts), on_token=pieces.append)
    return pieces, done


def test_split_characters_are_never_emitted_half_done():
    pieces, done = run("Paris 🚀 café")
    assert done.text == "Paris 🚀 café" and "".join(pieces) == done.text
    assert not any("\ufffd" in p for p in pieces)
    assert done.completion_tokens == len("Paris 🚀 café".encode()) and done.finish_reason == "stop"


def test_stop_sequence_is_cut_and_its_prefix_never_leaks():
    pieces, done = run("The answer is Paris.\n\nQuestion: next", stop=("\n\nQuestion:",))
    assert done.text == "The answer is Paris." and "".join(pieces) == done.text
    assert done.finish_reason == "stop"


def test_held_back_text_is_flushed_when_no_stop_follows():
    pieces, done = run("ends with a newline\n", stop=("\n\n",))
    assert done.text == "ends with a newline\n" and "".join(pieces) == done.text


def test_max_tokens_gives_length():
    pieces, done = run("abcdefgh", max_tokens=3)
    assert done.text == "abc" and done.finish_reason == "length" and done.completion_tokens == 3


def test_prompt_longer_than_the_window():
    with pytest.raises(ModelError, match="context window is 8"):
        ByteModel("x", context_window=8).generate(MSG)


def test_held_back_length():
    assert _held_back("abc\n", ("\n\nQ",)) == 1
    assert _held_back("abc\n\n", ("\n\nQ",)) == 2
    assert _held_back("abc", ("\n\nQ",)) == 0
