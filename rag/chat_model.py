"""The small chat-model protocol that rag (and everything above it) programs against.

Messages in, streamed text out, token counts and timings reported. The assistant's backends
(llama.cpp, transformers, OpenAI-compatible HTTP) implement it; rag never imports them — the
caller passes a model in. ``FakeChatModel`` is a test double for code *above* the model
(routing, scoring): it never stands in for a real backend in backend tests.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, Generator, Iterator, Literal, Protocol, Sequence, TypedDict, runtime_checkable

from ingestion.errors import ConfigError

Role = Literal["system", "user", "assistant"]
ROLES = ("system", "user", "assistant")


class ChatMessage(TypedDict):
    role: Role
    content: str


def validate_messages(messages: Sequence[ChatMessage]) -> list[ChatMessage]:
    """Return a plain list copy; errors name the offending index and field."""
    if not messages:
        raise ConfigError("messages is empty", fix="pass at least one user message")
    out: list[ChatMessage] = []
    for i, msg in enumerate(messages):
        role, content = msg.get("role"), msg.get("content")
        if role not in ROLES:
            raise ConfigError(f"messages[{i}].role is {role!r}", fix=f"use one of {', '.join(ROLES)}")
        if not isinstance(content, str):
            raise ConfigError(f"messages[{i}].content is not a string", fix="pass text content")
        out.append({"role": role, "content": content})
    return out


@dataclass(frozen=True, kw_only=True)
class GenerationOptions:
    """Sampling settings shared by every backend.

    ``deterministic`` (used by evaluation) forces greedy decoding and a fixed seed, so the same
    prompt gives the same answer on every run of the same backend.
    """

    max_tokens: int = 256
    temperature: float = 0.7
    top_p: float = 1.0
    stop: tuple[str, ...] = ()
    seed: int | None = None
    deterministic: bool = False

    def __post_init__(self) -> None:
        if isinstance(self.max_tokens, bool) or not isinstance(self.max_tokens, int) or self.max_tokens < 1:
            raise ConfigError(f"max_tokens must be a positive integer, got {self.max_tokens!r}")
        if not isinstance(self.temperature, (int, float)) or not 0.0 <= self.temperature <= 2.0:
            raise ConfigError(f"temperature must be between 0 and 2, got {self.temperature!r}")
        if not isinstance(self.top_p, (int, float)) or not 0.0 < self.top_p <= 1.0:
            raise ConfigError(f"top_p must be in (0, 1], got {self.top_p!r}")
        stop = (self.stop,) if isinstance(self.stop, str) else tuple(self.stop)
        if any(not isinstance(s, str) or not s for s in stop) or len(stop) > 8:
            raise ConfigError("stop must be at most 8 non-empty strings")
        object.__setattr__(self, "stop", stop)
        if self.seed is not None and (isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0):
            raise ConfigError(f"seed must be a non-negative integer, got {self.seed!r}")

    @property
    def greedy(self) -> bool:
        return self.deterministic or self.temperature == 0.0

    @property
    def effective_seed(self) -> int | None:
        """The seed to use: 0 in deterministic mode unless one is given."""
        return 0 if self.deterministic and self.seed is None else self.seed


@dataclass(frozen=True)
class Completion:
    """What one generation produced, with the counts and timings benchmarks and the UI show."""

    text: str
    prompt_tokens: int
    completion_tokens: int
    first_token_s: float  # from the call to the first generated token (includes prompt processing)
    total_s: float
    finish_reason: str  # "stop" (end of turn or a stop sequence) or "length" (max_tokens)
    model: str = ""

    @property
    def prefill_tok_s(self) -> float:
        return self.prompt_tokens / self.first_token_s if self.first_token_s > 0 else 0.0

    @property
    def decode_tok_s(self) -> float:
        decode_s = self.total_s - self.first_token_s
        return (self.completion_tokens - 1) / decode_s if self.completion_tokens > 1 and decode_s > 0 else 0.0

    def tokens(self) -> dict[str, int]:
        return {"prompt": self.prompt_tokens, "completion": self.completion_tokens}


class ChatStream(Iterator[str]):
    """Text pieces as they are generated; ``completion`` is set once the stream is exhausted.

    Wraps a generator that yields text and *returns* the final ``Completion``.
    """

    def __init__(self, gen: Generator[str, None, Completion]) -> None:
        self._gen = gen
        self.completion: Completion | None = None

    def __iter__(self) -> "ChatStream":
        return self

    def __next__(self) -> str:
        try:
            return next(self._gen)
        except StopIteration as stop:
            self.completion = stop.value
            raise

    def close(self) -> None:
        self._gen.close()


def drain(stream: ChatStream, on_token: Callable[[str], None] | None = None) -> Completion:
    """Consume a stream (calling ``on_token`` per piece) and return its Completion."""
    for piece in stream:
        if on_token is not None:
            on_token(piece)
    assert stream.completion is not None  # set by the generator's return
    return stream.completion


@runtime_checkable
class ChatModel(Protocol):
    """Messages in, streamed text out. Implementations load weights once and are reused."""

    name: str
    context_window: int  # prompt + completion tokens the model accepts

    def stream(self, messages: Sequence[ChatMessage], options: GenerationOptions | None = None) -> ChatStream: ...

    def generate(
        self,
        messages: Sequence[ChatMessage],
        options: GenerationOptions | None = None,
        on_token: Callable[[str], None] | None = None,
    ) -> Completion: ...

    def count_tokens(self, text: str) -> int: ...


@dataclass
class FakeChatModel:
    """Test double with queued replies, for routing/scoring tests (simonw/llm style).

    >>> m = FakeChatModel(); m.enqueue(["Paris."]); m.generate([{"role": "user", "content": "?"}]).text
    'Paris.'
    """

    name: str = "fake"
    context_window: int = 2048
    default_reply: str | None = None
    calls: list[tuple[list[ChatMessage], GenerationOptions]] = field(default_factory=list)
    _queue: list[str] = field(default_factory=list)

    def enqueue(self, replies: Sequence[str]) -> None:
        self._queue.extend(replies)

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def stream(self, messages: Sequence[ChatMessage], options: GenerationOptions | None = None) -> ChatStream:
        msgs, opts = validate_messages(messages), options or GenerationOptions()
        self.calls.append((msgs, opts))
        if self._queue:
            reply = self._queue.pop(0)
        elif self.default_reply is not None:
            reply = self.default_reply
        else:
            raise RuntimeError("FakeChatModel has no queued reply; call enqueue([...]) first")
        return ChatStream(self._pieces(msgs, reply, opts))

    def _pieces(self, msgs: list[ChatMessage], reply: str, opts: GenerationOptions) -> Generator[str, None, Completion]:
        start = time.perf_counter()
        for stop in opts.stop:  # honour stop sequences like a real backend
            reply = reply.split(stop, 1)[0]
        words = reply.split(" ")
        finish = "length" if len(words) > opts.max_tokens else "stop"
        words = words[: opts.max_tokens]
        first = 0.0
        for i, word in enumerate(words):
            if i == 0:
                first = time.perf_counter() - start
            yield word if i == 0 else " " + word
        prompt = sum(self.count_tokens(m["content"]) for m in msgs)
        return Completion(
            text=" ".join(words), prompt_tokens=prompt, completion_tokens=len(words),
            first_token_s=first, total_s=time.perf_counter() - start, finish_reason=finish, model=self.name,
        )

    def generate(
        self,
        messages: Sequence[ChatMessage],
        options: GenerationOptions | None = None,
        on_token: Callable[[str], None] | None = None,
    ) -> Completion:
        return drain(self.stream(messages, options), on_token)
