"""ReconstructionSession: views in, one recurrent step per view, per-step results out.

Adding a view costs exactly one step (encode + recurrent step + decode). Removing,
replacing or reordering views recomputes the steps from the first changed position
only; each view's encoding is cached, so a reorder re-runs only the recurrence and
the decoder.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .models.config import VIEW_SIZE
from .models.net import R2N2
from .weights import load_model, pick_device

ViewSource = str | os.PathLike | np.ndarray | Any  # path, PIL image or exact network input


@dataclass
class Step:
    """The reconstruction after view ``index`` (1-based)."""

    index: int
    probabilities: np.ndarray  # float32 (32, 32, 32) P(occupied), axes (d, row, col) = [x, y, z]
    update_gate: np.ndarray  # float32 (4, 4, 4): mean write strength of each recurrent cell
    ms: float  # wall time of this step (encode if needed + step + decode)


@dataclass
class _View:
    image: np.ndarray  # float32 (3, 127, 127) in [0, 1], the exact network input
    label: str
    feature: torch.Tensor | None = None


@dataclass
class ReconstructionSession:
    """Hold a model and a sequence of views; keep one cached Step per view."""

    checkpoint: str | os.PathLike | R2N2 | None = None
    device: str = "auto"
    net: R2N2 = field(init=False)
    meta: dict[str, Any] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self.torch_device = pick_device(self.device)
        if isinstance(self.checkpoint, R2N2):
            self.net, self.meta = self.checkpoint.to(self.torch_device).eval(), {}
        else:
            self.net, self.meta = load_model(self.checkpoint, self.torch_device)
        self._views: list[_View] = []
        self._states: list[torch.Tensor] = []  # state after each step
        self._steps: list[Step] = []

    # --- read access ---------------------------------------------------------
    @property
    def steps(self) -> list[Step]:
        return list(self._steps)

    @property
    def views(self) -> list[np.ndarray]:
        return [v.image for v in self._views]

    @property
    def labels(self) -> list[str]:
        return [v.label for v in self._views]

    def __len__(self) -> int:
        return len(self._views)

    @property
    def model_name(self) -> str:
        return str(self.meta.get("name") or self.meta.get("preset") or "custom")

    # --- editing -------------------------------------------------------------
    def add_view(self, x: ViewSource, label: str | None = None) -> Step:
        """Append a view and run exactly one recurrent step."""
        self._views.append(_make_view(x, label))
        self._recompute_from(len(self._views) - 1)
        return self._steps[-1]

    def remove_view(self, i: int) -> None:
        self._check_index(i)
        del self._views[i]
        self._recompute_from(i)

    def replace_view(self, i: int, x: ViewSource, label: str | None = None) -> None:
        self._check_index(i)
        self._views[i] = _make_view(x, label)
        self._recompute_from(i)

    def move_view(self, i: int, j: int) -> None:
        """Move view ``i`` to position ``j`` (both 0-based)."""
        self._check_index(i)
        self._check_index(j)
        if i == j:
            return
        self._views.insert(j, self._views.pop(i))
        self._recompute_from(min(i, j))

    def reset(self) -> None:
        self._views.clear()
        self._states.clear()
        self._steps.clear()

    # --- internals -------------------------------------------------------------
    def _check_index(self, i: int) -> None:
        if not 0 <= i < len(self._views):
            raise IndexError(f"view {i} does not exist (there are {len(self._views)} views)")

    @torch.inference_mode()
    def _recompute_from(self, k: int) -> None:
        del self._states[k:]
        del self._steps[k:]
        net, dev = self.net, self.torch_device
        state = self._states[-1] if self._states else net.initial_state(1, dev)
        for i in range(k, len(self._views)):
            view = self._views[i]
            t0 = time.perf_counter()
            if view.feature is None:
                x = torch.from_numpy(view.image).to(dev).unsqueeze(0)
                view.feature = net.encode(x)
            state, gate = net.step(view.feature, state)
            prob = net.probabilities(net.decode(state))[0]
            prob_np = prob.float().cpu().numpy()  # synchronises with the device
            ms = (time.perf_counter() - t0) * 1000.0
            self._states.append(state)
            self._steps.append(
                Step(i + 1, prob_np.astype(np.float32), gate[0].float().cpu().numpy(), ms)
            )


def _make_view(x: ViewSource, label: str | None) -> _View:
    if isinstance(x, np.ndarray):
        arr = np.asarray(x, dtype=np.float32)
        if arr.shape != (3, VIEW_SIZE, VIEW_SIZE):
            raise ValueError(f"a view array must have shape (3, {VIEW_SIZE}, {VIEW_SIZE}), "
                             f"got {arr.shape}")
        if not np.isfinite(arr).all() or arr.min() < 0.0 or arr.max() > 1.0:
            raise ValueError("a view array must hold finite values in [0, 1]")
        return _View(np.ascontiguousarray(arr), label or "array")
    from .images import load_view

    image = load_view(x)
    if label is None:
        label = Path(x).name if isinstance(x, (str, os.PathLike)) else "image"
    return _View(image, label)
