"""The chat-model protocol rag programs against: options, completions, streams, the fake."""

from __future__ import annotations

import pytest

from ingestion.errors import ConfigError
from rag.chat_model import (
    ChatModel,
    ChatStream,
    Completion,
    FakeChatModel,
    GenerationOptions,
    drain,
    validate_messages,
)

USER = [{"role": "user", "content": "What is the capital of France?"}]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"max_tokens": 0}, "max_tokens"),
        ({"max_tokens": True}, "max_tokens"),
        ({"temperature": -0.1}, "temperature"),
        ({"temperature": 3}, "temperature"),
        ({"top_p": 0}, "top_p"),
        ({"stop": ("",)}, "stop"),
        ({"stop": tuple("abcdefghi")}, "stop"),
        ({"seed": -1}, "seed"),
    ],
)
def test_bad_options_name_the_field(kwargs, field):
    with pytest.raises(ConfigError, match=field):
        GenerationOptions(**kwargs)


def test_options_deterministic_means_greedy_with_a_fixed_seed():
    opts = GenerationOptions(deterministic=True, temperature=0.9)
    assert opts.greedy and opts.effective_seed == 0
    assert GenerationOptions(deterministic=True, seed=7).effective_seed == 7
    assert GenerationOptions(temperature=0).greedy
    assert not GenerationOptions().greedy and GenerationOptions().effective_seed is None
    assert GenerationOptions(stop="\n").stop == ("\n",)  # a lone string is one stop sequence


def test_messages_are_validated_with_their_index():
    assert validate_messages(USER) == USER
    with pytest.raises(ConfigError, match=r"messages\[1\]\.role"):
        validate_messages([*USER, {"role": "robot", "content": "x"}])
    with pytest.raises(ConfigError, match="empty"):
        validate_messages([])


def test_completion_rates():
    c = Completion(text="x", prompt_tokens=100, completion_tokens=11, first_token_s=0.5, total_s=1.5, finish_reason="stop")
    assert c.prefill_tok_s == pytest.approx(200)
    assert c.decode_tok_s == pytest.approx(10)  # 10 tokens after the first, in 1 s
    assert c.tokens() == {"prompt": 100, "completion": 11}


def test_chat_stream_exposes_the_completion_after_exhaustion():
    def gen():
        yield "a"
        yield "b"
        return Completion(text="ab", prompt_tokens=1, completion_tokens=2, first_token_s=0, total_s=0, finish_reason="stop")

    stream = ChatStream(gen())
    assert stream.completion is None
    seen: list[str] = []
    done = drain(stream, seen.append)
    assert seen == ["a", "b"] and done.text == "ab" and stream.completion is done


def test_fake_model_replays_queued_replies_and_records_calls():
    model = FakeChatModel()
    assert isinstance(model, ChatModel)
    model.enqueue(["The capital is Paris.", "I don't know."])
    pieces: list[str] = []
    first = model.generate(USER, GenerationOptions(max_tokens=50), on_token=pieces.append)
    assert first.text == "The capital is Paris." and "".join(pieces) == first.text
    assert "".join(model.stream(USER)) == "I don't know."
    assert len(model.calls) == 2 and model.calls[0][0] == USER
    with pytest.raises(RuntimeError, match="enqueue"):
        model.generate(USER)


def test_fake_model_honours_stop_and_max_tokens():
    model = FakeChatModel(default_reply="one two three. four five")
    assert model.generate(USER, GenerationOptions(stop=(".",))).text == "one two three"
    cut = model.generate(USER, GenerationOptions(max_tokens=2))
    assert cut.text == "one two" and cut.finish_reason == "length" and cut.completion_tokens == 2
