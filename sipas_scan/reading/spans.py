"""Runs of nearby positions along one axis: pure helper shared by the
readers of scanner lines and of printed text."""

from __future__ import annotations

import numpy as np


def runs(indices: np.ndarray, max_gap: float = 1) -> list[tuple[int, int]]:
    """(first, last) of each run in sorted, non-empty ``indices`` (1-D ints),
    gaps up to ``max_gap`` bridged (1: consecutive values only)."""
    breaks = np.flatnonzero(np.diff(indices) > max_gap)
    starts = np.concatenate(([indices[0]], indices[breaks + 1]))
    ends = np.concatenate((indices[breaks], [indices[-1]]))
    return list(zip(starts.tolist(), ends.tolist(), strict=True))
