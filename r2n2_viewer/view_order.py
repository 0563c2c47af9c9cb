"""View order: is a result an accident of the order the views came in?

:func:`order_spread` feeds the same views to the network in K random orders (all K
through the recurrence together, reusing the session's cached encodings) and measures
every step of every order: IoU with the truth when it is known, else the number of
occupied voxels. The spread per step (min, quartiles, max) is drawn as a band.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from .geometry import check_threshold
from .models.voxels import iou
from .session import ReconstructionSession

DEFAULT_ORDERS = 8
MAX_ORDERS = 256


@dataclass(frozen=True)
class OrderSpread:
    """Per order (rows) and step (columns): IoU (``metric == "iou"``) or voxel count."""

    orders: np.ndarray  # int (K, n): the view indices (0-based) in the order fed
    values: np.ndarray  # float (K, n)
    metric: str  # "iou" or "voxels"

    @property
    def low(self) -> np.ndarray:
        return self.values.min(0)

    @property
    def high(self) -> np.ndarray:
        return self.values.max(0)

    @property
    def median(self) -> np.ndarray:
        return np.median(self.values, 0)

    def quantile(self, q: float) -> np.ndarray:
        return np.quantile(self.values, q, axis=0)


def random_orders(n: int, k: int, seed: int = 0) -> np.ndarray:
    """``k`` random permutations of ``range(n)``, distinct while ``k <= n!`` allows."""
    if n < 1 or not 1 <= k <= MAX_ORDERS:
        raise ValueError(f"need at least one view and 1..{MAX_ORDERS} orders, "
                         f"got {n} views and {k} orders")
    rng = np.random.default_rng(seed)
    distinct = int(np.prod(np.arange(1, n + 1, dtype=np.float64))) if n < 20 else k
    out: list[tuple[int, ...]] = []
    seen: set[tuple[int, ...]] = set()
    while len(out) < k:
        perm = tuple(int(i) for i in rng.permutation(n))
        if perm in seen and len(seen) < distinct:
            continue
        seen.add(perm)
        out.append(perm)
    return np.array(out, dtype=np.int64)


@torch.inference_mode()
def order_spread(
    session: ReconstructionSession,
    k: int = DEFAULT_ORDERS,
    truth: np.ndarray | None = None,
    threshold: float = 0.4,
    seed: int = 0,
    *,
    orders: np.ndarray | None = None,
    batch_size: int = 8,
    check_cancelled: Callable[[], None] | None = None,
    progress: Callable[[float], None] | None = None,
) -> OrderSpread:
    """IoU (with ``truth``) or occupied-voxel count at each step of ``k`` random orders
    of the session's views (or of the given ``orders``, (K, n) permutations).

    ``check_cancelled`` is called before every batched step (it raises to stop)."""
    threshold = check_threshold(threshold)
    n = len(session)
    if n == 0:
        raise ValueError("there are no views to reorder")
    if orders is None:
        orders = random_orders(n, k, seed)
    orders = np.asarray(orders, dtype=np.int64)
    if orders.ndim != 2 or orders.shape[1] != n or \
            (np.sort(orders, 1) != np.arange(n)).any():
        raise ValueError(f"orders must be permutations of the {n} views, one per row")
    net, dev = session.net, session.torch_device
    feats = session.encodings()
    target = None
    if truth is not None:
        target = torch.from_numpy(np.asarray(truth, dtype=bool)).to(dev)
        if target.ndim != 3:
            raise ValueError(f"the truth must be a 3D grid, got shape {tuple(target.shape)}")
    values = np.zeros(orders.shape, dtype=np.float64)
    total, done = orders.shape[0] * n, 0
    for start in range(0, orders.shape[0], batch_size):
        rows = orders[start:start + batch_size]
        state = net.initial_state(len(rows), dev)
        for t in range(n):
            if check_cancelled is not None:
                check_cancelled()
            state, _ = net.step(feats[torch.from_numpy(rows[:, t]).to(dev)], state)
            occupied = net.probabilities(net.decode(state)) >= threshold
            if target is not None:
                if occupied.shape[1:] != target.shape:
                    raise ValueError(f"the truth is {tuple(target.shape)} but the "
                                     f"reconstruction is {tuple(occupied.shape[1:])}")
                col = iou(occupied, target[None])
            else:
                col = occupied.flatten(1).sum(1)
            values[start:start + len(rows), t] = col.double().cpu().numpy()
            done += len(rows)
            if progress is not None:
                progress(done / total)
    return OrderSpread(orders, values, "iou" if target is not None else "voxels")
