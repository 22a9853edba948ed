"""Paired statistics for routes answering the same questions: bootstrap intervals and exact tests.

    mean_ci([1, 0, 1, 1])                       # (0.75, low, high): a route's mean with its 95% interval
    paired_diff(a, b)                           # (diff, low, high): mean(a - b) by a paired bootstrap
    mcnemar_p(a, b)                             # exact McNemar p-value for 0/1 outcomes
    sign_test_p(a, b)                           # exact sign test for graded outcomes (F1)

The bootstrap resamples questions (not answers) with a fixed seed, so a re-run gives the same
interval; 2,000 resamples put the percentile ends within about 0.005 of their limit on 100
questions (measured by re-seeding). The tests are exact binomial tests from scipy (scikit-learn
already depends on it): McNemar counts only the questions where the two routes disagree; the sign
test drops ties. Both are two-sided; a p-value of 1.0 means no question separated the routes.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

RESAMPLES = 2000
SEED = 0


def _resampled_means(values: np.ndarray, resamples: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(values), size=(resamples, len(values)))
    return values[picks].mean(axis=1)


def mean_ci(values: Sequence[float], *, level: float = 0.95, resamples: int = RESAMPLES,
            seed: int = SEED) -> tuple[float, float, float]:
    """Mean of ``values`` and its percentile-bootstrap interval; (nan, nan, nan) when empty."""
    x = np.asarray(values, dtype=float)
    if x.size == 0:
        return (float("nan"),) * 3
    means = _resampled_means(x, resamples, seed)
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(means, [tail, 100 - tail])
    return float(x.mean()), float(low), float(high)


def paired_diff(a: Sequence[float], b: Sequence[float], **kwargs) -> tuple[float, float, float]:
    """mean(a - b) over the same questions, with a paired bootstrap interval."""
    if len(a) != len(b):
        raise ValueError(f"paired outcomes differ in length: {len(a)} vs {len(b)}")
    return mean_ci(np.asarray(a, dtype=float) - np.asarray(b, dtype=float), **kwargs)


def _binomial_p(k: int, n: int) -> float:
    if n == 0:
        return 1.0
    from scipy.stats import binomtest

    return float(binomtest(k, n, 0.5, alternative="two-sided").pvalue)


def mcnemar_p(a: Sequence[float], b: Sequence[float]) -> float:
    """Exact McNemar test on 0/1 outcomes of the same questions."""
    only_a = sum(1 for x, y in zip(a, b) if x >= 0.5 > y)
    only_b = sum(1 for x, y in zip(a, b) if y >= 0.5 > x)
    return _binomial_p(min(only_a, only_b), only_a + only_b)


def sign_test_p(a: Sequence[float], b: Sequence[float]) -> float:
    """Exact sign test on graded outcomes of the same questions (ties dropped)."""
    ups = sum(1 for x, y in zip(a, b) if x > y)
    downs = sum(1 for x, y in zip(a, b) if x < y)
    return _binomial_p(min(ups, downs), ups + downs)
