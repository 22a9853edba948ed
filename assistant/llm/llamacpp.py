"""llama.cpp backend for GGUF files: the fast CPU path (and how the quantized fine-tuned model is
served on CPU). Uses llama-cpp-python for loading, tokenizing and sampling; the prompt comes from
the shared chat template (``prompt.py``) as token ids, never from llama.cpp's own formatter.
"""

from __future__ import annotations

import os
import random
import threading
from pathlib import Path
from typing import Iterator

from assistant.llm.base import ModelSpec
from assistant.llm.local import LocalChatModel
from assistant.llm.prompt import GGUF_TEMPLATE_KEYS, gguf_chat_template
from finetune.gguf_header import read_gguf_header
from finetune.native import llama_verdict, load_llama
from ingestion.errors import ModelError
from ingestion.home import Home
from rag.chat_model import GenerationOptions

DEFAULT_MAX_CONTEXT = 4096  # KV cache is allocated up front: ~94 MB at 4096 for SmolLM2-135M


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def default_threads() -> int:
    """Decode threads: half the usable cores, as llama.cpp itself defaults to. Its worker threads
    spin-wait at every barrier, and decoding meets one per layer per token, so when they
    outnumber idle cores (hyper-threads, a busy laptop) decoding collapses (measured here on 2
    busy cores: 1 thread ~50 tok/s, 2 threads ~2 tok/s; on 2 quiet vCPUs that share time with
    the host: 62 vs 31 tok/s)."""
    return max(1, usable_cores() // 2)


def default_batch_threads() -> int:
    """Prompt (prefill) threads: every usable core. A prompt is one large batch with far fewer
    barriers per token, so extra threads pay: a 505-token prompt on 2 quiet cores ran at 289 vs
    151 tokens/s with 2 threads vs 1, and with one core busy elsewhere at 117 vs 111-142 (no
    collapse). RAG prompts are mostly prompt, so this halves their first-token time."""
    return usable_cores()


class LlamaCppChatModel(LocalChatModel):
    def __init__(self, *, spec: ModelSpec, gguf_path: Path, home: Home) -> None:
        self.name = spec.name
        self.path = gguf_path
        if not gguf_path.is_file():
            raise ModelError(f"model file {gguf_path} does not exist", fix="check the path, or run `ragft models` to list models")
        # Header reads raise ModelError on a corrupt file: template, BOS/EOS, trained context.
        arch = read_gguf_header(gguf_path, ("general.architecture",)).get("general.architecture", "llama")
        meta = read_gguf_header(gguf_path, (*GGUF_TEMPLATE_KEYS, f"{arch}.context_length"))
        self.template = gguf_chat_template(gguf_path, meta)
        trained = int(meta.get(f"{arch}.context_length") or DEFAULT_MAX_CONTEXT)
        # Fast or safe buffers, as this CPU's one-time self-check in a child process decided
        # (llama.cpp #20824: AMX kernels segfault on some Xeons; see finetune/native.py).
        self.verdict = llama_verdict(home, gguf_path)
        try:
            self.llm = load_llama(
                gguf_path,
                extra_bufts=self.verdict.extra_bufts,
                n_ctx=spec.context_window or min(trained, DEFAULT_MAX_CONTEXT),
                n_threads=spec.n_threads or default_threads(),
                n_threads_batch=spec.n_threads or default_batch_threads(),
                verbose=False,
            )
        except (ValueError, RuntimeError) as exc:
            raise ModelError(
                f"llama.cpp could not load {gguf_path}: {exc}",
                fix="the file may be corrupt or truncated; re-download or re-export it",
            ) from exc
        self.context_window = self.llm.n_ctx()
        self._vocab = self.llm._model.vocab  # for end-of-generation checks
        self._lock = threading.Lock()  # one llama_context: one generation at a time

    def tokenize(self, text: str) -> list[int]:
        return self.llm.tokenize(text.encode("utf-8"), add_bos=False, special=True)

    def detokenize(self, ids: list[int]) -> str:
        return self.llm.detokenize(ids).decode("utf-8", errors="replace")

    def is_end(self, token: int) -> bool:
        import llama_cpp

        return bool(llama_cpp.llama_vocab_is_eog(self._vocab, token))

    def next_logits(self, prompt_ids: list[int]) -> list[float]:
        import numpy as np

        with self._lock:
            self.llm.reset()
            try:
                self.llm.eval(prompt_ids)
            except (ValueError, RuntimeError) as exc:
                raise ModelError(f"{self.name}: llama.cpp evaluation failed: {exc}", fix="retry with a shorter prompt") from exc
            # Without logits_all, llama-cpp-python keeps no scores; the context holds the last row.
            row = np.ctypeslib.as_array(self.llm._ctx.get_logits(), shape=(self.llm.n_vocab(),))
            out = row.tolist()
            self.llm.reset()  # the next generate() re-evaluates from scratch
            return out

    def next_tokens(self, prompt_ids: list[int], options: GenerationOptions, max_new: int) -> Iterator[int]:
        seed = options.effective_seed
        # Plain sampling, like transformers: no top-k/min-p/repeat penalty unless asked.
        params = dict(temp=0.0 if options.greedy else options.temperature, top_p=options.top_p, top_k=0, min_p=0.0, repeat_penalty=1.0)
        with self._lock:
            # The seed sticks to the Llama object: draw a fresh one when none is asked for.
            self.llm.set_seed(seed if seed is not None else random.getrandbits(31))
            try:
                for i, tok in enumerate(self.llm.generate(prompt_ids, reset=True, **params)):
                    yield tok
                    if i + 1 >= max_new:
                        break
            except (ValueError, RuntimeError) as exc:  # llama_decode failures
                raise ModelError(f"{self.name}: llama.cpp generation failed: {exc}", fix="retry with a shorter prompt") from exc
