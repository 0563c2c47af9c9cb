"""The inference worker: owns the ReconstructionSession and builds every step's meshes.

It lives in its own QThread. The window talks to it only through ``request`` (a queued
signal carrying a job name and its arguments) and listens to ``snapshot``, ``failed``,
``progress``, ``modelLoaded`` and ``jobDone``. The session is touched only here.
"""

from __future__ import annotations

import os
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PyQt6.QtCore import QObject, pyqtSignal, pyqtSlot

from ..scene import StepScene, build_step_scene


@dataclass
class Snapshot:
    """What the window shows: the views, their labels and one scene per step."""

    views: list[np.ndarray]
    labels: list[str]
    scenes: list[StepScene]
    threshold: float
    ground_truth: np.ndarray | None = None
    steps: list[Any] = field(default_factory=list)  # session Step objects (read-only)
    ious: list[float] = field(default_factory=list)  # per step, when there is ground truth
    iou_plot: np.ndarray | None = None  # RGBA picture of ious (drawn here, not on the UI)


@dataclass
class ImageSource:
    """One image to add: a file path, or an in-memory image (PIL) with a label."""

    source: Any
    label: str


def _threads() -> int:
    return max(1, min(4, (os.cpu_count() or 2) - 1))


class InferenceWorker(QObject):
    """Runs jobs sent through ``request``; never raises into the event loop."""

    request = pyqtSignal(str, object)  # job name, tuple of arguments
    snapshot = pyqtSignal(object)  # Snapshot
    failed = pyqtSignal(str, str)  # title, one-line message
    progress = pyqtSignal(str, float)  # what, fraction in [0, 1] (-1: unknown)
    modelLoaded = pyqtSignal(str, str)  # model name, device
    jobDone = pyqtSignal(str)  # job name (always emitted, after success or failure)

    def __init__(self, threshold: float = 0.4) -> None:
        super().__init__()
        self.session: Any = None
        self.threshold = threshold
        self.ground_truth: np.ndarray | None = None
        self._scenes: dict[int, tuple[Any, StepScene]] = {}  # id(Step) -> (Step, scene)
        self._threads_set = False
        self._plot: tuple[list[float], np.ndarray] | None = None
        self.request.connect(self._run)

    # --- dispatch ------------------------------------------------------------------
    @pyqtSlot(str, object)
    def _run(self, job: str, args: Any) -> None:
        if not self._threads_set:
            import torch

            torch.set_num_threads(_threads())
            self._threads_set = True
        try:
            getattr(self, f"_do_{job}")(*args)
        except Exception as exc:  # shown to the user, never kills the app
            if not isinstance(exc, (OSError, ValueError, LookupError, _NoModel)):
                traceback.print_exc()  # unexpected: keep the details for a bug report
            self.failed.emit(f"{job.replace('_', ' ').capitalize()} failed", _one_line(exc))
        finally:
            self.jobDone.emit(job)

    # --- jobs ----------------------------------------------------------------------
    def _do_load_model(self, spec: Any, device: str) -> None:
        from ..models.net import R2N2
        from ..session import ReconstructionSession
        from ..weights import load_model, pick_device

        dev = pick_device(device)
        is_npy = str(spec).lower().endswith(".npy")
        if is_npy:
            self.progress.emit("Converting official weights", 0.0)
        if isinstance(spec, R2N2):  # an in-memory network (benchmarks, tests)
            net, meta = spec.to(dev).eval(), {"name": type(spec).__name__}
        else:
            net, meta = load_model(spec, dev, progress=self._conversion_progress if is_npy
                                   else None)
        if is_npy:
            self.progress.emit("Converting official weights", 1.0)
        session = ReconstructionSession(net, device=str(dev))
        session.meta = meta
        old = self.session
        self.session = session
        self._scenes.clear()
        self.modelLoaded.emit(session.model_name, str(session.torch_device))
        if old is not None and len(old):
            for image, label in zip(old.views, old.labels, strict=True):
                session.add_view(image, label)
                self._emit()
        self._emit()

    def _conversion_progress(self, fraction: float) -> None:
        self.progress.emit("Converting official weights", float(fraction))

    def _do_add(self, sources: list[ImageSource]) -> None:
        session = self._need_session()
        from ..images import load_view

        for src in sources:
            try:
                image = load_view(src.source)
            except Exception as exc:  # bad file: say so, keep the earlier steps
                msg = _one_line(exc)
                self.failed.emit("Cannot add image",
                                 msg if src.label in msg else f"{src.label}: {msg}")
                continue
            self.progress.emit(f"Running step {len(session) + 1}", -1.0)
            session.add_view(image, src.label)
            self._emit()

    def _do_add_arrays(self, images: list[np.ndarray], labels: list[str]) -> None:
        session = self._need_session()
        for image, label in zip(images, labels, strict=True):
            session.add_view(image, label)
            self._emit()

    def _do_remove(self, i: int) -> None:
        self._need_session().remove_view(i)
        self._emit()

    def _do_replace(self, i: int, src: ImageSource) -> None:
        from ..images import load_view

        session = self._need_session()
        session.replace_view(i, load_view(src.source), src.label)
        self._emit()

    def _do_move(self, i: int, j: int) -> None:
        self._need_session().move_view(i, j)
        self._emit()

    def _do_reset(self) -> None:
        if self.session is not None:
            self.session.reset()
        self.ground_truth = None
        self._scenes.clear()
        self._emit()

    def _do_set_threshold(self, threshold: float) -> None:
        if threshold == self.threshold:
            return
        self.threshold = threshold
        self._scenes.clear()
        self._emit()

    def _do_set_ground_truth(self, occupancy: np.ndarray | None) -> None:
        self.ground_truth = None if occupancy is None else np.asarray(occupancy, dtype=bool)
        self._scenes.clear()
        self._emit()

    # --- helpers -------------------------------------------------------------------
    def _need_session(self) -> Any:
        if self.session is None:
            raise _NoModel("no model is loaded: open a weights file (File > Open weights...)")
        return self.session

    def _emit(self) -> None:
        """Build the scenes still missing and send a snapshot to the window."""
        session = self.session
        if session is None:
            self.snapshot.emit(Snapshot([], [], [], self.threshold, self.ground_truth))
            return
        steps = session.steps
        scenes: list[StepScene] = []
        fresh: dict[int, tuple[Any, StepScene]] = {}
        prev = None
        for step in steps:
            cached = self._scenes.get(id(step))
            scene = cached[1] if cached is not None and cached[0] is step else None
            if scene is None:
                scene = build_step_scene(
                    step.probabilities, prev, step.update_gate, self.threshold, step.index,
                    step.ms, self.ground_truth,
                )
            fresh[id(step)] = (step, scene)
            scenes.append(scene)
            prev = step.probabilities
        self._scenes = fresh
        ious = [s.iou for s in scenes if s.iou is not None]
        plot = None
        if ious:
            if self._plot is None or self._plot[0] != ious:
                from .plot import render_iou_plot

                self._plot = (ious, render_iou_plot(ious))
            plot = self._plot[1]
        self.snapshot.emit(
            Snapshot(session.views, session.labels, scenes, self.threshold, self.ground_truth,
                     steps, ious, plot)
        )


class _NoModel(RuntimeError):
    """A job needs a model and none is loaded."""


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    msg = text[0] if text else type(exc).__name__
    if isinstance(exc, FileNotFoundError) and exc.filename:
        msg = f"{Path(exc.filename).name}: no such file"
    return msg
