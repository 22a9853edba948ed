"""Paired statistics against cases computed by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from assistant.evaluation.stats import mcnemar_p, mean_ci, paired_diff, sign_test_p


def test_mcnemar_counts_only_disagreements_and_matches_the_binomial_by_hand():
    # a right where b is wrong on 6 questions, the reverse on 1, 3 ties: p = 2 * P(X <= 1), X ~ Bin(7, 0.5)
    a = [1, 1, 1, 1, 1, 1, 0, 1, 0, 0]
    b = [0, 0, 0, 0, 0, 0, 1, 1, 0, 0]
    assert mcnemar_p(a, b) == pytest.approx(2 * (1 + 7) / 2**7)  # 0.125
    assert mcnemar_p(a, a) == 1.0  # nothing separates a route from itself


def test_sign_test_drops_ties():
    a = [0.5, 0.9, 1.0, 0.2, 0.7]
    b = [0.1, 0.3, 1.0, 0.2, 0.6]  # 3 up, 0 down, 2 ties: p = 2 * (1/2)**3
    assert sign_test_p(a, b) == pytest.approx(0.25)


def test_paired_bootstrap_interval_matches_a_hand_computed_resampling():
    a, b = [1, 1, 0, 1, 0, 1, 1, 0], [0, 1, 0, 0, 0, 1, 0, 0]
    diff, low, high = paired_diff(a, b, resamples=500, seed=3)
    d = np.array(a) - np.array(b)
    picks = np.random.default_rng(3).integers(0, len(d), size=(500, len(d)))
    means = d[picks].mean(axis=1)
    assert diff == pytest.approx(3 / 8)
    assert (low, high) == pytest.approx(tuple(np.percentile(means, [2.5, 97.5])))
    assert 0 <= low < diff < high <= 1


def test_interval_is_reproducible_and_degenerate_cases_are_explicit():
    assert mean_ci([1, 0, 1, 1]) == mean_ci([1, 0, 1, 1])  # fixed seed: a re-run gives the same numbers
    assert mean_ci([1, 1, 1]) == (1.0, 1.0, 1.0)
    assert all(math.isnan(x) for x in mean_ci([]))
    with pytest.raises(ValueError, match="length"):
        paired_diff([1, 0], [1])
