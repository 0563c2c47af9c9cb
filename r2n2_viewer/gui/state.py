"""What the viewer shows, in one place: the view-state model under every widget.

Widgets never *are* the state. They write to :class:`ViewState` through
:meth:`ViewState.update` (or its small helpers) and redraw when ``changed`` fires,
which carries the names of the fields that changed. Tests, the screenshot script and
the benchmarks drive the viewer through this object.

New controls add a field here (with its default and validation in ``_check``) and a
widget that binds to it; nothing else needs to know.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from PyQt6.QtCore import QObject, pyqtSignal

from ..analysis import DEFAULT_BAND, check_band
from ..cameras import PRESETS, check_camera
from ..layers import MODES, layers_for
from ..probe import check_voxel
from ..slices import check_slice

MODE_LABELS = {"cubes": "Cubes", "smooth": "Smooth surface", "points": "Probability points",
               "uncertainty": "Uncertainty (entropy)", "errors": "Errors vs. ground truth",
               "seen": "Seen vs. inferred"}
OVERLAYS = ("changes", "gates", "truth")
OVERLAY_LABELS = {
    "changes": "What changed since the previous step",
    "gates": "Update gates (one cube per 4\u00b3 cell)",
    "truth": "Ground truth",
}
CAMERAS = ("default", *PRESETS)  # and "view:K": look from view K (its known camera)
DEFAULT_THRESHOLD = 0.4
THRESHOLD_MIN, THRESHOLD_MAX = 0.05, 0.95


@dataclass(frozen=True)
class Defaults:
    """The view settings of a fresh start (what "Reset view settings" returns to)."""

    mode: str = "cubes"
    threshold: float = DEFAULT_THRESHOLD
    overlays: frozenset[str] = frozenset()


DEFAULTS = Defaults()


def check_threshold(value: Any) -> float:
    """A threshold in [0.05, 0.95] rounded to 0.01 (the slider's resolution)."""
    try:
        t = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"threshold must be a number, got {value!r}") from None
    if not math.isfinite(t) or not THRESHOLD_MIN <= t <= THRESHOLD_MAX:
        raise ValueError(f"threshold must lie in [{THRESHOLD_MIN}, {THRESHOLD_MAX}], got {t}")
    return round(t, 2)


class ViewState(QObject):
    """Step, display mode, overlays, threshold, camera, selection and playback."""

    changed = pyqtSignal(frozenset)  # names of the fields that changed
    cameraRequested = pyqtSignal(str)  # a camera preset to apply now (even if unchanged)

    FIELDS = ("step", "n_steps", "follow", "mode", "overlays", "threshold", "camera",
              "selection", "playing", "truth_available", "band", "band_only",
              "probing", "probe_voxel", "slice_on", "slice_axis", "slice_index")

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.step = 0  # 1-based step shown; 0: none
        self.n_steps = 0
        self.follow = True  # jump to each new step as it arrives
        self.mode = DEFAULTS.mode
        self.overlays: frozenset[str] = DEFAULTS.overlays
        self.threshold = DEFAULTS.threshold
        self.camera = "default"
        self.selection: int | None = None  # selected view (0-based)
        self.playing = False
        self.truth_available = False
        self.band: tuple[float, float] = DEFAULT_BAND  # the uncertain band of P
        self.band_only = False  # uncertainty mode: only the voxels inside the band
        self.probing = False  # a click in the 3D view probes the voxel under it
        self.probe_voxel: tuple[int, int, int] | None = None  # the probed voxel
        self.slice_on = False  # the slice plane of P in the view and the panel
        self.slice_axis = "z"
        self.slice_index = 16

    # --- the one way to change the state --------------------------------------------
    def update(self, **values: Any) -> frozenset[str]:
        """Set fields (validated); emit ``changed`` once with those that changed."""
        new = {name: self._check(name, value) for name, value in values.items()}
        if "n_steps" in new and "step" not in new:
            new["step"] = min(self.step, new["n_steps"])
        if "step" in new:
            n = new.get("n_steps", self.n_steps)
            new["step"] = max(1, min(n, new["step"])) if n else 0
        if new.get("playing") and new.get("n_steps", self.n_steps) < 2:
            new["playing"] = False
        done = frozenset(k for k, v in new.items() if getattr(self, k) != v)
        for name in done:
            setattr(self, name, new[name])
        if done:
            self.changed.emit(done)
        return done

    def _check(self, name: str, value: Any) -> Any:
        if name in ("step", "n_steps"):
            return max(0, int(value))
        if name == "band":
            lo, hi = check_band(value)
            return round(lo, 2), round(hi, 2)
        if name in ("follow", "playing", "truth_available", "band_only", "probing",
                    "slice_on"):
            return bool(value)
        if name == "mode":
            if value not in MODES:
                raise ValueError(f"unknown display mode {value!r} ({', '.join(MODES)})")
            return value
        if name == "overlays":
            overlays = frozenset(value)
            unknown = overlays - set(OVERLAYS)
            if unknown:
                raise ValueError(f"unknown overlays {sorted(unknown)} ({', '.join(OVERLAYS)})")
            return overlays
        if name == "threshold":
            return check_threshold(value)
        if name == "camera":
            return check_camera(value)
        if name == "probe_voxel":
            return None if value is None else check_voxel(value)
        if name in ("slice_axis", "slice_index"):
            axis, index = check_slice(value if name == "slice_axis" else self.slice_axis,
                                      value if name == "slice_index" else self.slice_index)
            return axis if name == "slice_axis" else index
        if name == "selection":
            return None if value is None else int(value)
        raise AttributeError(f"ViewState has no field {name!r}")

    # --- helpers built on update ---------------------------------------------------
    def set_step(self, k: int) -> None:
        """Show step ``k`` (clamped); following new steps only from the last one."""
        k = max(1, min(self.n_steps, int(k))) if self.n_steps else 0
        self.update(step=k, follow=k >= self.n_steps)

    def steps_arrived(self, n: int) -> None:
        """The worker now holds ``n`` steps: follow the newest when following."""
        old = self.n_steps
        if n > old and (self.follow or self.step >= old):
            self.update(n_steps=n, step=n)
        else:
            self.update(n_steps=n)

    def set_overlay(self, name: str, on: bool) -> None:
        overlays = set(self.overlays)
        (overlays.add if on else overlays.discard)(name)
        self.update(overlays=overlays)

    def reset_camera(self, preset: str = "default") -> None:
        """Move the camera to ``preset`` now: ``default``, a preset of ``CAMERAS`` or
        ``view:K`` (view K's camera). Scrubbing steps keeps it."""
        self.update(camera=preset)
        self.cameraRequested.emit(self.camera)

    def _default_overlays(self) -> frozenset[str]:
        # a fresh start shows the ground truth whenever there is one
        return DEFAULTS.overlays | ({"truth"} if self.truth_available else set())

    def reset_view_settings(self) -> None:
        """Mode, threshold and overlays back to a fresh start's."""
        self.update(mode=DEFAULTS.mode, threshold=DEFAULTS.threshold,
                    overlays=self._default_overlays())

    def at_defaults(self) -> bool:
        """True when mode, threshold and overlays are a fresh start's."""
        return (self.mode, self.threshold, self.overlays) == (
            DEFAULTS.mode, DEFAULTS.threshold, self._default_overlays())

    # --- derived --------------------------------------------------------------------
    def layers(self) -> list[str]:
        """The scene layers shown for the mode and overlays (truth only when available)."""
        return layers_for(self.mode, "changes" in self.overlays, "gates" in self.overlays,
                          "truth" in self.overlays and self.truth_available,
                          band_only=self.band_only, truth_known=self.truth_available)

    def snapshot(self) -> dict[str, Any]:
        """Every field, as a plain dict (for tests and debugging)."""
        return {name: getattr(self, name) for name in self.FIELDS}
