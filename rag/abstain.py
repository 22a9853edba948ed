"""Abstention from retrieval confidence: decline before calling the model when evidence is weak.

    gate = AbstentionGate()                          # the calibrated defaults below
    conf = gate.confidence(question, ranked, scorer) # Confidence(score, best, unknown, ...)
    if conf.abstain: ...                             # score < threshold

A 135M model almost never says "I don't know" on its own, whatever the prompt asks, so the
route must decide first. Three features, all cheap and model-free:

- ``best``: the score of the best retrieved sentence (``rag.context``: 0.6 x embedding cosine +
  0.4 x IDF-weighted share of the question's terms it contains + a small rank prior);
- ``unknown``: the IDF-weighted share of the question's terms that *no* chunk of the collection
  contains ("What is the Bluetooth range of the Heron S4?" -> "bluetooth");
- ``focus``: the IDF-weighted share of the question's nouns and names that one of the four best
  sentences holds together (``rag.focus``). Near-miss questions, whose words all occur in the
  corpus but whose fact does not ("How much does a replacement antenna for the Kestrel KG-2
  cost?"), retrieve sentences about the entity that lack the asked-for thing. A dictionary noun
  also counts as held when a word of the sentence is close to it in MiniLM's space (cosine >=
  ``rag.focus.SIMILAR``: "notebook" ~ "laptop"), so reworded questions are not declined for
  their wording; the gate computes that only for questions the literal check would decline.

``score = best - UNKNOWN_WEIGHT x unknown - FOCUS_WEIGHT x (1 - focus)``; the route abstains
when ``score < THRESHOLD``.

How the numbers were derived (``.venv/bin/python benchmarks/bench_rag.py --calibrate``, which
prints these tables): on the *calibration split* of the sample corpus questions (30% of each
kind, chosen by a hash of the question id; never the held-out evaluation questions: 32
answerable, 5 unanswerable) plus 32 unanswerable questions written for calibration only
(``benchmarks/bench_rag.py: DEV_UNANSWERABLE``; 20 with a word the corpus lacks, 12 near misses),
every ``UNKNOWN_WEIGHT`` in {0, .25, .5, .75} x ``FOCUS_WEIGHT`` in {0, .1, ..., .5} and
threshold was tried; the triple kept abstains on the most unanswerable questions while abstaining
on at most 5% of the answerable ones (a margin under the 10% target), and the threshold sits
halfway between the two nearest calibration scores. Abstention rates per signal alone
(unanswerable n=37 / answerable n=32), at the threshold where answerable abstention is last 0:

    signal (abstain below t)        t      unanswerable  answerable
    best sentence score             0.45   0.27          0.000   (0.51: 0.38 / 0.031)
    1 - unknown-term share          0.47   0.11          0.000
    focus coverage                  0.40   0.38          0.000   (0.49: 0.60 / 0.062)
    the mix below                   0.33   0.54          0.000

Result: unknown weight 0.25, focus weight 0.3, threshold 0.392 (margin 0.008): 67.6% of the 37
unanswerable and 3.1% (1) of the 32 answerable calibration questions, all 5 shipped calibration
unanswerable ones included. The previous gate (``best - 0.5 x unknown < 0.427``, no focus)
abstained on 54% and 3.1% of the same questions (3 of the 5 shipped ones).

Reworded questions and the word-similarity cut. On the evaluation split the gate above declined
8 of 11 reworded questions (naive route): the calibration split then held only 4 paraphrases.
``DEV_REWORDED`` (13 answerable questions that restate v1 facts in other nouns, calibration
only) was added, so the calibration set is now 45 answerable / 37 unanswerable, and the cut was
swept with the weights and threshold above held fixed (abstention unanswerable / answerable /
reworded, n = 37 / 45 / 17):

    focus matching                  unanswerable  answerable  reworded
    literal only (before)           0.676         0.267       0.706
    + word cosine >= 0.50           0.568         0.178       0.471
    + word cosine >= 0.55           0.649         0.200       0.529
    + word cosine >= 0.60 (kept)    0.676         0.222       0.588
    + word cosine >= 0.65 / 0.70    0.676         0.244       0.647
    + word cosine >= 0.75 / 0.80    0.676         0.267       0.706

0.60 is the loosest cut that declines no fewer unanswerable questions than literal matching;
below it, near misses get held ("canteen", "upload" match words of unrelated sentences). Names
and codes never match by embedding ("Heron S2" must not be held by an S4 sentence). With the
cut kept, per signal alone (unanswerable n=37 / answerable n=45), at a low cut and a higher one:

    signal (abstain below t)        t      unanswerable  answerable
    best sentence score             0.40   0.108         0.022   (0.52: 0.459 / 0.156)
    1 - unknown-term share          0.45   0.108         0.000   (0.52: 0.216 / 0.089)
    focus coverage                  0.25   0.081         0.000   (0.63: 0.757 / 0.222)
    the mix (kept threshold 0.392)  0.392  0.676         0.222

The 10% answerable target is out of reach on this harder set: re-picking weights and threshold
with ``calibrate``'s 5% cap keeps 0.378 / 0.044 (unknown 0.25, focus 0.5, threshold 0.13),
which gives up most of the unanswerable abstention, so the shipped triple stays. Held out (the
evaluation split, scored once; ``benchmarks/RESULTS.md``) the cut did not pay off: answerable
abstention stayed 0.160 (naive) and fell 0.213 -> 0.200 (agentic), and one more unanswerable
question was answered by each route; ``AbstentionGate(similar=None)`` restores literal matching. Cost: a
question the literal check declines embeds its missing nouns and the four sentences' words in
one batch through the scorer's cache; first sight about 570 ms on 2 oversubscribed cores
(load ~3.9; the same single-threaded forward pass takes ~20 ms), ~1 ms once cached. What no
feature here separates: near misses whose sentence holds every asked-for word ("How much does
the Kestrel KG-2 solar panel weigh?" -> "The gateway weighs 6.1 kg without the solar panel"),
and reworded questions that retrieve weak sentences (best score < 0.5: "Which program tidies
the style of Python source?" -> ruff). Other corpora and embedders shift these scores: re-run
the calibration on your own questions and pass ``RagSettings(abstain_threshold=...)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from ingestion.errors import ConfigError
from rag.context import EvidenceScorer, Sentence, terms
from rag.focus import SIMILAR, focus_coverage

UNKNOWN_WEIGHT = 0.25
FOCUS_WEIGHT = 0.3
THRESHOLD = 0.392
CALIBRATION = (
    "sample corpus v1, calibration split: 45 answerable (13 reworded ones written for calibration), "
    "37 unanswerable (32 written for calibration)"
)


@dataclass(frozen=True)
class Confidence:
    score: float
    best: float  # best sentence score
    unknown: float  # IDF share of question terms absent from the whole collection
    unknown_terms: tuple[str, ...]
    threshold: float
    focus: float = 1.0  # share of the question's focus nouns held by one of the best sentences
    focus_missing: tuple[str, ...] = ()
    overruled: bool = False  # a judge model ruled that the best sentence answers the question

    @property
    def abstain(self) -> bool:
        return self.score < self.threshold and not self.overruled

    def as_json(self) -> dict:
        return {
            "confidence": round(self.score, 4), "best_sentence": round(self.best, 4),
            "unknown_terms": round(self.unknown, 4), "focus": round(self.focus, 4),
            "focus_missing": list(self.focus_missing), "threshold": self.threshold, "overruled": self.overruled,
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
    def __init__(
        self,
        *,
        threshold: float = THRESHOLD,
        unknown_weight: float = UNKNOWN_WEIGHT,
        focus_weight: float = FOCUS_WEIGHT,
        similar: float | None = SIMILAR,
    ) -> None:
        if not -1.0 <= threshold <= 2.0:
            raise ConfigError(f"abstain threshold {threshold} is out of range",
                              fix=f"use a value between -1 and 2 ({THRESHOLD} is calibrated)")
        if not 0.0 <= unknown_weight <= 2.0:
            raise ConfigError(f"unknown_weight {unknown_weight} must be between 0 and 2")
        if not 0.0 <= focus_weight <= 2.0:
            raise ConfigError(f"focus_weight {focus_weight} must be between 0 and 2")
        if similar is not None and not 0.0 < similar <= 1.0:
            raise ConfigError(f"focus similarity {similar} must be in (0, 1]",
                              fix=f"use {SIMILAR} (calibrated) or None for literal matching")
        self.similar = similar
        self.threshold = threshold
        self.unknown_weight = unknown_weight
        self.focus_weight = focus_weight

    def confidence(self, question: str, ranked: Sequence[Sentence], scorer: EvidenceScorer) -> Confidence:
        best = ranked[0].score if ranked else 0.0
        unknown, missing = unknown_share(question, scorer)
        # Literal matching first: word embeddings can only raise coverage, so they are computed
        # (one small embedder call) only for questions the literal check would decline.
        focus = focus_coverage(question, ranked, scorer, similar=None)
        score = best - self.unknown_weight * unknown - self.focus_weight * (1.0 - focus.coverage)
        if score < self.threshold and self.similar is not None and focus.missing:
            focus = focus_coverage(question, ranked, scorer, similar=self.similar)
            score = best - self.unknown_weight * unknown - self.focus_weight * (1.0 - focus.coverage)
        return Confidence(round(score, 4), best, round(unknown, 4), missing, self.threshold, focus.coverage, focus.missing)


def features(
    question: str, ranked: Sequence[Sentence], scorer: EvidenceScorer, *, similar: float | None = SIMILAR
) -> tuple[float, float, float]:
    """(best sentence score, unknown-term share, focus coverage): what ``calibrate`` weighs.

    ``similar``: the word-embedding cosine at which a focus term counts as held (None: literal only).
    """
    best = ranked[0].score if ranked else 0.0
    return best, unknown_share(question, scorer)[0], focus_coverage(question, ranked, scorer, similar=similar).coverage


def calibrate(
    answerable: Sequence[tuple[float, ...]],
    unanswerable: Sequence[tuple[float, ...]],
    *,
    max_answerable_rate: float = 0.05,
    weights: Sequence[float] = (0.0, 0.25, 0.5, 0.75),
    focus_weights: Sequence[float] = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5),
) -> dict:
    """Pick (unknown_weight, focus_weight, threshold) from (best, unknown[, focus]) features.

    Maximises abstention on ``unanswerable`` subject to abstaining on at most
    ``max_answerable_rate`` of ``answerable``; ties go to the wider margin. A missing focus
    feature counts as fully covered (1.0).
    """
    if not answerable or not unanswerable:
        raise ConfigError("calibration needs answerable and unanswerable questions")
    best: dict | None = None
    allowed = int(max_answerable_rate * len(answerable))
    full = lambda f: (f[0], f[1], f[2] if len(f) > 2 else 1.0)  # noqa: E731
    pos_f, neg_f = [full(f) for f in answerable], [full(f) for f in unanswerable]
    for w, fw in ((w, fw) for w in weights for fw in focus_weights):
        pos = sorted(b - w * u - fw * (1 - c) for b, u, c in pos_f)
        neg = sorted(b - w * u - fw * (1 - c) for b, u, c in neg_f)
        # abstain on at most `allowed` answerable: threshold just above pos[allowed - 1] at most
        upper = pos[allowed]  # the lowest answerable score that must still be answered
        below = [s for s in pos[:allowed]] + [s for s in neg if s < upper]
        lower = max(below) if below else upper - 0.05
        threshold = round((lower + upper) / 2, 3)
        caught = sum(s < threshold for s in neg) / len(neg)
        lost = sum(s < threshold for s in pos) / len(pos)
        cand = {"unknown_weight": w, "focus_weight": fw, "threshold": threshold, "unanswerable_abstained": round(caught, 3),
                "answerable_abstained": round(lost, 3), "margin": round(upper - lower, 4)}
        if best is None or (caught, cand["margin"]) > (best["unanswerable_abstained"], best["margin"]):
            best = cand
    assert best is not None
    return best
