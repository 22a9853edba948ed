"""The child side of the llama.cpp self-check (``finetune/native.py``); run only by it.

    python -m finetune.native_probe MODEL.gguf 1|0     # 1 = fast (extra buffer types), 0 = safe

Loads the GGUF and decodes a short prompt plus 4 greedy tokens: the same ``llama_decode`` path
(prompt batch, then single tokens) that crashes on affected CPUs. Exit 0 means it answered; a
native crash ends this process by a signal, which the parent reads from the return code.
"""

from __future__ import annotations

import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[1] not in ("0", "1"):
        print("usage: python -m finetune.native_probe MODEL.gguf 1|0", file=sys.stderr)
        return 2
    from finetune.native import LOAD_FAILED, load_llama

    try:
        llm = load_llama(Path(argv[0]), extra_bufts=argv[1] == "1", n_ctx=256, n_threads=1, n_threads_batch=2, verbose=False)
    except (ValueError, RuntimeError) as exc:  # a bad file, not a bad CPU: the parent's own load says so
        print(f"could not load: {exc}", file=sys.stderr)
        return LOAD_FAILED
    prompt = llm.tokenize(b"The capital of France is", add_bos=True, special=True)
    produced = []
    for token in llm.generate(prompt, temp=0.0, top_k=1, reset=True):
        produced.append(token)
        if len(produced) >= 4:
            break
    print(f"ok {len(prompt)} prompt tokens, {len(produced)} generated")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
