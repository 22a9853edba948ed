"""The one place where chat messages become prompt text.

Every backend renders with the model's own Jinja chat template through transformers'
``render_jinja_template`` (the code behind ``apply_chat_template``: sandboxed jinja2, the same
helpers and whitespace rules), then tokenizes the text with special tokens parsed and none
added. So llama.cpp and transformers see identical prompt tokens for the same messages.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from finetune.gguf_header import read_gguf_header
from ingestion.errors import ModelError
from rag.chat_model import ChatMessage

# ChatML: the fallback for a checkpoint or GGUF that ships no chat template at all.
CHATML = (
    "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)


@dataclass(frozen=True)
class ChatTemplate:
    source: str  # the Jinja text
    bos_token: str = ""
    eos_token: str = ""

    def __post_init__(self) -> None:
        # Import the renderer where the template is made (when a model loads, in the loading
        # thread), not at the first render: two routes that first rendered in parallel compare
        # threads once raced on transformers' lazy module ("cannot import name ... from partially
        # initialized module 'transformers.utils'"). Only its jinja part: no torch or model code.
        from transformers.utils import chat_template_utils  # noqa: F401

    def render(self, messages: list[ChatMessage], *, add_generation_prompt: bool = True) -> str:
        from transformers.utils.chat_template_utils import render_jinja_template

        try:
            rendered, _ = render_jinja_template(
                conversations=[list(messages)],
                chat_template=self.source,
                add_generation_prompt=add_generation_prompt,
                bos_token=self.bos_token,
                eos_token=self.eos_token,
            )
        except Exception as exc:  # jinja errors, raise_exception() calls in the template
            raise ModelError(f"the chat template failed: {exc}", fix="check the messages' roles and order") from exc
        return rendered[0]


GGUF_TEMPLATE_KEYS = ("tokenizer.chat_template", "tokenizer.ggml.tokens", "tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id")


def gguf_chat_template(path: Path, meta: dict | None = None) -> ChatTemplate:
    """The chat template embedded in a GGUF file, with its BOS/EOS token strings.

    ``meta``: header values already read (must include GGUF_TEMPLATE_KEYS that exist).
    """
    meta = meta if meta is not None else read_gguf_header(path, GGUF_TEMPLATE_KEYS)
    tokens = meta.get("tokenizer.ggml.tokens") or []

    def tok(key: str) -> str:
        idx = meta.get(key)
        return tokens[idx] if isinstance(idx, int) and 0 <= idx < len(tokens) else ""

    source = meta.get("tokenizer.chat_template") or CHATML
    return ChatTemplate(str(source), bos_token=tok("tokenizer.ggml.bos_token_id"), eos_token=tok("tokenizer.ggml.eos_token_id"))
