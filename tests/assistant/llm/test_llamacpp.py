"""llama.cpp backend on the real bundled GGUF."""

from __future__ import annotations

import pytest

from assistant.llm import get_model
from assistant.llm.base import ModelSpec
from assistant.llm.llamacpp import LlamaCppChatModel
from finetune.base_model import bundled_gguf
from ingestion.errors import ModelError
from ingestion.home import Home
from rag.chat_model import ChatModel, GenerationOptions

QUESTION = [
    {"role": "system", "content": "You are a helpful assistant. Answer the question briefly."},
    {"role": "user", "content": "What is the capital of France?"},
]
GREEDY = GenerationOptions(deterministic=True, max_tokens=40)


@pytest.fixture(scope="module")
def llama(tmp_path_factory):
    from ingestion.home import Home

    return get_model("smollm2-135m", home=Home.resolve(tmp_path_factory.mktemp("home")))


@pytest.mark.slow
def test_bundled_model_answers_paris(llama):
    pieces: list[str] = []
    done = llama.generate(QUESTION, GREEDY, on_token=pieces.append)
    assert "Paris" in done.text
    assert "".join(pieces) == done.text and len(pieces) > 1  # streamed, not one block
    assert done.finish_reason == "stop" and done.prompt_tokens == len(llama.prompt_ids(QUESTION))
    assert 0 < done.first_token_s <= done.total_s and done.completion_tokens >= 3


def test_decode_uses_half_the_cores_and_the_prompt_all_of_them(llama, tmp_path):
    from assistant.llm.llamacpp import default_batch_threads, default_threads, usable_cores

    # Decoding syncs the threads at every layer of every token (more threads than idle cores
    # collapse it); a prompt is one big batch, where every core pays (see the docstrings).
    assert llama.llm.n_threads == default_threads() == max(1, usable_cores() // 2)
    assert llama.llm.n_threads_batch == default_batch_threads() == usable_cores()
    pinned = LlamaCppChatModel(spec=ModelSpec(name="pinned", backend="llamacpp", path=str(bundled_gguf()), n_threads=1),
                               gguf_path=bundled_gguf(), home=Home.resolve(tmp_path))
    assert (pinned.llm.n_threads, pinned.llm.n_threads_batch) == (1, 1)  # an explicit setting wins for both


def test_loaded_once_and_reused(llama, tmp_path):
    from ingestion.home import Home

    assert isinstance(llama, ChatModel)
    assert get_model("smollm2-135m", home=Home.resolve(tmp_path)) is llama
    assert llama.context_window == 4096  # the trained 8192, capped (KV cache is allocated up front)


def test_deterministic_mode_repeats_and_seeded_sampling_repeats(llama):
    assert llama.generate(QUESTION, GREEDY).text == llama.generate(QUESTION, GREEDY).text
    hot = GenerationOptions(temperature=1.0, seed=11, max_tokens=12)
    assert llama.generate(QUESTION, hot).text == llama.generate(QUESTION, hot).text


def test_max_tokens_and_stop_sequences(llama):
    short = llama.generate(QUESTION, GenerationOptions(deterministic=True, max_tokens=3))
    assert short.finish_reason == "length" and short.completion_tokens == 3
    cut = llama.generate(QUESTION, GenerationOptions(deterministic=True, max_tokens=40, stop=("Paris", "France")))
    assert "Paris" not in cut.text and "France" not in cut.text and cut.finish_reason == "stop"
    # A stop sequence spanning several tokens is cut without leaking its first half.
    pieces: list[str] = []
    multi = llama.generate(QUESTION, GenerationOptions(deterministic=True, max_tokens=40, stop=("is Paris",)), on_token=pieces.append)
    assert "is Paris" not in multi.text and "".join(pieces) == multi.text


def test_too_long_prompt_is_a_clear_error(llama):
    huge = [{"role": "user", "content": "word " * 5000}]
    with pytest.raises(ModelError, match="context window"):
        llama.generate(huge)


def test_count_tokens_uses_the_real_tokenizer(llama):
    assert llama.count_tokens("Paris") == 1
    assert llama.count_tokens("<|im_end|>") == 1  # special tokens are parsed, as in the prompt


@pytest.mark.parametrize(
    ("content", "match"),
    [(None, "does not exist"), (b"not a gguf at all", "not a valid GGUF"), ("truncated", "could not load")],
)
def test_missing_or_corrupt_files_give_one_line_errors(tmp_path, content, match):
    path = tmp_path / "model.gguf"
    if content == "truncated":  # a valid header but the tensor data cut off
        path.write_bytes(bundled_gguf().read_bytes()[:20_000_000])
    elif content is not None:
        path.write_bytes(content)
    with pytest.raises(ModelError, match=match) as err:
        LlamaCppChatModel(spec=ModelSpec(name="m", backend="llamacpp", path=str(path)), gguf_path=path,
                          home=Home.resolve(tmp_path / "home"))
    assert "\n" not in str(err.value) and err.value.fix


def test_next_logits_agree_with_greedy_decoding_and_leave_generation_unchanged(llama):
    before = llama.generate(QUESTION, GREEDY).text
    logits = llama.next_logits(llama.prompt_ids(QUESTION))
    assert len(logits) == llama.llm.n_vocab()
    first = max(range(len(logits)), key=logits.__getitem__)
    one = llama.generate(QUESTION, GenerationOptions(deterministic=True, max_tokens=1))
    assert one.completion_tokens == 1 and one.text == llama.detokenize([first])  # greedy takes the argmax
    assert llama.generate(QUESTION, GREEDY).text == before  # the evaluation left no state behind


def test_a_judge_vote_is_graded_by_the_first_token(llama):
    from rag.checks import LLMJudge

    judge = LLMJudge(llama)
    score = judge.answers_score("In which year was Marrowfield founded?", "Marrowfield was founded in 2011 in Rotterdam.")
    assert 0.0 < score < 1.0
    messages = judge._messages(judge._answers_prompt("In which year was Marrowfield founded?", "Marrowfield was founded in 2011 in Rotterdam."))
    assert llama.yes_probability(messages) == score  # deterministic: one prompt pass, nothing sampled
