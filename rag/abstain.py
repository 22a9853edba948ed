"""Abstention from retrieval confidence: decline before calling the model when evidence is weak.

    gate = AbstentionGate()                          # the calibrated defaults below
    conf = gate.confidence(question, ranked, scorer) # Confidence(score, best, unknown, ...)
    if conf.abstain: ...                             # score < threshold

A 135M model almost never says "I don't know" on its own, whatever the prompt asks, so the
route must decide first. Two features, both cheap and model-free:

- ``best``: the score of the best retrieved sentence (``rag.context``: 0.6 x embedding cosine +
  0.4 x IDF-weighted share of the question's terms it contains + a small rank prior);
- ``unknown``: the IDF-weighted share of the question's terms that *no* chunk of the collection
  contains ("What is the Bluetooth range of the Heron S4?" -> "bluetooth").

``score = best - UNKNOWN_WEIGHT x unknown``; the route abstains when ``score < THRESHOLD``.

How the numbers were derived (``.venv/bin/python benchmarks/bench_rag.py --calibrate``): on the
*calibration split* of the sample corpus questions (30% of each kind, chosen by a hash of the
question id; never the held-out evaluation questions) plus 20 extra unanswerable questions
written for calibration only (``benchmarks/bench_rag.py: DEV_UNANSWERABLE``), every
``UNKNOWN_WEIGHT`` in 0..0.8 (steps of 0.1) and threshold was tried; the pair kept abstains on the most
unanswerable questions while abstaining on at most 5% of the answerable ones (a margin under
the 10% target), and the threshold sits halfway between the two nearest calibration scores.
Result: weight 0.5, threshold 0.427; on the calibration questions that abstains on 80% of the
25 unanswerable and 3.1% of the 32 answerable ones. Other corpora and embedders shift these
scores: re-run the calibration on your own questions and pass
``RagSettings(abstain_threshold=...)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from ingestion.errors import ConfigError
from rag.context import EvidenceScorer, Sentence, terms

UNKNOWN_WEIGHT = 0.5
THRESHOLD = 0.427
CALIBRATION = "sample corpus v1, calibration split: 32 answerable, 25 unanswerable (20 written for calibration)"


@dataclass(frozen=True)
class Confidence:
    score: float
    best: float  # best sentence score
    unknown: float  # IDF share of question terms absent from the whole collection
    unknown_terms: tuple[str, ...]
    threshold: float

    @property
    def abstain(self) -> bool:
        return self.score < self.threshold

    def as_json(self) -> dict:
        return {
            "confidence": round(self.score, 4), "best_sentence": round(self.best, 4),
            "unknown_terms": round(self.unknown, 4), "threshold": self.threshold,
        }


def unknown_share(question: str, scorer: EvidenceScorer) -> tuple[float, tuple[str, ...]]:
    q_terms = terms(question)
    if not q_terms:
        return 0.0, ()
    idf = scorer.idf(q_terms)
    missing = tuple(t for t in q_terms if scorer.document_frequency(t) == 0)
    total = sum(idf.values())
    return (sum(idf[t] for t in missing) / total if total > 0 else 0.0), missing


class AbstentionGate:
    def __init__(self, *, threshold: float = THRESHOLD, unknown_weight: float = UNKNOWN_WEIGHT) -> None:
        if not -1.0 <= threshold <= 2.0:
            raise ConfigError(f"abstain threshold {threshold} is out of range", fix="use a value between -1 and 2 (0.427 is calibrated)")
        if not 0.0 <= unknown_weight <= 2.0:
            raise ConfigError(f"unknown_weight {unknown_weight} must be between 0 and 2")
        self.threshold = threshold
        self.unknown_weight = unknown_weight

    def confidence(self, question: str, ranked: Sequence[Sentence], scorer: EvidenceScorer) -> Confidence:
        best = ranked[0].score if ranked else 0.0
        unknown, missing = unknown_share(question, scorer)
        score = best - self.unknown_weight * unknown
        return Confidence(round(score, 4), best, round(unknown, 4), missing, self.threshold)


def calibrate(
    answerable: Sequence[tuple[float, float]],
    unanswerable: Sequence[tuple[float, float]],
    *,
    max_answerable_rate: float = 0.05,
    weights: Sequence[float] = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8),
) -> dict:
    """Pick (unknown_weight, threshold) from (best, unknown) features of labelled questions.

    Maximises abstention on ``unanswerable`` subject to abstaining on at most
    ``max_answerable_rate`` of ``answerable``; ties go to the wider margin.
    """
    if not answerable or not unanswerable:
        raise ConfigError("calibration needs answerable and unanswerable questions")
    best: dict | None = None
    allowed = int(max_answerable_rate * len(answerable))
    for w in weights:
        pos = sorted(b - w * u for b, u in answerable)
        neg = sorted(b - w * u for b, u in unanswerable)
        # abstain on at most `allowed` answerable: threshold just above pos[allowed - 1] at most
        upper = pos[allowed]  # the lowest answerable score that must still be answered
        below = [s for s in pos[:allowed]] + [s for s in neg if s < upper]
        lower = max(below) if below else upper - 0.05
        threshold = round((lower + upper) / 2, 3)
        caught = sum(s < threshold for s in neg) / len(neg)
        lost = sum(s < threshold for s in pos) / len(pos)
        cand = {"unknown_weight": w, "threshold": threshold, "unanswerable_abstained": round(caught, 3),
                "answerable_abstained": round(lost, 3), "margin": round(upper - lower, 4)}
        if best is None or (caught, cand["margin"]) > (best["unanswerable_abstained"], best["margin"]):
            best = cand
    assert best is not None
    return best
