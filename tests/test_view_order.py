"""View order: K orders of the same views through the recurrence together."""

from __future__ import annotations

import math

import numpy as np
import pytest

from r2n2_viewer.models.voxels import iou
from r2n2_viewer.session import ReconstructionSession
from r2n2_viewer.view_order import order_spread, random_orders


def test_random_orders_are_distinct_permutations():
    orders = random_orders(4, 10, seed=3)
    assert orders.shape == (10, 4)
    assert (np.sort(orders, 1) == np.arange(4)).all()
    assert len({tuple(o) for o in orders}) == 10
    assert len({tuple(o) for o in random_orders(2, 2)}) == 2  # both orders of two views
    assert (random_orders(4, 5, seed=1) == random_orders(4, 5, seed=1)).all()
    for n, k in ((0, 3), (3, 0), (3, 1000)):
        with pytest.raises(ValueError):
            random_orders(n, k)


def test_spread_equals_each_order_run_on_its_own(tiny_checkpoint, views):
    s = ReconstructionSession(tiny_checkpoint, device="cpu")
    for v in views[:3]:
        s.add_view(v)
    truth = s.steps[-1].probabilities >= np.quantile(s.steps[-1].probabilities, 0.9)
    spread = order_spread(s, 3, truth, threshold=0.5, seed=2, batch_size=2)
    assert spread.metric == "iou" and spread.values.shape == (3, 3)
    counts = order_spread(s, orders=spread.orders, threshold=0.5)
    assert counts.metric == "voxels"
    for row, order in enumerate(spread.orders):
        ref = ReconstructionSession(tiny_checkpoint, device="cpu")
        for i in order:
            ref.add_view(views[i])
        for t, step in enumerate(ref.steps):
            occupied = step.probabilities >= 0.5
            assert spread.values[row, t] == pytest.approx(iou(occupied, truth), abs=1e-6)
            assert abs(counts.values[row, t] - occupied.sum()) <= 2  # float rounding at 0.5
    assert (spread.low <= spread.median).all() and (spread.median <= spread.high).all()
    np.testing.assert_allclose(spread.quantile(0.0), spread.low)
    assert len(s) == 3 and [st.index for st in s.steps] == [1, 2, 3]


def test_spread_rejects_bad_input_and_stops_when_cancelled(tiny_checkpoint, views):
    s = ReconstructionSession(tiny_checkpoint, device="cpu")
    with pytest.raises(ValueError, match="no views"):
        order_spread(s)
    for v in views[:2]:
        s.add_view(v)
    with pytest.raises(ValueError, match="permutations"):
        order_spread(s, orders=np.array([[0, 0]]))
    with pytest.raises(ValueError, match="truth"):
        order_spread(s, 2, np.zeros((16, 16, 16), bool))
    seen: list[float] = []

    def cancel() -> None:
        if len(seen) >= 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        order_spread(s, 2, batch_size=1, check_cancelled=cancel, progress=seen.append)
    assert seen == [pytest.approx(1 / 4), pytest.approx(2 / 4)]
    assert math.isfinite(order_spread(s, 1).values.sum())
