"""ReconstructionSession: views in, one recurrent step per view, per-step results out.

Adding a view costs exactly one step (encode + recurrent step + decode). Removing,
replacing or reordering views recomputes the steps from the first changed position
only; each view's encoding is cached, so a reorder re-runs only the recurrence and
the decoder.

A session copies every view it is given and hands out read-only arrays, so nothing a
caller does afterwards changes a stored view or leaves its cached encoding stale. One
lock serialises every edit and read: two threads may share a session (each call sees
the sequence before or after another thread's edit, never in between), though the GUI
keeps its session in a single worker thread.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .models.config import VIEW_SIZE
from .models.net import R2N2
from .weights import load_model, pick_device

ViewSource = str | os.PathLike | np.ndarray | Any  # path, PIL image or exact network input
VIEW_SHAPE = (3, VIEW_SIZE, VIEW_SIZE)


@dataclass
class Step:
    """The reconstruction after view ``index`` (1-based); arrays are read-only."""

    index: int
    probabilities: np.ndarray  # float32 (32, 32, 32) P(occupied), axes (d, row, col) = [x, y, z]
    update_gate: np.ndarray  # float32 (4, 4, 4): mean write strength of each recurrent cell
    ms: float  # wall time of this step (encode if needed + step + decode)


@dataclass
class _View:
    image: np.ndarray  # float32 (3, 127, 127) in [0, 1], read-only: the exact network input
    label: str
    feature: torch.Tensor | None = None


class ReconstructionSession:
    """Hold a model and a sequence of views; keep one cached Step per view.

    ``ReconstructionSession(weights, device)`` loads ``weights`` (a checkpoint, an
    official ``.npy`` or ``"default"``); ``ReconstructionSession(net=model)`` uses an
    in-memory network as it is.
    """

    def __init__(
        self,
        weights: str | os.PathLike | None = "default",
        device: str = "auto",
        *,
        net: R2N2 | None = None,
        name: str | None = None,
        progress: Callable[[float], None] | None = None,
    ) -> None:
        if isinstance(weights, torch.nn.Module):
            raise TypeError("pass an in-memory network as net=..., not as weights")
        self.torch_device = pick_device(device)
        if net is not None:
            self.net = net.to(self.torch_device).eval()
            self.meta: dict[str, Any] = {"name": name or type(net).__name__}
        else:
            self.net, self.meta = load_model(weights, self.torch_device, progress=progress)
            if name:
                self.meta["name"] = name
        self._lock = threading.RLock()
        self._views: list[_View] = []
        self._states: list[torch.Tensor] = []  # state after each step
        self._steps: list[Step] = []

    @classmethod
    def from_weights(
        cls,
        spec: str | os.PathLike | None = "default",
        device: str = "auto",
        progress: Callable[[float], None] | None = None,
    ) -> ReconstructionSession:
        """Load ``spec`` (a checkpoint, an official ``.npy`` converted on the fly with
        ``progress(fraction)`` calls, or ``"default"``) onto ``device``."""
        return cls(spec, device, progress=progress)

    # --- read access ---------------------------------------------------------
    @property
    def steps(self) -> list[Step]:
        with self._lock:
            return list(self._steps)

    @property
    def views(self) -> list[np.ndarray]:
        """The stored network inputs (read-only arrays)."""
        with self._lock:
            return [v.image for v in self._views]

    @property
    def labels(self) -> list[str]:
        with self._lock:
            return [v.label for v in self._views]

    def __len__(self) -> int:
        return len(self._views)

    @property
    def model_name(self) -> str:
        return str(self.meta.get("name") or self.meta.get("preset") or "custom")

    def recurrent_state(self, k: int | None = None) -> torch.Tensor:
        """A copy of the recurrent state after the first ``k`` views (default: all; 0:
        the initial state), shape (1, C, g, g, g): trial steps on it change nothing here."""
        with self._lock:
            k = len(self._states) if k is None else k
            if not 0 <= k <= len(self._states):
                raise IndexError(f"no state after {k} views (there are {len(self._states)})")
            if k == 0:
                return self.net.initial_state(1, self.torch_device)
            return self._states[k - 1].clone()

    def encodings(self) -> torch.Tensor:
        """The cached encoding of every view, (n, F) (a copy; n may be 0)."""
        with self._lock:
            feats = [v.feature for v in self._views if v.feature is not None]
            if len(feats) != len(self._views):
                raise RuntimeError("some views have not been encoded yet")
            if not feats:
                return torch.zeros(0, 0, device=self.torch_device)
            return torch.cat(feats).clone()

    # --- editing -------------------------------------------------------------
    def add_view(self, x: ViewSource, label: str | None = None) -> Step:
        """Append a view and run exactly one recurrent step."""
        view = _make_view(x, label)  # decoded outside the lock
        with self._lock:
            self._views.append(view)
            self._recompute_from(len(self._views) - 1)
            return self._steps[-1]

    def remove_view(self, i: int) -> None:
        with self._lock:
            self._check_index(i)
            del self._views[i]
            self._recompute_from(i)

    def replace_view(self, i: int, x: ViewSource, label: str | None = None) -> None:
        view = _make_view(x, label)
        with self._lock:
            self._check_index(i)
            self._views[i] = view
            self._recompute_from(i)

    def move_view(self, i: int, j: int) -> None:
        """Move view ``i`` to position ``j`` (both 0-based)."""
        with self._lock:
            self._check_index(i)
            self._check_index(j)
            if i == j:
                return
            self._views.insert(j, self._views.pop(i))
            self._recompute_from(min(i, j))

    def reset(self) -> None:
        with self._lock:
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
                x = torch.from_numpy(view.image.copy()).to(dev).unsqueeze(0)
                view.feature = net.encode(x)
            state, gate = net.step(view.feature, state)
            prob = net.probabilities(net.decode(state))[0]
            prob_np = prob.float().cpu().numpy()  # synchronises with the device
            ms = (time.perf_counter() - t0) * 1000.0
            self._states.append(state)
            self._steps.append(
                Step(i + 1, _frozen(prob_np.astype(np.float32)),
                     _frozen(gate[0].float().cpu().numpy().astype(np.float32)), ms)
            )


def view_input(x: ViewSource) -> np.ndarray:
    """``x`` (a path, a PIL image or an exact network input) as a read-only float32
    (3, 127, 127) network input in [0, 1]; ValueError/OSError on bad input."""
    return _make_view(x, None).image


def _frozen(arr: np.ndarray) -> np.ndarray:
    arr.setflags(write=False)
    return arr


def _make_view(x: ViewSource, label: str | None) -> _View:
    if isinstance(x, np.ndarray):
        if np.iscomplexobj(x):
            raise ValueError("a view array must hold real values, got a complex array")
        if x.dtype.kind not in "biuf":
            raise ValueError(f"a view array must hold numbers, got dtype {x.dtype}")
        if x.shape != VIEW_SHAPE:
            raise ValueError(f"a view array must have shape (3, {VIEW_SIZE}, {VIEW_SIZE}), "
                             f"got {x.shape}")
        arr = np.array(x, dtype=np.float32, order="C", copy=True)  # never the caller's memory
        if not np.isfinite(arr).all() or arr.min() < 0.0 or arr.max() > 1.0:
            raise ValueError("a view array must hold finite values in [0, 1]")
        return _View(_frozen(arr), label or "array")
    from .images import load_view

    image = np.ascontiguousarray(load_view(x), dtype=np.float32)  # a fresh array
    if label is None:
        label = Path(x).name if isinstance(x, (str, os.PathLike)) else "image"
    return _View(_frozen(image), label)
