"""Optional question writing by a stronger chat model, checked against the text it read.

    facts = llm_facts(passages, model, per_passage=4, wordings=4)   # model: rag.chat_model.ChatModel

The model sees one passage and writes blocks of ``FACT`` (a sentence copied from the text),
``ANSWER`` (a short span of that sentence) and ``Q`` lines (the same question in different
words). A block survives only when its sentence really is in the passage (or one of the
passage's sentences overlaps it by 60% of its words, which then replaces it) and its answer
really is in that sentence: a model's invention never becomes a training target. Greedy
decoding keeps a rebuild with the same model byte-identical.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from finetune.dataset.facts import Fact, fact_id
from finetune.dataset.text import Passage, normalize, split_sentences, usable_sentence
from rag.chat_model import ChatModel, GenerationOptions

SYSTEM = "You write exam questions about internal documents. Use only facts stated in the text you are given."
PROMPT = """Text from "{title}":
{text}

Write up to {n} facts from this text, each as a block in exactly this format:
FACT: <one sentence copied word for word from the text>
ANSWER: <the short answer: a number, date, name or phrase copied from that sentence>
{qs}
Separate blocks with a blank line. Write nothing else."""


def llm_facts(passages: Sequence[Passage], model: ChatModel, *, per_passage: int = 4, wordings: int = 4,
              progress: Callable[[int, int, str], None] | None = None) -> list[Fact]:
    options = GenerationOptions(max_tokens=160 * per_passage, deterministic=True)
    qs = "\n".join(f"Q: <{'a question whose answer is ANSWER' if i == 0 else 'the same question in other words'}>"
                   for i in range(wordings))
    facts: list[Fact] = []
    for i, passage in enumerate(passages):
        if progress:
            progress(i, len(passages), passage.source)
        prompt = PROMPT.format(title=passage.title, text=passage.text, n=per_passage, qs=qs)
        reply = model.generate([{"role": "system", "content": SYSTEM}, {"role": "user", "content": prompt}], options).text
        facts.extend(parse_blocks(reply, passage))
    return facts


def parse_blocks(reply: str, passage: Passage) -> list[Fact]:
    """The grounded facts among the model's blocks (see the module docstring)."""
    sentences = [s for s in split_sentences(passage.text) if usable_sentence(s)]
    facts = []
    for block in re.split(r"\n\s*\n", reply.strip()):
        fields: dict[str, list[str]] = {}
        for line in block.splitlines():
            key, sep, value = line.partition(":")
            if sep and key.strip().upper() in {"FACT", "ANSWER", "Q"} and value.strip():
                fields.setdefault(key.strip().upper(), []).append(value.strip())
        if not all(k in fields for k in ("FACT", "ANSWER", "Q")):
            continue
        sentence = _ground(fields["FACT"][0], sentences)
        answer = fields["ANSWER"][0].strip().rstrip(".")
        if not sentence or not answer or f" {normalize(answer)} " not in f" {normalize(sentence)} ":
            continue
        questions = [q if q.endswith("?") else q.rstrip(".") + "?" for q in fields["Q"]]
        questions = [q for q in dict.fromkeys(questions) if f" {normalize(answer)} " not in f" {normalize(q)} "]
        if questions:
            facts.append(Fact(fact_id(sentence, answer), passage.source, passage.title, sentence, answer, "llm",
                              tuple(questions), passage.text))
    return facts


def _ground(claimed: str, sentences: Sequence[str]) -> str:
    key = normalize(claimed)
    for s in sentences:
        if normalize(s) == key:
            return s
    words = set(key.split())
    best, score = "", 0.0
    for s in sentences:
        other = set(normalize(s).split())
        overlap = len(words & other) / max(1, len(words | other))
        if overlap > score:
            best, score = s, overlap
    return best if score >= 0.6 else ""
