"""``ragft export NAME --format gguf [--quant q8_0|q4_k_m|f16|f32] [--json]`` -> ``{"path": ...}``.

``--format gguf`` merges the adapter (if not yet merged), writes a GGUF for llama.cpp / Ollama,
quantizes it with llama.cpp's quantizer and verifies it against the merged model (teacher-forced
top-1 agreement and greedy answers; see ``finetune.export_gguf``); a failed verification exits 1.
``--format hf`` prints the merged Hugging Face checkpoint (bitsandbytes NF4 / int8 load it).
``--format vllm`` writes the LoRA directory vLLM's ``--lora-modules`` loads; ``--format ollama``
a Modelfile beside the verified GGUF (``finetune.export_engines``); both print the commands that
serve them.
"""

from __future__ import annotations

import argparse

from assistant.cli.common import home_of
from finetune import registry
from finetune.export_gguf import QUANTS


def register(sub: argparse._SubParsersAction) -> None:
    from assistant.cli import add_json_flag

    p = sub.add_parser("export", help="export a fine-tuned adapter for llama.cpp, Ollama or vLLM")
    p.add_argument("name", metavar="NAME", help="adapter name (see `ragft adapters`)")
    p.add_argument("--format", choices=("gguf", "hf", "vllm", "ollama"), default="gguf",
                   help="gguf (default), hf (the merged checkpoint), vllm (a LoRA directory for vllm serve --lora-modules) "
                        "or ollama (GGUF + Modelfile for ollama create)")
    p.add_argument("--quant", choices=QUANTS, default="q8_0", help="GGUF weight type (default: q8_0)")
    p.add_argument("--tokenizer-gguf", metavar="FILE", default=None,
                   help="a GGUF of the base model to copy the tokenizer from (default: the bundled model's, for the default base)")
    p.add_argument("--no-verify", dest="verify", action="store_false", help="skip the comparison with the merged model")
    add_json_flag(p)
    p.set_defaults(handler=run, render=render)


def run(args: argparse.Namespace) -> dict:
    home = home_of(args)
    registry.validate_name(args.name, flag="NAME")
    if args.format == "hf":
        from finetune.merge import ensure_merged

        return {"name": args.name, "path": str(ensure_merged(home, args.name)), "format": "hf", "quant": None}
    if args.format == "vllm":
        from finetune.export_engines import export_vllm

        return export_vllm(home, args.name).as_json()
    if args.format == "ollama":
        from finetune.export_engines import export_ollama

        return export_ollama(home, args.name, quant=args.quant, tokenizer_gguf=args.tokenizer_gguf, verify=args.verify).as_json()
    from finetune.export_gguf import export_adapter

    return export_adapter(home, args.name, quant=args.quant, tokenizer_gguf=args.tokenizer_gguf, verify=args.verify).as_json()


def render(payload: dict) -> str:
    lines = [payload["path"]]
    if payload.get("commands"):
        lines += [f"  {c}" for c in payload["commands"]] + [f"  note: {n}" for n in payload.get("notes") or []]
    v = payload.get("verification")
    if v:
        answers = "" if v["greedy_answer_agreement"] is None else f", same greedy answer on {v['greedy_answer_agreement']:.0%} of {v['questions']} questions"
        lines.append(f"  verified: top-1 agreement {v['top1_agreement']:.2%} on {v['tokens']} tokens{answers}")
    return "\n".join(lines)
