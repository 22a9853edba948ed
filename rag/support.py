"""Answer support: drop generated sentences that state a number or a name the context lacks.

    kept, dropped = supported_answer("It costs EUR 690 [1]. Shipping is $100.", question, ctx.text)
    # kept == "It costs EUR 690 [1].", dropped == ["100"]

A stand-in for RAGAS faithfulness that a 135M generator can live with: the model copies the
context well but sometimes invents the one specific that matters ("The CarePlus extended warranty
is $100."). Numbers and person-like names are the claims that can be checked by containment, so a
sentence whose numbers or names appear nowhere in the context is dropped; when nothing is left,
the route answers with the best context sentence instead (see ``rag.naive``). Words are not
checked: small models paraphrase them, and ``rag.citations`` already reports the overlap.
"""

from __future__ import annotations

import re

from rag.agentic.graders import NUMBER, PERSON, candidates, holds
_MARKER = re.compile(r"\s*\[\d{1,2}\]")
_SENT_END = re.compile(r"(?<=[.!?])\s+(?=[\"'(\[]?[A-Z0-9])")  # as in rag.context, without joining pronouns


def sentences(text: str) -> list[str]:
    return [p.strip() for line in text.splitlines() for p in _SENT_END.split(line) if p.strip()]


def unsupported(sentence: str, question: str, context_text: str) -> list[str]:
    """Numbers and names of ``sentence`` (not already in the question) absent from the context."""
    text = _MARKER.sub("", sentence)
    ctx = _MARKER.sub("", context_text).lower()
    keys = [k.strip(".,:") for k in candidates(text, NUMBER, question) + candidates(text, PERSON, question)]
    return [k for k in keys if not holds(ctx, k.strip("%").lower())]


def supported_answer(answer: str, question: str, context_text: str) -> tuple[str, list[str]]:
    """(the answer without unsupported sentences, the unsupported specifics that were dropped)."""
    kept: list[str] = []
    dropped: list[str] = []
    for sentence in sentences(answer):
        missing = unsupported(sentence, question, context_text)
        if missing:
            dropped += missing
        else:
            kept.append(sentence)
    return " ".join(kept), dropped
