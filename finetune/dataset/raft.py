"""RAFT-style examples (Zhang et al. 2024): question + gold passage + distractors -> answer.

    raft_messages(question, gold, distractors, rng, oracle=True)
    # [{"role": "user", "content": "Answer the question using the documents below ...
    #    [1] Lanternfish Cloud: Plans and Pricing\n...\n\n[2] ...\n\nQuestion: How much ...?"}]

Training the hybrid route on retrieved context teaches the model to use the right document and
ignore the others. As in the paper, a share of examples (``1 - oracle_frac``) carries only
distractors, so the model also keeps the fact in its weights. Contexts never show a fact of
another split: prose is scrubbed sentence by sentence, and distractors come only from
passages whose facts all share the example's split.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

from finetune.dataset.splits import QUESTION_MARK
from finetune.dataset.text import normalize, split_sentences

INSTRUCTION = ("Answer the question using the documents below. Some documents may be irrelevant; "
               "answer from the one that contains the answer, in one sentence.")
MAX_DOC_CHARS = 1200


@dataclass(frozen=True)
class ContextDoc:
    source: str
    title: str
    text: str


def scrub(text: str, forbidden: set[str]) -> str:
    """The text without sentences whose normalised form is in ``forbidden`` (line structure kept)."""
    if not forbidden:
        return text
    lines = []
    for line in text.split("\n"):
        kept = [s for s in split_sentences(line) if normalize(s) not in forbidden]
        if kept:
            lines.append(" ".join(kept))
    return "\n".join(lines)


def window(text: str, around: str = "", limit: int = MAX_DOC_CHARS) -> str:
    """At most ``limit`` characters of ``text``, centred on ``around`` when it occurs."""
    if len(text) <= limit:
        return text
    at = text.find(around) if around else -1
    start = max(0, min(at - limit // 3, len(text) - limit)) if at >= 0 else 0
    piece = text[start : start + limit]
    if start > 0:
        piece = "..." + piece.split(" ", 1)[-1]
    return piece.rsplit(" ", 1)[0] + " ..."


def raft_messages(question: str, gold: ContextDoc | None, distractors: Sequence[ContextDoc], rng: random.Random,
                  *, sentence: str = "") -> list[dict[str, str]]:
    docs = [d for d in distractors]
    if gold is not None:
        docs.append(ContextDoc(gold.source, gold.title, window(gold.text, sentence)))
    docs = [ContextDoc(d.source, d.title, window(d.text)) for d in docs]
    rng.shuffle(docs)
    blocks = [f"[{i}] {d.title}\n{d.text}" for i, d in enumerate(docs, 1)]
    content = INSTRUCTION + "\n\n" + "\n\n".join(blocks) + f"\n\n{QUESTION_MARK} {question}"
    return [{"role": "user", "content": content}]


def pick_distractors(pool: Sequence[ContextDoc], source: str, k: int, rng: random.Random) -> list[ContextDoc]:
    """``k`` passages from documents other than ``source`` (fewer when the pool is small)."""
    candidates = [d for d in pool if d.source != source and d.text.strip()]
    return rng.sample(candidates, min(k, len(candidates)))
