"""Two models on the same views: keep a second session in step with the first.

:func:`mirror_views` makes a session hold exactly the given views, recomputing only
from the first view that differs (adding one view at the end costs one step), so a
second model follows every edit of the first session's sequence.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from .geometry import check_threshold
from .models.voxels import iou
from .session import ReconstructionSession


def first_difference(have: Sequence[np.ndarray], want: Sequence[np.ndarray]) -> int:
    """Index of the first view where ``have`` and ``want`` differ (their common length
    when one is a prefix of the other)."""
    for i, (a, b) in enumerate(zip(have, want, strict=False)):
        if a is not b and (a.shape != b.shape or not np.array_equal(a, b)):
            return i
    return min(len(have), len(want))


def mirror_views(
    session: ReconstructionSession,
    views: Sequence[np.ndarray],
    labels: Sequence[str] | None = None,
    check_cancelled: Callable[[], None] | None = None,
) -> int:
    """Make ``session`` hold ``views`` (network inputs) in order; returns how many steps
    were run. ``check_cancelled`` is called before each step (it raises to stop)."""
    labels = list(labels) if labels is not None else [f"view {i + 1}" for i in range(len(views))]
    if len(labels) != len(views):
        raise ValueError(f"{len(labels)} labels for {len(views)} views")
    k = first_difference(session.views, views)
    for i in range(len(session) - 1, k - 1, -1):
        session.remove_view(i)
    for i in range(k, len(views)):
        if check_cancelled is not None:
            check_cancelled()
        session.add_view(views[i], labels[i])
    return len(views) - k


def step_ious(session: ReconstructionSession, truth: np.ndarray, threshold: float) -> list[float]:
    """IoU with ``truth`` of every step of ``session`` at ``threshold``."""
    threshold = check_threshold(threshold)
    truth = np.asarray(truth, dtype=bool)
    return [float(iou(s.probabilities >= threshold, truth)) for s in session.steps]
