"""Abstention: retrieval-confidence features, the calibrated gate, and the calibration procedure."""

from __future__ import annotations

import pytest

from ingestion.errors import ConfigError
from rag.abstain import THRESHOLD, UNKNOWN_WEIGHT, AbstentionGate, calibrate, unknown_share
from rag.context import EvidenceScorer
from tests.rag.rag_corpus import corpus_index, retriever  # noqa: F401  (fixtures)


def test_calibrate_keeps_answerable_abstention_under_the_cap():
    answerable = [(0.9, 0.0), (0.8, 0.0), (0.7, 0.0), (0.6, 0.4), (0.55, 0.0)] * 4  # 20 questions
    unanswerable = [(0.5, 0.6), (0.45, 0.0), (0.62, 0.5), (0.3, 0.0)]
    out = calibrate(answerable, unanswerable, max_answerable_rate=0.05)
    assert out["answerable_abstained"] <= 0.05
    assert out["unanswerable_abstained"] == 1.0  # the unknown-term weight separates (0.62, 0.5)
    assert out["unknown_weight"] > 0
    with pytest.raises(ConfigError):
        calibrate([], unanswerable)


def test_gate_uses_unknown_terms(corpus_index, retriever):
    index, _ = corpus_index
    scorer = EvidenceScorer(index)
    share, missing = unknown_share("What is the Bluetooth range of the badge?", scorer)
    assert missing == ("bluetooth", "range") and 0 < share < 1
    gate = AbstentionGate()
    assert (gate.threshold, gate.unknown_weight) == (THRESHOLD, UNKNOWN_WEIGHT)
    q_in = "How many weeks of parental leave does a parent get?"
    conf_in = gate.confidence(q_in, scorer.score(q_in, retriever.search(q_in, k=3).hits), scorer)
    q_out = "Which Bluetooth protocol does the espresso machine use?"
    conf_out = gate.confidence(q_out, scorer.score(q_out, retriever.search(q_out, k=3).hits), scorer)
    assert not conf_in.abstain and conf_out.abstain
    assert conf_out.unknown > 0 and conf_out.as_json()["threshold"] == THRESHOLD
    with pytest.raises(ConfigError, match="threshold"):
        AbstentionGate(threshold=5)
