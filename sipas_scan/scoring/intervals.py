"""95 % confidence intervals by a respondent-level bootstrap, and the
smallest unit worth publishing.

Why a bootstrap: a respondent's share b_i/a_i is bounded (0-100) and lumpy
(multiples of 1/18), often piled up at 100, where a normal-theory interval
would spill over 100 %. Resampling respondents keeps each person's answers
together, which is what the formula averages. The seed is fixed, so the same
records always give the same interval.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

CONFIDENCE = 0.95
BOOTSTRAP_RESAMPLES = 2000
BOOTSTRAP_SEED = 20241121
# Below this many respondents a unit's index is shown but marked as not for
# publication: with 30 people one answer moves the index by over 3 points and
# the interval is typically +-8 points wide.
MIN_RESPONDENTS = 30
# Rows of resamples drawn at once, so memory stays flat on large surveys.
_CHUNK = 250


@dataclass(frozen=True)
class Interval:
    low: float | None
    high: float | None


NO_INTERVAL = Interval(None, None)


def _resampled_means(shares: np.ndarray, resamples: int, rng: np.random.Generator) -> np.ndarray:
    means = np.empty(resamples)
    for start in range(0, resamples, _CHUNK):
        stop = min(start + _CHUNK, resamples)
        picks = rng.integers(0, len(shares), size=(stop - start, len(shares)))
        means[start:stop] = shares[picks].mean(axis=1)
    return means


def bootstrap_interval(
    strata: Sequence[Sequence[float]],
    *,
    combine: str = "pooled",
    resamples: int = BOOTSTRAP_RESAMPLES,
    seed: int = BOOTSTRAP_SEED,
    confidence: float = CONFIDENCE,
) -> Interval:
    """Percentile interval of an index from the respondents' shares (percent).

    ``strata`` holds each sub-unit's shares. ``pooled``: the index is the mean
    over all respondents, and respondents are resampled together. ``mean``: the
    index is the mean of the sub-units' means, and respondents are resampled
    within their sub-unit, as the sample was drawn (so many per village).
    """
    groups = [np.asarray(s, dtype=float) for s in strata if len(s)]
    if not groups:
        return NO_INTERVAL
    rng = np.random.default_rng(seed)
    if combine == "pooled":
        estimates = _resampled_means(np.concatenate(groups), resamples, rng)
    elif combine == "mean":
        estimates = np.mean([_resampled_means(g, resamples, rng) for g in groups], axis=0)
    else:
        raise ValueError(f"combine must be 'pooled' or 'mean', not {combine!r}")
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(estimates, [tail, 100 - tail])
    return Interval(float(low), float(high))


def publishable(n: int, *, minimum: int = MIN_RESPONDENTS) -> bool:
    return n >= minimum
