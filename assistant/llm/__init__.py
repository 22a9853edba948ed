"""Chat-model backends behind rag's ``ChatModel`` protocol: llama.cpp, transformers, OpenAI HTTP.

    from assistant.llm import get_model
    model = get_model("smollm2-135m", home=Home.resolve())   # loaded once per process
    for piece in model.stream([{"role": "user", "content": "Hi"}]): print(piece, end="")
"""

from assistant.llm.base import BUNDLED, ModelSpec
from assistant.llm.registry import DEFAULT_MODEL, all_specs, describe, get_model, resolve_spec

__all__ = ["BUNDLED", "DEFAULT_MODEL", "ModelSpec", "all_specs", "describe", "get_model", "resolve_spec"]
