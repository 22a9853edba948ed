"""What the two in-process backends (llama.cpp, transformers) share.

Both render the prompt with the same chat template (``prompt.ChatTemplate``), so the same
messages give the same prompt tokens, and both feed generated token ids through one loop that
detokenizes, holds back text that may be the start of a stop sequence, and records timings.
A backend only supplies tokenize / detokenize / is_end / next_tokens.
"""

from __future__ import annotations

import time
from typing import Callable, Generator, Iterator, Sequence

from assistant.llm.prompt import ChatTemplate
from ingestion.errors import ModelError
from rag.chat_model import ChatMessage, ChatStream, Completion, GenerationOptions, drain, validate_messages


def _held_back(text: str, stops: Sequence[str]) -> int:
    """Length of the longest tail of ``text`` that is a proper prefix of some stop sequence."""
    best = 0
    for stop in stops:
        for n in range(min(len(stop) - 1, len(text)), best, -1):
            if text.endswith(stop[:n]):
                best = n
                break
    return best


class LocalChatModel:
    """Base class; subclasses set ``name``, ``context_window``, ``template`` and the hooks."""

    name: str
    context_window: int
    template: ChatTemplate

    # -- hooks -------------------------------------------------------------------------------
    def tokenize(self, text: str) -> list[int]:
        """Token ids of ``text`` with special tokens parsed and none added (the template has them)."""
        raise NotImplementedError

    def detokenize(self, ids: list[int]) -> str:
        raise NotImplementedError

    def is_end(self, token: int) -> bool:
        """End of turn / end of generation token."""
        raise NotImplementedError

    def next_tokens(self, prompt_ids: list[int], options: GenerationOptions, max_new: int) -> Iterator[int]:
        """Generated token ids, one at a time; closing the iterator must stop generation."""
        raise NotImplementedError

    def next_logits(self, prompt_ids: list[int]) -> Sequence[float]:
        """The logits of the token after ``prompt_ids`` (one forward pass, nothing sampled)."""
        raise NotImplementedError

    # -- shared ------------------------------------------------------------------------------
    def yes_probability(self, messages: Sequence[ChatMessage]) -> float:
        """P(yes) / (P(yes) + P(no)) of the reply's first token: a judge's vote as a graded score
        (for AUCs and thresholds), from one prompt pass and no decoding. "yes"/"no" count with
        and without a leading space and capitalised, each by the first token of its spelling."""
        import numpy as np

        logits = np.asarray(self.next_logits(self.prompt_ids(messages)), dtype=np.float64)
        probs = np.exp(logits - logits.max())

        def mass(word: str) -> float:
            ids = {ids[0] for v in (word, word.capitalize(), " " + word, " " + word.capitalize()) if (ids := self.tokenize(v))}
            return float(probs[sorted(ids)].sum())

        yes, no = mass("yes"), mass("no")
        return yes / (yes + no) if yes + no > 0 else 0.5

    def count_tokens(self, text: str) -> int:
        return len(self.tokenize(text))

    def prompt_ids(self, messages: Sequence[ChatMessage]) -> list[int]:
        """The exact token ids the model sees for ``messages`` (template + generation prompt)."""
        return self.tokenize(self.template.render(validate_messages(messages)))

    def stream(self, messages: Sequence[ChatMessage], options: GenerationOptions | None = None) -> ChatStream:
        return ChatStream(self._run(messages, options or GenerationOptions()))

    def generate(
        self,
        messages: Sequence[ChatMessage],
        options: GenerationOptions | None = None,
        on_token: Callable[[str], None] | None = None,
    ) -> Completion:
        return drain(self.stream(messages, options), on_token)

    def _run(self, messages: Sequence[ChatMessage], options: GenerationOptions) -> Generator[str, None, Completion]:
        start = time.perf_counter()
        prompt = self.prompt_ids(messages)
        room = self.context_window - len(prompt)
        if room < 1:
            raise ModelError(
                f"{self.name}: the prompt has {len(prompt)} tokens but the context window is {self.context_window}",
                fix="shorten the question or the retrieved context, or raise context_window",
            )
        max_new = min(options.max_tokens, room)
        out: list[int] = []
        text = emitted = ""  # decoded so far (cut at a stop sequence) / already yielded
        first_s = 0.0
        finish = "length"
        tokens = self.next_tokens(prompt, options, max_new)
        try:
            for tok in tokens:
                if not first_s:
                    first_s = time.perf_counter() - start
                if self.is_end(tok):
                    finish = "stop"
                    break
                out.append(tok)
                text = self.detokenize(out)
                if text.endswith("\ufffd") and len(out) < max_new:
                    continue  # a multi-byte character is split across tokens
                cut = min((i for i in (text.find(s) for s in options.stop) if i >= 0), default=-1)
                if cut >= 0:
                    text, finish = text[:cut], "stop"
                    break
                if len(out) >= max_new:
                    break
                safe = len(text) - _held_back(text, options.stop)
                if safe > len(emitted):
                    yield text[len(emitted) : safe]
                    emitted = text[:safe]
        finally:
            close = getattr(tokens, "close", None)
            if close is not None:
                close()  # stops a background generation thread early
        text = text.rstrip("\ufffd")
        if len(text) > len(emitted):  # held-back tail that never became a stop sequence
            yield text[len(emitted) :]
        emitted = text
        return Completion(
            text=emitted,
            prompt_tokens=len(prompt),
            completion_tokens=len(out),
            first_token_s=first_s,
            total_s=time.perf_counter() - start,
            finish_reason=finish,
            model=self.name,
        )
