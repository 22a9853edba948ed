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

It also quiets one log line: on CPUs with AVX512-BF16, importing bitsandbytes warns on every run
that it could not fetch an optional 4-bit kernel from a model hub (the ``kernels`` package);
its built-in CPU kernel is used instead and works, and offline the fetch can never succeed.
"""

from __future__ import annotations

import logging
import os

DEFAULTS = {
    "OMP_WAIT_POLICY": "PASSIVE",
    "TOKENIZERS_PARALLELISM": "false",
    "ANONYMIZED_TELEMETRY": "False",
}
QUIET_LOGGER = "bitsandbytes.backends.cpu.ops"  # "Failed to load CPU gemm_4bit_forward from kernels-community"


def apply_defaults() -> None:
    """Set each variable of ``DEFAULTS`` that the environment does not already define; quiet ``QUIET_LOGGER``."""
    for name, value in DEFAULTS.items():
        os.environ.setdefault(name, value)
    logging.getLogger(QUIET_LOGGER).setLevel(logging.ERROR)
