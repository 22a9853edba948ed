"""Process-wide settings that every entry point applies before torch, tokenizers or Chroma load.

``apply_defaults()`` only fills variables the user has not set, so any of them can be overridden
from the shell.

- ``OMP_WAIT_POLICY=PASSIVE``: by default torch's OpenMP threads spin between parallel regions.
  When the cores are shared (a training job running beside the chat, the app's parallel compare,
  any other load) the spinning threads take the cores the working ones need, and throughput
  collapses. Measured on 2 cores at load average ~3 (one LoRA step of SmolLM2-135M over 1,000
  tokens, fp32, 2 threads): 52-64 s with the default policy (16-19 tokens/s), 12-14 s with
  PASSIVE (70-84 tokens/s); one thread gave 85 tokens/s. A single query embedding under load:
  740 ms by default, 26 ms with PASSIVE. libgomp reads the variable once, when torch loads, so
  it must be set before the first ``import torch``.
- ``TOKENIZERS_PARALLELISM=false``: the Rust tokenizers' thread pool warns and can deadlock
  after a fork (the background jobs and the test servers fork).
- ``ANONYMIZED_TELEMETRY=False``: chromadb would otherwise try to send telemetry; the machines
  this runs on are often offline.
- ``HF_HUB_DISABLE_PROGRESS_BARS=1`` and ``TRANSFORMERS_VERBOSITY=error``: transformers 5 draws
  "Loading weights" / "Writing model shards" bars for every embedder and checkpoint load and
  warns "Token indices sequence length is longer than the specified maximum" whenever the
  chunker measures a long document with the embedder's tokenizer (it only counts tokens there;
  chunks are cut to fit). ragft's own bars (ingest, dataset, training, export) are its tqdm
  bars on stderr and stay.

It also quiets two log lines of the same cause: on CPUs with AVX512-BF16, importing bitsandbytes
asks the ``kernels`` package for an optional 4-bit kernel from a model hub, which warns "Skipping
publisher trust check for 'kernels-community/...'" offline, or that the fetch failed; the
built-in CPU kernel is used instead and works, and offline the fetch can never succeed.
"""

from __future__ import annotations

import logging
import os

DEFAULTS = {
    "OMP_WAIT_POLICY": "PASSIVE",
    "TOKENIZERS_PARALLELISM": "false",
    "ANONYMIZED_TELEMETRY": "False",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "TRANSFORMERS_VERBOSITY": "error",
}
QUIET_LOGGERS = (
    "bitsandbytes.backends.cpu.ops",  # "Failed to load CPU gemm_4bit_forward from kernels-community"
    "kernels._internals.hf_hub",  # "Skipping publisher trust check for 'kernels-community/...'"
)


def apply_defaults() -> None:
    """Set each variable of ``DEFAULTS`` that the environment does not already define; quiet ``QUIET_LOGGERS``."""
    for name, value in DEFAULTS.items():
        os.environ.setdefault(name, value)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR)
