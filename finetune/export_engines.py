"""Hand a trained adapter to the serving engines teams already run: vLLM and Ollama.

    ragft export NAME --format vllm     # -> HOME/adapters/NAME/export/vllm/ (a PEFT LoRA directory) + SERVE.md
    ragft export NAME --format ollama   # -> HOME/adapters/NAME/export/ollama/Modelfile beside a verified GGUF

vLLM serves LoRA adapters itself (``vllm serve BASE --enable-lora --lora-modules NAME=DIR``): what
it loads is PEFT's own ``adapter_config.json`` + ``adapter_model.safetensors``, so the export is
the trained adapter, copied and checked against what vLLM's LoRA loader accepts (no
``modules_to_save``, no bias or DoRA, a rank it supports, target modules it can pack). The base it
must be served on is the checkpoint the adapter was trained on: for the bundled model that is the
checkpoint converted from the bundled GGUF, not the Hub's weights (they differ by the GGUF's
rounding), so SERVE.md names the local path, and the Hub id only as the looser alternative.

Ollama imports GGUF (``ollama create NAME -f Modelfile``): the export is the GGUF that
``finetune.export_gguf`` writes and verifies, plus a Modelfile whose TEMPLATE reproduces the
tokenizer's chat template -- checked at export time by rendering the same conversations through
both -- with the stop tokens, greedy decoding and the system turn the adapter was trained with.
Chat templates other than ChatML (SmolLM2 and Qwen2.5 both use it) are left to Ollama, which
reads ``tokenizer.chat_template`` from the GGUF; the result says so.

Neither engine is installed here: the vLLM directory is checked by loading it with PEFT (the
same files vLLM reads), the Modelfile by the template check above.
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from finetune import registry
from ingestion.errors import ConfigError, TrainingError
from ingestion.files import replace_dir
from ingestion.home import Home

# vLLM's LoRA support (vllm/lora): ranks it allocates for, and the linear layers of llama/qwen2 it
# packs (qkv_proj <- q,k,v; gate_up_proj <- gate,up).
VLLM_RANKS = (1, 8, 16, 32, 64, 128, 256, 320, 512)
VLLM_MODULES = frozenset({"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"})
# Upstream checkpoints of the profiles' bases, for users who serve vLLM from the Hub.
HUB_IDS = {"smollm2-135m-instruct": "HuggingFaceTB/SmolLM2-135M-Instruct", "qwen2.5-1.5b": "Qwen/Qwen2.5-Coder-1.5B-Instruct"}
CHATML = ("<|im_start|>", "<|im_end|>")


@dataclass(frozen=True)
class EngineExport:
    name: str
    format: str
    path: Path
    """the directory to hand the engine (vLLM: the LoRA directory; Ollama: the Modelfile's folder)"""
    files: list[str]
    commands: list[str]
    """the exact commands that serve it"""
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "format": self.format, "path": str(self.path), "files": self.files,
                "commands": self.commands, "notes": self.notes, "seconds": self.seconds}


# --------------------------------------------------------------------------------------------
# vLLM: the PEFT LoRA directory
# --------------------------------------------------------------------------------------------
def vllm_problems(config: dict[str, Any]) -> list[str]:
    """What in a PEFT ``adapter_config.json`` vLLM's LoRA loader would refuse (empty: none)."""
    problems = []
    if config.get("peft_type") != "LORA":
        problems.append(f"peft_type is {config.get('peft_type')!r}, vLLM loads LORA")
    if config.get("modules_to_save"):
        problems.append(f"modules_to_save {config['modules_to_save']} (vLLM serves only the low-rank updates)")
    if config.get("bias", "none") != "none":
        problems.append(f"bias {config['bias']!r} (vLLM needs bias='none')")
    if config.get("use_dora"):
        problems.append("DoRA (vLLM serves plain LoRA)")
    if config.get("r") not in VLLM_RANKS:
        problems.append(f"rank {config.get('r')} (vLLM supports {', '.join(map(str, VLLM_RANKS))})")
    targets = config.get("target_modules") or []
    targets = [targets] if isinstance(targets, str) else list(targets)
    odd = sorted({t.rsplit(".", 1)[-1] for t in targets} - VLLM_MODULES)  # vLLM matches a module by its last name
    if odd:
        problems.append(f"target modules {', '.join(odd)} (vLLM packs {', '.join(sorted(VLLM_MODULES))})")
    return problems


def export_vllm(home: Home, name: str) -> EngineExport:
    start = time.perf_counter()
    entry = registry.complete_entry(home, name)
    folder = registry.adapter_dir(home, name)
    config_path = folder / "adapter_config.json"
    weights = folder / "adapter_model.safetensors"
    if not config_path.is_file() or not weights.is_file():
        raise TrainingError(f"{folder} lacks adapter_config.json or adapter_model.safetensors",
                            fix="re-run the `ragft finetune` command that trained it")
    config = json.loads(config_path.read_text(encoding="utf-8"))
    problems = vllm_problems(config)
    if problems:
        raise ConfigError(f"adapter {name} cannot be served by vLLM: {'; '.join(problems)}",
                          fix="retrain with the default LoRA settings (--target-modules all-linear, --lora-r 16), "
                              "or use --format gguf / ollama")
    base = str(entry["base"]["path"])
    out = folder / "export" / "vllm"
    tmp = out.with_name(".vllm.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    shutil.copyfile(weights, tmp / weights.name)
    # vLLM takes the base from its own command line; the recorded path says which weights fit.
    (tmp / config_path.name).write_text(json.dumps({**config, "base_model_name_or_path": base}, indent=2), encoding="utf-8")
    rank = int(config["r"])
    served = f"vllm serve {base} --enable-lora --max-lora-rank {max(16, rank)} --lora-modules {name}={out}"
    hub = HUB_IDS.get(Path(base).name) or HUB_IDS.get(str(entry["base"].get("ref")))
    notes = [f"serve it on the base it was trained on ({base}); other weights of the same model change its answers"]
    if hub:
        notes.append(f"{hub} (the Hub's checkpoint) is the same architecture and tokenizer, not the same weights")
    # --route base: the served adapter answers from its weights, as the finetuned route does
    commands = [served, f"ragft ask QUESTION --route base --model openai:{name}@http://127.0.0.1:8000/v1"]
    (tmp / "SERVE.md").write_text(_serve_md(name, commands, notes), encoding="utf-8")
    replace_dir(tmp, out)
    result = EngineExport(name, "vllm", out, sorted(p.name for p in out.iterdir()), commands, notes,
                          round(time.perf_counter() - start, 2))
    registry.record_export(home, name, {"format": "vllm", "quant": None, "path": str(out), "commands": commands,
                                        "created_at": registry.now_iso()})
    return result


# --------------------------------------------------------------------------------------------
# Ollama: a Modelfile beside the verified GGUF
# --------------------------------------------------------------------------------------------
OLLAMA_TEMPLATE = (
    '{{- if .System }}<|im_start|>system\n{{ .System }}<|im_end|>\n{{ end }}'
    '{{- range .Messages }}'
    '{{- if eq .Role "user" }}<|im_start|>user\n{{ .Content }}<|im_end|>\n'
    '{{ else if eq .Role "assistant" }}<|im_start|>assistant\n{{ .Content }}<|im_end|>\n'
    '{{ end }}{{- end }}<|im_start|>assistant\n'
)


def chatml(system: str | None, turns: list[tuple[str, str]]) -> str:
    """What ``OLLAMA_TEMPLATE`` renders for a system prompt and (role, content) turns."""
    text = f"<|im_start|>system\n{system}<|im_end|>\n" if system else ""
    text += "".join(f"<|im_start|>{role}\n{content}<|im_end|>\n" for role, content in turns)
    return text + "<|im_start|>assistant\n"


def chatml_default_system(tokenizer) -> tuple[bool, str | None]:
    """(does the tokenizer's chat template render as ``OLLAMA_TEMPLATE`` does, the system prompt
    it adds when a conversation has none)."""
    def render(messages):
        return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)

    try:
        lone = render([{"role": "user", "content": "Q1"}])
    except Exception:  # no chat template, or one that refuses these messages
        return False, None
    default = None
    if lone.startswith("<|im_start|>system\n") and "<|im_end|>\n" in lone:
        default = lone[len("<|im_start|>system\n"):lone.index("<|im_end|>\n")]
    cases = [
        ("S", [("user", "Q1")]),
        ("S", [("user", "Q1"), ("assistant", "A1"), ("user", "Q2")]),
        (None, [("user", "Q1"), ("assistant", "A1"), ("user", "Q2")]),
    ]
    for system, turns in cases:
        messages = ([{"role": "system", "content": system}] if system else []) + [{"role": r, "content": c} for r, c in turns]
        if render(messages) != chatml(system or default, turns):
            return False, default
    return True, default


def export_ollama(home: Home, name: str, *, quant: str = "q8_0", tokenizer_gguf: str | Path | None = None,
                  verify: bool = True, quiet: bool = False) -> EngineExport:
    from transformers import AutoTokenizer

    from assistant.llm.llamacpp import DEFAULT_MAX_CONTEXT
    from assistant.routes.finetuned import training_system_prompt
    from finetune.export_gguf import export_adapter

    start = time.perf_counter()
    entry = registry.complete_entry(home, name)
    gguf = next((Path(e["path"]) for e in entry.get("exports") or []
                 if e.get("format") == "gguf" and e.get("quant") == quant and (e.get("verification") or {}).get("passed")
                 and Path(e["path"]).is_file()), None)
    if gguf is None:  # raises when the GGUF fails its check: Ollama gets only a verified file
        gguf = export_adapter(home, name, quant=quant, tokenizer_gguf=tokenizer_gguf, verify=verify, quiet=quiet).path
    tokenizer = AutoTokenizer.from_pretrained(str(entry["base"]["path"]))
    matches, default = chatml_default_system(tokenizer)
    system = training_system_prompt(entry) or default
    stops = list(dict.fromkeys(t for t in (CHATML[1], tokenizer.eos_token) if t)) if matches else \
        [t for t in (tokenizer.eos_token,) if t]
    lines = [f"# {name}: LoRA adapter merged into {entry['base'].get('ref')}, {quant} (verified against the merged model)",
             f"FROM ../{gguf.name}"]
    notes = []
    if matches:
        lines.append(f'TEMPLATE """{OLLAMA_TEMPLATE}"""')
    else:
        notes.append("the base's chat template is not ChatML: Ollama takes it from the GGUF's tokenizer.chat_template")
    if system:
        lines.append(f'SYSTEM """{system}"""')
    lines += [f'PARAMETER stop "{s}"' for s in stops]
    lines += ["PARAMETER temperature 0", f"PARAMETER num_ctx {DEFAULT_MAX_CONTEXT}"]
    out = gguf.parent / "ollama"
    tmp = out.with_name(".ollama.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    (tmp / "Modelfile").write_text("\n".join(lines) + "\n", encoding="utf-8")
    commands = [f"ollama create {name} -f {out / 'Modelfile'}", f"ollama run {name}",
                f"ragft ask QUESTION --route base --model openai:{name}@http://127.0.0.1:11434/v1"]
    (tmp / "SERVE.md").write_text(_serve_md(name, commands, notes), encoding="utf-8")
    replace_dir(tmp, out)
    registry.record_export(home, name, {"format": "ollama", "quant": quant, "path": str(out), "gguf": str(gguf),
                                        "commands": commands, "created_at": registry.now_iso()})
    return EngineExport(name, "ollama", out, sorted(p.name for p in out.iterdir()), commands, notes,
                        round(time.perf_counter() - start, 2))


def _serve_md(name: str, commands: list[str], notes: list[str]) -> str:
    body = "\n".join(commands)
    extra = "".join(f"- {n}\n" for n in notes)
    return f"# Serving {name}\n\n```bash\n{body}\n```\n\n{extra}"
