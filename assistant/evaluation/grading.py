"""One answer against its reference: what ``ragft eval`` counts per question.

    grade_qa(item, answer)       # {"correct", "em", "f1", "contains", "citation_ok"}
    grade_fresh(item, answer)    # {"outcome": "new"|"stale"|"none", "still_stated"}

Correct means: an answerable question's answer contains a reference answer (SQuAD normalisation,
``assistant.scoring``) and the route did not decline; an unanswerable one's route declined. A
declined answer scores 0 on every reference metric, whatever text came with the refusal.

Freshness (a fact that changed between two editions): the answer gives the new value ("new"),
only the old one ("stale"), or neither, which includes declining ("none"). An answer holding
both counts as new: it may be quoting the change. A deleted document's fact is "still stated"
when the route answers with its old value instead of declining.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any, Sequence

from assistant.evaluation.inputs import FreshItem, QAItem
from assistant.scoring import contains, reference_scores


def cites(sources: Sequence[str], expected: str) -> bool:
    """Whether one cited source is ``expected`` (a path relative to the corpus, or a file name)."""
    want = PurePosixPath(expected.replace("\\", "/")).parts
    return any(PurePosixPath(s.replace("\\", "/")).parts[-len(want):] == want for s in sources if s)


def grade_qa(item: QAItem, answer: str, abstained: bool, sources: Sequence[str]) -> dict[str, Any]:
    if not item.answerable:
        return {"correct": float(abstained), "em": None, "f1": None, "contains": None, "citation_ok": None}
    em, f1, has = (0.0, 0.0, 0.0) if abstained else reference_scores(answer, item.answers)
    cited = None
    if item.source and sources and not abstained:
        cited = float(cites(sources, item.source))
    return {"correct": has, "em": em, "f1": round(f1, 4), "contains": has, "citation_ok": cited}


def grade_fresh(item: FreshItem, answer: str, abstained: bool) -> dict[str, Any]:
    def has(values: Sequence[str]) -> bool:
        return not abstained and any(contains(answer, v) for v in values)

    if item.deleted:
        return {"outcome": "stale" if has(item.old_answers) else "none", "still_stated": float(has(item.old_answers))}
    outcome = "new" if has(item.new_answers) else "stale" if has(item.old_answers) else "none"
    return {"outcome": outcome, "still_stated": None}
