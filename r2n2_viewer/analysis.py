"""Questions asked of a reconstruction, in numpy only: how sure the network is, and
where it is wrong when the truth is known.

Every function takes probability grids ``P(occupied)`` indexed ``[x, y, z]`` (see
:mod:`r2n2_viewer.geometry`) and returns plain arrays or numbers, so the viewer, the
off-screen renderer and scripts all read the same answers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .geometry import check_threshold, grid

DEFAULT_BAND = (0.2, 0.6)  # the "uncertain band" of P shown on its own


def entropy(probabilities: object) -> np.ndarray:
    """Bernoulli entropy of each voxel's P(occupied), in bits: 0 when sure (P = 0 or
    1), 1 at P = 0.5. float32, the grid's shape."""
    p = np.clip(grid(probabilities).astype(np.float64), 0.0, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        h = -(p * np.log2(p) + (1.0 - p) * np.log2(1.0 - p))
    return np.nan_to_num(h, nan=0.0).astype(np.float32)


def check_band(band: tuple[float, float]) -> tuple[float, float]:
    """``(low, high)`` with ``0 <= low < high <= 1``, else ValueError."""
    try:
        lo, hi = (float(v) for v in band)
    except (TypeError, ValueError):
        raise ValueError(f"an uncertain band is two numbers (low, high), got {band!r}") from None
    if not 0.0 <= lo < hi <= 1.0:  # also rejects NaN
        raise ValueError(f"an uncertain band needs 0 <= low < high <= 1, got ({lo}, {hi})")
    return lo, hi


def uncertain_band(probabilities: object, band: tuple[float, float] = DEFAULT_BAND) -> np.ndarray:
    """Boolean grid of the voxels with ``low < P < high``."""
    lo, hi = check_band(band)
    p = grid(probabilities)
    return (p > lo) & (p < hi)


@dataclass(frozen=True)
class TruthErrors:
    """Where a thresholded reconstruction agrees with the truth and where it does not."""

    true_positive: np.ndarray  # bool: occupied in both
    false_positive: np.ndarray  # bool: predicted, not in the truth
    false_negative: np.ndarray  # bool: in the truth, not predicted

    @property
    def counts(self) -> dict[str, int]:
        return {"true_positive": int(self.true_positive.sum()),
                "false_positive": int(self.false_positive.sum()),
                "false_negative": int(self.false_negative.sum())}

    @property
    def iou(self) -> float:
        """|pred & truth| / |pred | truth| (1.0 when both are empty)."""
        c = self.counts
        union = c["true_positive"] + c["false_positive"] + c["false_negative"]
        return c["true_positive"] / union if union else 1.0


def truth_errors(probabilities: object, truth: object, threshold: float) -> TruthErrors:
    """Compare ``P >= threshold`` with the true occupancy (same shape, else ValueError)."""
    pred = grid(probabilities) >= check_threshold(threshold)
    true = grid(truth).astype(bool)
    if pred.shape != true.shape:
        raise ValueError(f"the truth is {true.shape} but the reconstruction is {pred.shape}")
    return TruthErrors(pred & true, pred & ~true, true & ~pred)


def mean_entropy(probabilities: object) -> float:
    """Mean entropy in bits over the whole grid: one number for how unsure a step is."""
    return float(entropy(probabilities).mean())
