"""Export a merged checkpoint to GGUF for llama.cpp / Ollama, and verify it against the merged model.

    ragft export NAME --format gguf --quant q8_0     # -> HOME/adapters/NAME/export/NAME-q8_0.gguf

Built from well-kept parts, no home-made format:

1. ``gguf`` (llama.cpp's own Python package) writes an f32/f16 GGUF: tensor names come from
   transformers' GGUF mapping (``get_gguf_hf_weights_map``, the table transformers itself loads
   GGUF files with), the q/k projections get llama.cpp's rotary permutation (the inverse of what
   transformers undoes on load), architecture keys come from the model config, and the tokenizer
   (vocabulary, merges, special ids, pre-tokenizer, chat template) is copied key by key from a
   GGUF of the base model -- for the default model, the bundled file it was converted from.
2. llama.cpp's quantizer (``llama_model_quantize`` through llama-cpp-python) turns it into
   q8_0 / q4_k_m.
3. Verification: teacher-forced top-1 next-token agreement between llama.cpp on the export and
   transformers on the merged checkpoint over held-out text (the dataset's validation and test
   conversations), and greedy-answer agreement on the validation questions. Thresholds:
   f32/f16 >= 99.9%, q8_0 >= 95%, q4_k_m >= 85% (4-bit rounding flips near-ties; reported).

Llama-architecture models (SmolLM, Llama 2/3 without rope scaling, TinyLlama, ...) and Qwen2/2.5
are supported; for others, merge and use llama.cpp's ``convert_hf_to_gguf.py``.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator

from finetune import registry
from finetune.native import open_llama
from ingestion.errors import ConfigError, ModelError, TrainingError
from ingestion.home import Home

QUANTS = ("f32", "f16", "q8_0", "q4_k_m")
# llama.cpp's llama_ftype values (llama.h)
_FTYPE = {"f32": 0, "f16": 1, "q8_0": 7, "q4_k_m": 15}
THRESHOLDS = {"f32": 0.999, "f16": 0.999, "q8_0": 0.95, "q4_k_m": 0.85}
# llama (SmolLM2, Llama 2/3, TinyLlama) and qwen2 (Qwen2/2.5, the small profile's base): the same
# tensor layout to llama.cpp, but only llama's q/k rows are stored in llama.cpp's rotary order
# (convert_hf_to_gguf.py permutes for LlamaModel, not for Qwen2Model); qwen2 adds q/k/v biases,
# which the weights map names like any other tensor.
SUPPORTED_ARCHS = ("llama", "qwen2")


# --------------------------------------------------------------------------------------------
# 1. HF checkpoint -> f32/f16 GGUF
# --------------------------------------------------------------------------------------------
def permute_qk(weights, n_head: int, n_head_kv: int | None = None):
    """llama.cpp's rotary layout for q/k rows (convert_hf_to_gguf.py ``LlamaModel.permute``);
    transformers' ``LlamaTensorProcessor._reverse_permute_weights`` is its inverse."""
    if n_head_kv is not None and n_head != n_head_kv:
        n_head = n_head_kv
    return (weights.reshape(n_head, 2, weights.shape[0] // n_head // 2, *weights.shape[1:])
            .swapaxes(1, 2).reshape(weights.shape))


# Every ``tokenizer.*`` key llama.cpp reads (gguf-py ``Keys.Tokenizer``); read with the fast header
# reader (``GGUFReader`` parses 100k vocabulary strings one numpy view at a time: ~20 s here).
_TOKENIZER_KEYS = (
    "tokenizer.ggml.model", "tokenizer.ggml.pre", "tokenizer.ggml.tokens", "tokenizer.ggml.token_type",
    "tokenizer.ggml.token_type_count", "tokenizer.ggml.scores", "tokenizer.ggml.merges",
    "tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id", "tokenizer.ggml.eot_token_id",
    "tokenizer.ggml.eom_token_id", "tokenizer.ggml.unknown_token_id", "tokenizer.ggml.seperator_token_id",
    "tokenizer.ggml.padding_token_id", "tokenizer.ggml.cls_token_id", "tokenizer.ggml.mask_token_id",
    "tokenizer.ggml.add_bos_token", "tokenizer.ggml.add_eos_token", "tokenizer.ggml.add_sep_token",
    "tokenizer.ggml.add_space_prefix", "tokenizer.ggml.remove_extra_whitespaces",
    "tokenizer.ggml.precompiled_charsmap", "tokenizer.ggml.prefix_token_id", "tokenizer.ggml.suffix_token_id",
    "tokenizer.ggml.middle_token_id", "tokenizer.ggml.fim_pre_token_id", "tokenizer.ggml.fim_suf_token_id",
    "tokenizer.ggml.fim_mid_token_id", "tokenizer.ggml.fim_pad_token_id", "tokenizer.ggml.fim_rep_token_id",
    "tokenizer.ggml.fim_sep_token_id", "tokenizer.chat_template",
)


def _gguf_type(key: str, value: Any):
    """(value type, array item type) for a tokenizer value, as llama.cpp's converter writes it."""
    from gguf import GGUFValueType as T

    if isinstance(value, bool):
        return T.BOOL, None
    if isinstance(value, int):
        return T.UINT32, None  # token ids and counts
    if isinstance(value, float):
        return T.FLOAT32, None
    if isinstance(value, str):
        return T.STRING, None
    if isinstance(value, list) and value:
        first = value[0]
        item = T.STRING if isinstance(first, str) else T.FLOAT32 if isinstance(first, float) else T.INT32 if isinstance(first, int) else None
        if item is not None:
            return T.ARRAY, item
    raise ModelError(f"cannot copy tokenizer key {key} ({type(value).__name__})", fix="use llama.cpp's convert_hf_to_gguf.py")


def _tokenizer_fields(tokenizer_gguf: Path, vocab_size: int) -> dict[str, Any]:
    """The ``tokenizer.*`` values of a GGUF (the base model's vocabulary, merges, specials, template)."""
    from finetune.gguf_header import read_gguf_header

    fields = read_gguf_header(tokenizer_gguf, _TOKENIZER_KEYS)
    tokens = fields.get("tokenizer.ggml.tokens")
    if not tokens:
        raise ModelError(f"{tokenizer_gguf} holds no tokenizer", fix="pass a GGUF of the base model with --tokenizer-gguf")
    if len(tokens) != vocab_size:
        raise ModelError(
            f"{tokenizer_gguf} has {len(tokens)} tokens but the model's vocabulary is {vocab_size}",
            fix="pass a GGUF of the same base model with --tokenizer-gguf",
        )
    return fields


def write_gguf(merged_dir: Path, out: Path, *, tokenizer_gguf: Path, dtype: str = "f32", name: str = "") -> Path:
    """Write ``merged_dir`` (a llama or qwen2 HF checkpoint) as an f32 or f16 GGUF at ``out``."""
    import numpy as np
    import torch
    from gguf import GGUFWriter
    from transformers import AutoConfig, AutoModelForCausalLM
    from transformers.modeling_gguf_pytorch_utils import TensorProcessor, get_gguf_hf_weights_map

    if dtype not in ("f32", "f16"):
        raise ConfigError(f"write_gguf dtype must be f32 or f16, got {dtype!r}")
    config = AutoConfig.from_pretrained(merged_dir)
    arch = config.model_type
    if arch not in SUPPORTED_ARCHS:
        raise TrainingError(f"GGUF export supports the {' and '.join(SUPPORTED_ARCHS)} architectures, not {arch!r}",
                            fix="use the merged checkpoint with llama.cpp's convert_hf_to_gguf.py")
    rope = getattr(config, "rope_parameters", None) or {}
    if rope.get("rope_type", "default") != "default":
        raise TrainingError(f"GGUF export does not handle rope scaling {rope.get('rope_type')!r}",
                            fix="use llama.cpp's convert_hf_to_gguf.py on the merged checkpoint")
    fields = _tokenizer_fields(tokenizer_gguf, config.vocab_size)
    model = AutoModelForCausalLM.from_pretrained(merged_dir, dtype=torch.float32, use_safetensors=True)
    to_gguf = {hf: gg for gg, hf in get_gguf_hf_weights_map(model, TensorProcessor()).items()}
    state = model.state_dict()

    n_head, n_kv = config.num_attention_heads, config.num_key_value_heads
    head_dim = getattr(config, "head_dim", None) or config.hidden_size // n_head
    tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}")
    writer = GGUFWriter(str(tmp), arch)
    try:
        writer.add_name(name or out.stem)
        writer.add_file_type(_FTYPE[dtype])
        writer.add_block_count(config.num_hidden_layers)
        writer.add_context_length(config.max_position_embeddings)
        writer.add_embedding_length(config.hidden_size)
        writer.add_feed_forward_length(config.intermediate_size)
        writer.add_head_count(n_head)
        writer.add_head_count_kv(n_kv)
        if head_dim != config.hidden_size // n_head:
            writer.add_key_length(head_dim)
            writer.add_value_length(head_dim)
        writer.add_rope_dimension_count(head_dim)
        writer.add_rope_freq_base(float(rope.get("rope_theta", getattr(config, "rope_theta", 10000.0))))
        writer.add_layer_norm_rms_eps(float(config.rms_norm_eps))
        writer.add_vocab_size(config.vocab_size)
        for key, value in fields.items():
            kind, item = _gguf_type(key, value)
            writer.add_key_value(key, value, kind, sub_type=item)

        tied = bool(getattr(config, "tie_word_embeddings", False))
        for hf_name, tensor in state.items():
            if tied and hf_name == "lm_head.weight":
                continue  # llama.cpp reuses token_embd when output.weight is absent
            gg = to_gguf.get(hf_name)
            if gg is None:
                if hf_name.endswith("rotary_emb.inv_freq"):
                    continue
                raise TrainingError(f"no GGUF name for tensor {hf_name}", fix="this checkpoint layout is not supported; use convert_hf_to_gguf.py")
            data = tensor.detach().float().numpy()
            if arch == "llama" and ".attn_q." in gg:
                data = permute_qk(data, n_head, n_head)
            elif arch == "llama" and ".attn_k." in gg:
                data = permute_qk(data, n_head, n_kv)
            # 1-D tensors (norms) stay f32, as llama.cpp's own converter keeps them.
            data = data.astype(np.float16 if dtype == "f16" and data.ndim > 1 else np.float32)
            writer.add_tensor(gg, np.ascontiguousarray(data))
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_tensors_to_file()
        writer.close()
        os.replace(tmp, out)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return out


# --------------------------------------------------------------------------------------------
# 2. llama.cpp's quantizer
# --------------------------------------------------------------------------------------------
def quantize_gguf(src: Path, dst: Path, quant: str, *, threads: int = 0) -> Path:
    import llama_cpp

    if quant not in ("q8_0", "q4_k_m"):
        raise ConfigError(f"--quant {quant!r} is not a llama.cpp quantization here", fix="use q8_0 or q4_k_m")
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = _FTYPE[quant]
    params.nthread = threads
    tmp = dst.with_name(f".{dst.name}.tmp-{os.getpid()}")
    try:
        rc = llama_cpp.llama_model_quantize(str(src).encode(), str(tmp).encode(), params)
        if rc != 0:
            raise TrainingError(f"llama.cpp could not quantize {src.name} to {quant} (code {rc})", fix="check free disk space and retry")
        os.replace(tmp, dst)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return dst


# --------------------------------------------------------------------------------------------
# 3. Verification against the merged model
# --------------------------------------------------------------------------------------------
@dataclass
class Verification:
    quant: str
    top1_agreement: float  # teacher-forced next-token argmax equal, over all held-out positions
    tokens: int
    greedy_answer_agreement: float | None  # identical greedy answers on validation questions
    greedy_prefix_agreement: float | None  # mean share of each merged answer reproduced before the first difference
    questions: int
    threshold: float
    passed: bool
    seconds: float
    examples: list[dict[str, str]] = field(default_factory=list)  # a few disagreeing answers

    def as_json(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def _fallback_texts() -> Iterator[str]:
    """Held-out text when the dataset has none (or is gone): the bundled sample corpus's prose
    paragraphs, read until the caller has enough. A 512-token budget needs several of them: with
    one short paragraph (~70 tokens) a handful of near-tie tokens decided pass or fail."""
    from ingestion.sample import edition_dir

    for doc in sorted(edition_dir("v1").rglob("*.md")):
        yield from (p.strip() for p in doc.read_text(encoding="utf-8").split("\n\n")
                    if len(p.split()) >= 30 and not p.lstrip().startswith(("#", "|", "-", "*")))


def _chat_ids(tokenizer, messages: list[dict], **kwargs) -> list[int]:
    ids = tokenizer.apply_chat_template(messages, tokenize=True, return_dict=False, **kwargs)
    return list(ids["input_ids"] if isinstance(ids, dict) else ids)


def _fill(conversations: Iterable[list[dict]], tokenizer, budget: int) -> list[list[int]]:
    """Token ids of whole conversations, in order, until ``budget`` tokens (the last one cut)."""
    out, total = [], 0
    for messages in conversations:
        if total >= budget:
            break
        out.append(_chat_ids(tokenizer, messages)[: budget - total])
        total += len(out[-1])
    return out


def held_out(dataset: Path | None, tokenizer, *, max_tokens: int = 512, max_questions: int = 8):
    """(teacher-forced sequences, validation prompts) from the dataset's held-out rows."""
    import json

    rows = []
    if dataset is not None and dataset.is_file():
        with open(dataset, encoding="utf-8") as f:
            rows = [r for r in (json.loads(l) for l in f if l.strip()) if r.get("split") in ("validation", "test")]
    sequences = _fill((r["messages"] for r in rows), tokenizer, max_tokens)
    total = sum(map(len, sequences))
    if total < 16:  # no held-out rows: sample-corpus paragraphs, each rendered as a chat
        notes = ([{"role": "user", "content": "Summarise the note."}, {"role": "assistant", "content": t}] for t in _fallback_texts())
        sequences += _fill(notes, tokenizer, max_tokens - total)
    prompts = [_chat_ids(tokenizer, r["messages"][:-1], add_generation_prompt=True)
               for r in [r for r in rows if r.get("split") == "validation"][:max_questions]]
    return sequences, prompts


def verify_gguf(gguf_path: Path, merged_dir: Path, *, home: Home, quant: str, dataset: Path | None = None,
                max_tokens: int = 512, max_questions: int = 8, answer_tokens: int = 24) -> Verification:
    import numpy as np
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    start = time.perf_counter()
    tokenizer = AutoTokenizer.from_pretrained(merged_dir)
    model = AutoModelForCausalLM.from_pretrained(merged_dir, dtype=torch.float32, use_safetensors=True).eval()
    sequences, prompts = held_out(dataset, tokenizer, max_tokens=max_tokens, max_questions=max_questions)
    n_ctx = max(max(len(s) for s in sequences), max((len(p) for p in prompts), default=0) + answer_tokens) + 8
    llm = open_llama(gguf_path, home=home, n_ctx=n_ctx, n_batch=n_ctx, logits_all=True, verbose=False,
                n_threads=max(1, (os.cpu_count() or 2)))
    end_ids = {tokenizer.eos_token_id, *([model.generation_config.eos_token_id] if isinstance(model.generation_config.eos_token_id, int)
                                        else list(model.generation_config.eos_token_id or []))} - {None}

    def llama_logits(ids: list[int]) -> np.ndarray:
        llm.reset()
        llm.eval(ids)
        return np.asarray(llm.scores[: len(ids)])

    agree = total = 0
    with torch.inference_mode():
        for ids in sequences:
            ref = model(torch.tensor([ids])).logits[0].argmax(-1).numpy()
            got = llama_logits(ids).argmax(-1)
            agree += int((ref == got).sum())
            total += len(ids)
        same, examples, prefix = 0, [], []
        for ids in prompts:
            ref = model.generate(torch.tensor([ids]), attention_mask=torch.ones(1, len(ids), dtype=torch.long),
                                 max_new_tokens=answer_tokens, do_sample=False, pad_token_id=tokenizer.pad_token_id or 0)[0, len(ids):].tolist()
            ref = _cut_at_end(ref, end_ids)
            got: list[int] = []
            llm.reset()
            llm.eval(ids)
            for _ in range(answer_tokens):
                tok = int(np.argmax(llm.scores[llm.n_tokens - 1]))
                if tok in end_ids:
                    break
                got.append(tok)
                llm.eval([tok])
            shared = next((i for i, (a, b) in enumerate(zip(ref, got)) if a != b), min(len(ref), len(got)))
            prefix.append(shared / max(len(ref), 1) if got != ref else 1.0)
            if got == ref:
                same += 1
            elif len(examples) < 3:
                examples.append({"merged": tokenizer.decode(ref), "gguf": tokenizer.decode(got)})
    llm.close() if hasattr(llm, "close") else None
    top1 = agree / total if total else 0.0
    threshold = THRESHOLDS[quant]
    return Verification(
        quant=quant, top1_agreement=round(top1, 5), tokens=total,
        greedy_answer_agreement=round(same / len(prompts), 4) if prompts else None,
        greedy_prefix_agreement=round(sum(prefix) / len(prefix), 4) if prefix else None, questions=len(prompts),
        threshold=threshold, passed=top1 >= threshold, seconds=round(time.perf_counter() - start, 2), examples=examples,
    )


def _precision_fix(quant: str) -> str:
    higher = {"q4_k_m": "q8_0 or f16", "q8_0": "f16", "f16": "f32"}.get(quant)
    step = f"use a higher-precision --quant ({higher})" if higher else "check the merged checkpoint"
    return f"{step}, or pass --no-verify to skip the check"


def _cut_at_end(ids: list[int], end_ids: set[int]) -> list[int]:
    for i, t in enumerate(ids):
        if t in end_ids:
            return ids[:i]
    return ids


# --------------------------------------------------------------------------------------------
# The whole export of a registered adapter
# --------------------------------------------------------------------------------------------
@dataclass
class ExportResult:
    name: str
    path: Path
    format: str
    quant: str
    size_bytes: int
    seconds: float
    verification: Verification | None

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name, "path": str(self.path), "format": self.format, "quant": self.quant,
            "size_bytes": self.size_bytes, "seconds": self.seconds,
            "verification": self.verification.as_json() if self.verification else None,
        }


def export_adapter(home: Home, name: str, *, quant: str = "q8_0", tokenizer_gguf: str | Path | None = None,
                   verify: bool = True, quiet: bool = False) -> ExportResult:
    """Merge (if needed), write GGUF, quantize, verify, record in the registry.

    Raises ``TrainingError`` when the verification fails (the file stays, marked unverified).
    """
    from finetune.merge import ensure_merged

    if quant not in QUANTS:
        raise ConfigError(f"--quant must be one of {', '.join(QUANTS)}, got {quant!r}")
    start = time.perf_counter()
    entry = registry.read_entry(home, name)
    source = tokenizer_gguf or (entry.get("base") or {}).get("tokenizer_gguf")
    if not source:
        raise ConfigError(f"adapter {name}'s base {entry['base']['ref']} has no known GGUF tokenizer",
                          fix="pass --tokenizer-gguf FILE, a GGUF of the same base model")
    source = Path(source).expanduser()
    if not source.is_file():
        raise ModelError(f"tokenizer GGUF {source} does not exist", fix="pass --tokenizer-gguf FILE, a GGUF of the base model")
    merged = ensure_merged(home, name, quiet=quiet)
    folder = registry.adapter_dir(home, name) / "export"
    folder.mkdir(parents=True, exist_ok=True)
    out = folder / f"{name}-{quant}.gguf"
    say = (lambda msg: None) if quiet else (lambda msg: print(f"ragft export: {msg}", file=sys.stderr, flush=True))
    if quant in ("f32", "f16"):
        say(f"writing {out.name}")
        write_gguf(merged, out, tokenizer_gguf=source, dtype=quant, name=name)
    else:
        full = folder / f".{name}-f32.gguf"
        try:
            say(f"writing f32 GGUF, then quantizing to {quant}")
            write_gguf(merged, full, tokenizer_gguf=source, dtype="f32", name=name)
            quantize_gguf(full, out, quant)
        finally:
            full.unlink(missing_ok=True)
    check = None
    if verify:
        say("verifying against the merged model (teacher-forced top-1 and greedy answers)")
        dataset = Path(entry["dataset"]["path"]) if entry.get("dataset", {}).get("path") else None
        check = verify_gguf(out, merged, home=home, quant=quant, dataset=dataset)
    result = ExportResult(name, out, "gguf", quant, out.stat().st_size, round(time.perf_counter() - start, 2), check)
    registry.record_export(home, name, {
        "format": "gguf", "quant": quant, "path": str(out), "size_bytes": result.size_bytes,
        "verification": check.as_json() if check else None, "created_at": registry.now_iso(),
    })
    if check is not None and not check.passed:
        raise TrainingError(
            f"{out.name} agrees with the merged model on only {check.top1_agreement:.1%} of next tokens "
            f"(needs {check.threshold:.1%})", fix=_precision_fix(quant),
        )
    return result
