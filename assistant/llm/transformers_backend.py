"""transformers backend for Hugging Face checkpoints (hub id or local dir).

transformers loads and generates (fp32/bf16); bitsandbytes quantizes on load (NF4 / int8,
CPU works with bitsandbytes >= 0.50); peft applies an optional LoRA adapter on top. Weights load
only from safetensors and ``trust_remote_code`` stays off unless the spec turns it on.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
from pathlib import Path
from typing import Iterator

from assistant.llm.base import ModelSpec
from assistant.llm.local import LocalChatModel
from assistant.llm.prompt import CHATML, ChatTemplate
from ingestion.errors import ModelError
from rag.chat_model import GenerationOptions

MAX_DEFAULT_CONTEXT = 8192  # cap for checkpoints that claim huge windows


def _load_kwargs(spec: ModelSpec) -> dict:
    import torch

    kwargs: dict = {"use_safetensors": True, "trust_remote_code": spec.trust_remote_code}
    if spec.quantization in ("none", "fp32"):
        kwargs["dtype"] = torch.float32
    elif spec.quantization == "bf16":
        kwargs["dtype"] = torch.bfloat16
    else:
        # Per-call notices ("inputs will be cast to float16") and an optional-kernel hint that
        # would need the hub: noise for users, so only errors from these loggers show.
        for noisy in ("bitsandbytes.autograd._functions", "bitsandbytes.backends.cpu.ops"):
            logging.getLogger(noisy).setLevel(logging.ERROR)
        try:
            import bitsandbytes  # noqa: F401
        except ImportError as exc:
            raise ModelError(f"{spec.name}: {spec.quantization} needs bitsandbytes", fix="run `make setup`") from exc
        from transformers import BitsAndBytesConfig

        if spec.quantization == "nf4":
            # fp32 compute: bf16 matmuls are slow on CPUs without AVX512-BF16.
            config = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_compute_dtype=torch.float32)
        else:
            config = BitsAndBytesConfig(load_in_8bit=True)
        kwargs.update(quantization_config=config, dtype=torch.float32, device_map="cpu")
    return kwargs


def _check_adapter(path: Path) -> None:
    if not (path / "adapter_config.json").is_file():
        raise ModelError(f"adapter {path} has no adapter_config.json", fix="pass a PEFT adapter directory")
    if not (path / "adapter_model.safetensors").is_file():
        raise ModelError(f"adapter {path} has no adapter_model.safetensors", fix="re-save the adapter with safetensors")


class TransformersChatModel(LocalChatModel):
    def __init__(self, *, spec: ModelSpec, source: str) -> None:
        """``source``: a local checkpoint dir or a hub id (the bundled model's cache resolved)."""
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.name = spec.name
        self.source = source
        if spec.n_threads:
            torch.set_num_threads(spec.n_threads)
        local = Path(source).expanduser()
        if local.exists() and not (local / "config.json").is_file():
            raise ModelError(f"{local} has no config.json", fix="pass a Hugging Face checkpoint directory or a .gguf file")
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(source, trust_remote_code=spec.trust_remote_code)
            model = AutoModelForCausalLM.from_pretrained(source, **_load_kwargs(spec))
        except ModelError:
            raise
        except (OSError, ValueError) as exc:
            raise _load_error(source, local.exists(), exc) from exc
        if spec.adapter:
            from peft import PeftModel

            adapter = Path(spec.adapter).expanduser()
            _check_adapter(adapter)
            try:
                model = PeftModel.from_pretrained(model, str(adapter), is_trainable=False)
            except Exception as exc:  # shape mismatch: adapter trained on another base
                raise ModelError(f"adapter {adapter} does not fit {source}: {exc}", fix="use an adapter trained on this base model") from exc
        self.model = model.eval()
        tok = self.tokenizer
        self.template = ChatTemplate(tok.chat_template or CHATML, bos_token=tok.bos_token or "", eos_token=tok.eos_token or "")
        config = model.config
        trained = getattr(config, "max_position_embeddings", None) or MAX_DEFAULT_CONTEXT
        self.context_window = spec.context_window or min(int(trained), MAX_DEFAULT_CONTEXT)
        eos = model.generation_config.eos_token_id
        self._end_ids = {t for t in ([eos] if isinstance(eos, int) else list(eos or [])) + [tok.eos_token_id] if t is not None}
        self._pad_id = tok.pad_token_id if tok.pad_token_id is not None else next(iter(self._end_ids), 0)
        self._lock = threading.Lock()

    @property
    def weights_bytes(self) -> int:
        return int(self.model.get_memory_footprint())

    def tokenize(self, text: str) -> list[int]:
        return self.tokenizer(text, add_special_tokens=False)["input_ids"]

    def detokenize(self, ids: list[int]) -> str:
        return self.tokenizer.decode(ids, skip_special_tokens=True, clean_up_tokenization_spaces=False)

    def is_end(self, token: int) -> bool:
        return token in self._end_ids

    def next_logits(self, prompt_ids: list[int]) -> list[float]:
        import torch

        with torch.inference_mode():
            out = self.model(input_ids=torch.tensor([prompt_ids], device=self.model.device))
        return out.logits[0, -1].float().tolist()

    def next_tokens(self, prompt_ids: list[int], options: GenerationOptions, max_new: int) -> Iterator[int]:
        """Runs ``model.generate`` in a thread; ids come back through a queue as they are made."""
        import torch
        from transformers import GenerationConfig, StoppingCriteria, StoppingCriteriaList
        from transformers.generation.streamers import BaseStreamer

        ids: queue.Queue[int | None] = queue.Queue()
        halt = threading.Event()  # set when the consumer stops early (stop sequence, closed stream)
        errors: list[BaseException] = []

        class _IdStreamer(BaseStreamer):
            seen_prompt = False

            def put(self, value):  # first call: the prompt ids; then one new id per step
                if not self.seen_prompt:
                    self.seen_prompt = True
                    return
                for t in value.reshape(-1).tolist():
                    ids.put(int(t))

            def end(self):
                pass

        class _Halt(StoppingCriteria):
            def __call__(self, input_ids, scores, **kwargs):
                return torch.full((input_ids.shape[0],), halt.is_set(), dtype=torch.bool)

        sampling = {} if options.greedy else {"temperature": options.temperature, "top_p": options.top_p, "top_k": 0}
        config = GenerationConfig(
            max_new_tokens=max_new, do_sample=not options.greedy, eos_token_id=sorted(self._end_ids),
            pad_token_id=self._pad_id, **sampling,
        )
        seed = options.effective_seed

        def work() -> None:
            try:
                with torch.inference_mode():
                    if seed is not None:
                        torch.manual_seed(seed)
                    inputs = torch.tensor([prompt_ids], dtype=torch.long)
                    self.model.generate(
                        input_ids=inputs, attention_mask=torch.ones_like(inputs), generation_config=config,
                        streamer=_IdStreamer(), stopping_criteria=StoppingCriteriaList([_Halt()]),
                    )
            except BaseException as exc:  # surfaced in the consumer
                errors.append(exc)
            finally:
                ids.put(None)

        with self._lock:
            thread = threading.Thread(target=work, name=f"generate-{self.name}", daemon=True)
            thread.start()
            try:
                while (tok := ids.get()) is not None:
                    yield tok
                if errors:
                    raise ModelError(f"{self.name}: generation failed: {errors[0]}", fix="retry with a shorter prompt") from errors[0]
            finally:
                halt.set()
                thread.join()


def _load_error(source: str, is_local: bool, exc: Exception) -> ModelError:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    offline = os.environ.get("HF_HUB_OFFLINE", "") not in ("", "0", "false", "False")
    if "trust_remote_code" in str(exc) or "custom code" in text:
        return ModelError(
            f"{source} needs its own Python code to load, and trust_remote_code is off",
            fix="set trust_remote_code: true for it in HOME/models.json only if you trust its author",
        )
    if "safetensors" in text.lower() or ".bin" in text:
        return ModelError(f"{source} has no safetensors weights ({text})", fix="ragft loads only safetensors or GGUF; convert the checkpoint")
    if not is_local and offline:
        return ModelError(
            f"unknown model {source!r}: not a local path and not in the Hugging Face cache (offline, HF_HUB_OFFLINE=1)",
            fix="pass a local checkpoint dir or a .gguf file, or download it where there is internet",
        )
    if not is_local:
        return ModelError(f"could not load {source!r} from the Hugging Face hub: {text}", fix="check the model id and your network")
    return ModelError(f"could not load {source}: {text}", fix="the checkpoint may be corrupt or incomplete; re-save it")
