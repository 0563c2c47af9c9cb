"""The inference worker: owns the ReconstructionSession and builds every step's meshes.

:class:`InferenceWorker` lives in its own QThread and is touched only there. Each job
has its own request signal with typed arguments and its own slot; results come back as
plain objects (:class:`Snapshot`, model name and device, messages). :class:`Worker` is
the main-thread handle: it starts the thread, numbers the jobs, counts the ones still
pending, cancels them and shuts down without ever freezing the window (a job stuck in
a system call is left to finish on its own thread).
"""

from __future__ import annotations

import os
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PyQt6.QtCore import QObject, QThread, pyqtSignal, pyqtSlot

from ..analysis import DEFAULT_BAND

if TYPE_CHECKING:  # PyVista is imported in the worker's thread, not at start-up
    from ..scene import StepScene

GRID_SHAPE = (32, 32, 32)


@dataclass
class Snapshot:
    """What the window shows: the views, their labels and one scene per step.

    ``views`` may hold more entries than ``scenes``: views waiting for a model."""

    views: list[np.ndarray]
    labels: list[str]
    scenes: list[StepScene]
    ground_truth: np.ndarray | None = None
    steps: list[Any] = field(default_factory=list)  # session Step objects (read-only)
    ious: list[float] = field(default_factory=list)  # per step, when there is ground truth
    iou_plot: np.ndarray | None = None  # RGBA picture of ious (drawn here, not on the UI)
    iou_columns: list[float] = field(default_factory=list)  # pixel x of each step on it
    iou_rows: tuple[float, float] = (0.0, 0.0)  # pixel rows of the plot's axes
    records: list[Any] = field(default_factory=list)  # sequence.SequenceView per view
    compare_scenes: list[StepScene] = field(default_factory=list)  # the second model's
    compare_ious: list[float] = field(default_factory=list)
    compare_name: str = ""  # the second model ("" when none is compared)
    spread: Any = None  # view_order.OrderSpread of the current views, or None
    plot_values: list[float] = field(default_factory=list)  # the plotted curve (IoU or voxels)

    @property
    def threshold(self) -> float | None:
        """The threshold the scenes were built at (None: no scenes)."""
        return self.scenes[0].threshold if self.scenes else None


@dataclass
class ImageSource:
    """One image to add: a file path, encoded bytes or an in-memory image (PIL), its
    label and how it is prepared (None: the defaults)."""

    source: Any
    label: str
    settings: Any = None  # images.PrepSettings
    camera: Any = None  # cameras.ViewCamera when known (demos, dataset renderings)
    position: int | None = None  # a view of the sequence itself (its 0-based index), as a
    # candidate for an earlier step: it is moved there, not added


class JobCancelled(Exception):
    """The job was cancelled between two of its steps."""


class NoModel(RuntimeError):
    """A job needs a model and none is loaded."""


def _threads() -> int:
    return max(1, min(4, (os.cpu_count() or 2) - 1))


def check_ground_truth(occupancy: Any) -> np.ndarray:
    """A ground truth the viewer can compare with: a 32^3 grid (else ValueError)."""
    arr = np.asarray(occupancy)
    if arr.shape != GRID_SHAPE:
        shape = "\u00d7".join(str(s) for s in arr.shape) or "a scalar"
        raise ValueError(f"the ground truth is {shape}; the network reconstructs 32\u00d732"
                         "\u00d732, so it is not shown")
    return arr.astype(bool)


class InferenceWorker(QObject):
    """Runs one job per request signal; never raises into the event loop."""

    # requests: (job id, arguments...), queued into the worker's thread
    loadModel = pyqtSignal(int, object, str, object)  # id, weights spec, device, net or None
    addImages = pyqtSignal(int, list)  # id, list[ImageSource]
    removeView = pyqtSignal(int, int)  # id, index
    replaceView = pyqtSignal(int, int, object)  # id, index, ImageSource
    moveView = pyqtSignal(int, int, int)  # id, from, to
    reset = pyqtSignal(int)  # id
    setThreshold = pyqtSignal(int, float)  # id, threshold
    setGroundTruth = pyqtSignal(int, object)  # id, occupancy or None
    setBand = pyqtSignal(int, float, float)  # id, low, high: the uncertain band of P
    setSeen = pyqtSignal(int, bool)  # id, whether steps split seen / inferred voxels
    prepareView = pyqtSignal(int, int, object, bool)  # id, index, PrepSettings, apply
    rankViews = pyqtSignal(int, list, bool, int)  # id, ImageSources, add the best, from step
    # (the number of views whose state the candidates continue; -1: all)
    orderSpread = pyqtSignal(int, int, int)  # id, number of orders (0: forget), seed
    loadCompare = pyqtSignal(int, object, str)  # id, second weights (None: close), device

    # results
    snapshot = pyqtSignal(object)  # Snapshot
    failed = pyqtSignal(str, str)  # title, one-line message
    progress = pyqtSignal(str, float)  # what, fraction in [0, 1] (-1: unknown)
    modelLoaded = pyqtSignal(str, str)  # model name, device
    prepared = pyqtSignal(int, int, object)  # job id, view index, images.PreparedView
    jobDone = pyqtSignal(int)  # job id (always emitted, after success, failure or cancel)
    ranked = pyqtSignal(int, list, int)  # job id, next_view.ViewGain list, index added or -1
    compareLoaded = pyqtSignal(str)  # the second model's name ("": comparison closed)

    def __init__(self, threshold: float = 0.4) -> None:
        super().__init__()
        self.session: Any = None
        self.threshold = threshold
        self.ground_truth: np.ndarray | None = None
        self.band: tuple[float, float] = DEFAULT_BAND
        self.seen = False  # split seen / inferred voxels (ray casting: only when shown)
        self.waiting: list[tuple[np.ndarray, str]] = []  # decoded views, no model yet
        self.records: list[Any] = []  # sequence.SequenceView of every view (then waiting)
        self.cancelled_upto = 0  # jobs with an id <= this are skipped / stopped
        self._job = 0
        self._scenes: dict[int, tuple[Any, StepScene]] = {}  # id(Step) -> (Step, scene)
        self._threads_set = False
        self._plot: tuple[Any, tuple[Any, ...]] | None = None
        self.compare: Any = None  # a second ReconstructionSession following the views
        self._compare_scenes: dict[int, tuple[Any, StepScene]] = {}
        self._spread: tuple[Any, Any] | None = None  # (what it was computed for, spread)
        for signal, slot in ((self.loadModel, self._load_model), (self.addImages, self._add),
                             (self.removeView, self._remove), (self.replaceView, self._replace),
                             (self.moveView, self._move), (self.reset, self._reset),
                             (self.setThreshold, self._set_threshold),
                             (self.setGroundTruth, self._set_ground_truth),
                             (self.setBand, self._set_band),
                             (self.setSeen, self._set_seen),
                             (self.prepareView, self._prepare_view),
                             (self.rankViews, self._rank_views),
                             (self.orderSpread, self._order_spread),
                             (self.loadCompare, self._load_compare)):
            signal.connect(slot)

    # --- job plumbing ----------------------------------------------------------------
    def _begin(self, job: int) -> bool:
        self._job = job
        if not self._threads_set:
            from .imports import import_heavy

            import_heavy()  # torch, VTK, matplotlib: here, while the window is up
            import torch

            torch.set_num_threads(_threads())
            self._threads_set = True
        return job > self.cancelled_upto

    def check_cancelled(self) -> None:
        """Raise JobCancelled when the running job was cancelled (call between steps)."""
        if self._job <= self.cancelled_upto:
            raise JobCancelled()

    def _finish(self, job: int, title: str, exc: BaseException | None) -> None:
        if isinstance(exc, JobCancelled):
            self._emit()
        elif exc is not None:
            if not isinstance(exc, (OSError, ValueError, LookupError, NoModel, TypeError)):
                traceback.print_exception(exc)  # unexpected: keep the details for a report
            self.failed.emit(title, _one_line(exc))
        self.jobDone.emit(job)

    def _run(self, job: int, title: str, fn: Any, *args: Any) -> None:
        exc = None
        try:
            if self._begin(job):
                fn(*args)
        except Exception as e:  # shown to the user, never kills the app
            exc = e
        self._finish(job, title, exc)

    # --- slots (one per job) -----------------------------------------------------------
    @pyqtSlot(int, object, str, object)
    def _load_model(self, job: int, spec: Any, device: str, net: Any) -> None:
        self._run(job, "Cannot load weights", self._do_load_model, spec, device, net)

    @pyqtSlot(int, list)
    def _add(self, job: int, sources: list) -> None:
        self._run(job, "Cannot add image", self._do_add, sources)

    @pyqtSlot(int, int)
    def _remove(self, job: int, i: int) -> None:
        self._run(job, "Cannot remove view", self._do_remove, i)

    @pyqtSlot(int, int, object)
    def _replace(self, job: int, i: int, source: Any) -> None:
        self._run(job, "Cannot replace view", self._do_replace, i, source)

    @pyqtSlot(int, int, int)
    def _move(self, job: int, i: int, j: int) -> None:
        self._run(job, "Cannot move view", self._do_move, i, j)

    @pyqtSlot(int)
    def _reset(self, job: int) -> None:
        self._run(job, "Cannot start over", self._do_reset)

    @pyqtSlot(int, float)
    def _set_threshold(self, job: int, threshold: float) -> None:
        self._run(job, "Cannot change the threshold", self._do_set_threshold, threshold)

    @pyqtSlot(int, object)
    def _set_ground_truth(self, job: int, occupancy: Any) -> None:
        self._run(job, "Cannot show the ground truth", self._do_set_ground_truth, occupancy)

    @pyqtSlot(int, float, float)
    def _set_band(self, job: int, low: float, high: float) -> None:
        self._run(job, "Cannot change the uncertain band", self._do_set_band, (low, high))

    @pyqtSlot(int, bool)
    def _set_seen(self, job: int, on: bool) -> None:
        self._run(job, "Cannot tell seen from inferred voxels", self._do_set_seen, on)

    @pyqtSlot(int, int, object, bool)
    def _prepare_view(self, job: int, i: int, settings: Any, apply: bool) -> None:
        self._run(job, "Cannot prepare the view", self._do_prepare_view, i, settings, apply)

    @pyqtSlot(int, list, bool, int)
    def _rank_views(self, job: int, sources: list, add_best: bool, after: int) -> None:
        self._run(job, "Cannot rank the candidate views", self._do_rank_views, sources,
                  add_best, None if after < 0 else after)

    @pyqtSlot(int, int, int)
    def _order_spread(self, job: int, k: int, seed: int) -> None:
        self._run(job, "Cannot try other view orders", self._do_order_spread, k, seed)

    @pyqtSlot(int, object, str)
    def _load_compare(self, job: int, spec: Any, device: str) -> None:
        self._run(job, "Cannot compare with these weights", self._do_load_compare, spec,
                  device)

    # --- the jobs themselves (plain methods: callable directly in tests) --------------
    def _do_load_model(self, spec: Any, device: str, net: Any = None) -> None:
        from ..session import ReconstructionSession

        what = "Loading model"
        if net is None and str(spec).lower().endswith(".npy"):
            what = "Converting official weights"
        self.progress.emit(what, -1.0)
        if net is not None:
            session = ReconstructionSession(net=net, device=device)
        else:
            session = ReconstructionSession.from_weights(
                spec, device, progress=lambda f: self.progress.emit(what, float(f)))
        old = self.session
        pending = [(v, lab) for v, lab in zip(old.views, old.labels, strict=True)] \
            if old is not None else []
        pending += self.waiting
        self.session, self.waiting = session, []
        self._scenes.clear()
        self.modelLoaded.emit(session.model_name, str(session.torch_device))
        self._step_views(pending)

    def _step_views(self, views: list[tuple[np.ndarray, str]]) -> None:
        session = self.session
        self._emit()
        for k, (image, label) in enumerate(views):
            try:
                self.check_cancelled()
            except JobCancelled:
                self.waiting = []
                del self.records[len(session):]
                raise
            self.progress.emit(f"Running step {len(session) + 1}",
                               k / len(views) if len(views) > 1 else -1.0)
            session.add_view(image, label)
            self._emit()

    def _do_add(self, sources: list[ImageSource]) -> None:
        from dataclasses import replace

        from ..images import prepare_photo
        from ..sequence import view_from_source

        decoded = []
        for src in sources:
            self.check_cancelled()
            self.progress.emit(f"Reading {src.label}", -1.0)
            try:
                view = prepare_photo(src.source, src.settings, self.check_cancelled).view
                record = replace(view_from_source(src.source, src.label, src.settings),
                                 camera=src.camera)
                decoded.append((view, src.label))
                self.records.append(record)
            except JobCancelled:
                raise
            except Exception as exc:  # bad file: say so, keep the earlier steps
                msg = _one_line(exc)
                self.failed.emit("Cannot add image",
                                 msg if src.label in msg else f"{src.label}: {msg}")
                continue
            if self.session is not None:
                self._step_views(decoded[-1:])
            else:
                self.waiting.append(decoded[-1])
                self._emit()
        if decoded and self.session is None:
            raise NoModel(f"no model is loaded: {len(self.waiting)} view(s) wait for one "
                          "(File \u2192 Use the bundled model, or Open weights\u2026)")

    def _do_remove(self, i: int) -> None:
        if self.session is None and 0 <= i < len(self.waiting):
            del self.waiting[i]
        else:
            self._need_session().remove_view(i)
        if 0 <= i < len(self.records):
            del self.records[i]
        self._emit()

    def _do_replace(self, i: int, src: ImageSource) -> None:
        from dataclasses import replace

        from ..images import prepare_photo
        from ..sequence import view_from_source

        session = self._need_session()
        view = prepare_photo(src.source, src.settings, self.check_cancelled).view
        session.replace_view(i, view, src.label)
        if 0 <= i < len(self.records):
            self.records[i] = replace(view_from_source(src.source, src.label, src.settings),
                                      camera=src.camera)
        self._emit()

    def _do_prepare_view(self, i: int, settings: Any, apply: bool) -> None:
        """Prepare view ``i``'s picture with ``settings`` and hand the result to the
        editor; with ``apply``, replace the view (steps from ``i`` on are recomputed)."""
        from dataclasses import replace

        if not 0 <= i < len(self.records):
            raise IndexError(f"view {i + 1} does not exist")
        record = self.records[i]
        self.progress.emit(f"Preparing view {i + 1}", -1.0)
        settings = settings if settings is not None else record.settings
        prepared = replace(record, settings=settings).prepare(self.check_cancelled)
        self.check_cancelled()  # a cancelled preparation changes nothing
        self.prepared.emit(self._job, i, prepared)
        if apply:
            session = self._need_session()
            self.progress.emit(f"Running steps {i + 1}..{len(session)}", -1.0)
            session.replace_view(i, prepared.view, record.label)
            self.records[i] = replace(record, settings=settings)
            self._emit()

    def _do_move(self, i: int, j: int) -> None:
        self._need_session().move_view(i, j)
        if 0 <= i < len(self.records) and 0 <= j < len(self.records):
            self.records.insert(j, self.records.pop(i))
        self._emit()

    def _do_reset(self) -> None:
        if self.session is not None:
            self.session.reset()
        self.waiting = []
        self.records = []
        self.ground_truth = None
        self._scenes.clear()
        self._spread = None
        self._emit()

    def _do_set_threshold(self, threshold: float) -> None:
        if threshold == self.threshold:
            return
        self.threshold = threshold
        self._scenes.clear()
        self._compare_scenes.clear()
        self._emit()

    def _do_set_band(self, band: tuple[float, float]) -> None:
        from ..analysis import check_band

        band = check_band(band)
        if band == self.band:
            return
        self.band = band
        self._scenes.clear()
        self._compare_scenes.clear()
        self._emit()

    def _do_rank_views(self, sources: list[ImageSource], add_best: bool,
                       after: int | None = None) -> None:
        """Rank ``sources`` by the entropy drop of one trial step each after the first
        ``after`` views (default: all; the session is unchanged); with ``add_best``, then
        put the best in as view ``after + 1`` (a view of the sequence is moved there)."""
        from ..images import prepare_photo
        from ..next_view import rank_next_views

        session = self._need_session()
        if not sources:
            raise ValueError("there are no candidate views to rank")
        inputs = []
        for k, src in enumerate(sources):
            self.check_cancelled()
            self.progress.emit(f"Reading candidate {k + 1} of {len(sources)}",
                               k / len(sources))
            if src.position is not None:  # a later view of the sequence: its own input
                if not 0 <= src.position < len(session):
                    raise ValueError(f"{src.label}: no longer among the views")
                inputs.append(session.views[src.position])
                continue
            try:
                inputs.append(prepare_photo(src.source, src.settings).view)
            except Exception as exc:  # noqa: BLE001 - named in one line
                raise ValueError(f"{src.label}: {_one_line(exc)}") from exc
        self.progress.emit(f"Trying {len(sources)} candidate views", -1.0)
        gains = rank_next_views(session, inputs, [s.label for s in sources], after=after,
                                check_cancelled=self.check_cancelled,
                                progress=lambda f: self.progress.emit(
                                    f"Trying {len(sources)} candidate views", f))
        added = gains[0].index if add_best else -1
        self.ranked.emit(self._job, gains, added)
        if added < 0:
            return
        best, end = sources[added], len(session)
        target = end if after is None else after
        if best.position is not None:
            self._do_move(best.position, target)
        else:
            self._do_add([best])
            if target < end and len(session) == end + 1:
                self._do_move(end, target)

    def _do_order_spread(self, k: int, seed: int) -> None:
        """IoU (or voxel count) at every step of ``k`` random orders of the views;
        ``k == 0`` forgets the spread."""
        from ..view_order import order_spread

        if k == 0:
            self._spread = None
            self._emit()
            return
        session = self._need_session()
        if len(session) < 2:
            raise ValueError("other orders need at least two views")
        what = f"Trying {k} view orders"
        self.progress.emit(what, 0.0)
        spread = order_spread(session, k, self.ground_truth, self.threshold, seed,
                              check_cancelled=self.check_cancelled,
                              progress=lambda f: self.progress.emit(what, f))
        self._spread = (self._spread_key(), spread)
        self._emit()

    def _do_load_compare(self, spec: Any, device: str) -> None:
        """Load a second model that follows the views (None: stop comparing)."""
        from ..session import ReconstructionSession

        if spec is None:
            self.compare = None
            self._compare_scenes.clear()
            self.compareLoaded.emit("")
            self._emit()
            return
        self.progress.emit("Loading the second model", -1.0)
        compare = ReconstructionSession.from_weights(
            spec, device, progress=lambda f: self.progress.emit("Loading the second model",
                                                                float(f)))
        if isinstance(spec, (str, os.PathLike)) and str(spec) != "default":
            compare.meta["name"] = f"{compare.model_name} ({Path(spec).name})"
        self.compare = compare
        self._compare_scenes.clear()
        self.compareLoaded.emit(compare.model_name)
        self._emit()

    def _spread_key(self) -> tuple[Any, ...]:
        steps = self.session.steps if self.session is not None else []
        return (tuple(id(s) for s in steps), self.threshold, id(self.ground_truth))

    def _do_set_seen(self, on: bool) -> None:
        if on != self.seen:
            self.seen = on
            self._emit()  # adds the split to the steps that lack it

    def _do_set_ground_truth(self, occupancy: np.ndarray | None) -> None:
        self.ground_truth = None
        self._scenes.clear()
        self._compare_scenes.clear()
        try:
            self.ground_truth = None if occupancy is None else check_ground_truth(occupancy)
        finally:
            self._emit()

    # --- helpers -------------------------------------------------------------------
    def _need_session(self) -> Any:
        if self.session is None:
            raise NoModel("no model is loaded: use File \u2192 Use the bundled model, "
                          "or Open weights\u2026")
        return self.session

    def _emit(self) -> None:
        """Build the scenes still missing and send a snapshot to the window."""
        session = self.session
        if session is None:
            self.snapshot.emit(Snapshot([v for v, _ in self.waiting],
                                        [lab for _, lab in self.waiting], [],
                                        self.ground_truth, records=list(self.records)))
            return
        steps = session.steps
        cameras = [getattr(r, "camera", None) for r in self.records]
        scenes, self._scenes = self._step_scenes(steps, self._scenes, cameras)
        ious = [s.iou for s in scenes if s.iou is not None]
        compare_scenes = self._compare_step_scenes(session, cameras)
        compare_ious = [s.iou for s in compare_scenes if s.iou is not None]
        if self._spread is not None and self._spread[0] != self._spread_key():
            self._spread = None  # the views or the threshold changed: stale
        spread = self._spread[1] if self._spread is not None else None
        values: list[float] = ious
        if not ious and spread is not None:  # no truth: the spread is of the voxel count
            values = [float((s.probabilities >= self.threshold).sum()) for s in steps]
        plot: tuple[Any, ...] = (None, [], (0.0, 0.0))
        if values:
            key = (values, compare_ious, id(spread))
            if self._plot is None or self._plot[0] != key:
                from .plot import iou_plot_frame

                self._plot = (key, iou_plot_frame(
                    values, compare=compare_ious or None,
                    compare_label=self.compare.model_name if self.compare else "",
                    spread=spread, ylabel="IoU" if ious else f"voxels \u2265 {self.threshold:.2f}"))
            plot = self._plot[1]
        self.snapshot.emit(Snapshot(session.views, session.labels, scenes, self.ground_truth,
                                    steps, ious, *plot, records=list(self.records),
                                    compare_scenes=compare_scenes, compare_ious=compare_ious,
                                    compare_name=self.compare.model_name if self.compare
                                    else "", spread=spread, plot_values=values))

    def _compare_step_scenes(self, session: Any, cameras: list[Any]) -> list[StepScene]:
        """The second model's scenes of the same views (it runs the steps it lacks), with
        the seen / inferred split of its own reconstruction while that mode is shown
        (``cameras``: the views' known cameras)."""
        from ..compare import mirror_views

        if self.compare is None:
            return []
        mirror_views(self.compare, session.views, session.labels)
        scenes, self._compare_scenes = self._step_scenes(self.compare.steps,
                                                         self._compare_scenes, cameras)
        return scenes

    def _step_scenes(
        self, steps: list[Any], cache: dict[int, tuple[Any, StepScene]], cameras: list[Any],
    ) -> tuple[list[StepScene], dict[int, tuple[Any, StepScene]]]:
        """The scene of each of ``steps``: from ``cache`` (keyed by the step object) where
        it holds that step, else built; the seen / inferred split added while that mode is
        shown (``cameras``: the views' known cameras). Returns the scenes and the new cache
        (only these steps)."""
        from ..scene import build_step_scene, with_seen

        scenes: list[StepScene] = []
        fresh: dict[int, tuple[Any, StepScene]] = {}
        prev = None
        for step in steps:
            cached = cache.get(id(step))
            scene = cached[1] if cached is not None and cached[0] is step else None
            seen_cameras = cameras[:step.index] if self.seen else None
            if scene is None:
                scene = build_step_scene(
                    step.probabilities, prev, step.update_gate, self.threshold, step.index,
                    step.ms, self.ground_truth, self.band, seen_cameras,
                )
            elif seen_cameras is not None and not scene.seen_known:
                self.check_cancelled()
                scene = with_seen(scene, step.probabilities, seen_cameras)
            fresh[id(step)] = (step, scene)
            scenes.append(scene)
            prev = step.probabilities
        return scenes, fresh


class Worker(QObject):
    """The main thread's handle on an :class:`InferenceWorker` in its own thread.

    Typed methods queue one job each; ``pending`` counts jobs not yet done; ``idle``
    fires when none is left."""

    idle = pyqtSignal()

    def __init__(self, threshold: float = 0.4, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.qthread = QThread()  # no parent: it may outlive the window (see shutdown)
        self.qthread.setObjectName("r2n2-inference")
        self.jobs = InferenceWorker(threshold)
        self.jobs.moveToThread(self.qthread)
        self.jobs.jobDone.connect(self._on_done)
        self._next = 0
        self._pending: set[int] = set()
        self.qthread.start()

    # --- jobs ----------------------------------------------------------------------
    def _id(self) -> int:
        self._next += 1
        self._pending.add(self._next)
        return self._next

    def load_model(self, spec: Any = "default", device: str = "auto", net: Any = None) -> int:
        job = self._id()
        self.jobs.loadModel.emit(job, spec, device, net)
        return job

    def add_images(self, sources: list[ImageSource]) -> int:
        job = self._id()
        self.jobs.addImages.emit(job, list(sources))
        return job

    def remove_view(self, i: int) -> int:
        job = self._id()
        self.jobs.removeView.emit(job, int(i))
        return job

    def replace_view(self, i: int, source: ImageSource) -> int:
        job = self._id()
        self.jobs.replaceView.emit(job, int(i), source)
        return job

    def move_view(self, i: int, j: int) -> int:
        job = self._id()
        self.jobs.moveView.emit(job, int(i), int(j))
        return job

    def reset(self) -> int:
        job = self._id()
        self.jobs.reset.emit(job)
        return job

    def set_threshold(self, threshold: float) -> int:
        job = self._id()
        self.jobs.setThreshold.emit(job, float(threshold))
        return job

    def set_band(self, band: tuple[float, float]) -> int:
        """Rebuild the uncertain-band layer of every step for ``band`` = (low, high)."""
        job = self._id()
        self.jobs.setBand.emit(job, float(band[0]), float(band[1]))
        return job

    def set_seen(self, on: bool) -> int:
        """Split every step's voxels into seen / inferred (while the seen mode is shown)."""
        job = self._id()
        self.jobs.setSeen.emit(job, bool(on))
        return job

    def prepare_view(self, i: int, settings: Any = None, apply: bool = False) -> int:
        """Prepare view ``i`` with ``settings`` (``prepared`` answers); with ``apply``
        the view is replaced and the steps from ``i`` on recomputed."""
        job = self._id()
        self.jobs.prepareView.emit(job, int(i), settings, bool(apply))
        return job

    def rank_views(self, sources: list[ImageSource], add_best: bool = False,
                   after: int | None = None) -> int:
        """Rank candidate views as step ``after + 1`` (default: the next step; ``ranked``
        answers); with ``add_best`` put the best in there."""
        job = self._id()
        self.jobs.rankViews.emit(job, list(sources), bool(add_best),
                                 -1 if after is None else int(after))
        return job

    def order_spread(self, k: int, seed: int = 0) -> int:
        """The spread of IoU (or voxels) over ``k`` random view orders (0: forget it)."""
        job = self._id()
        self.jobs.orderSpread.emit(job, int(k), int(seed))
        return job

    def load_compare(self, spec: Any, device: str = "auto") -> int:
        """A second model on the same views (``None``: stop comparing)."""
        job = self._id()
        self.jobs.loadCompare.emit(job, spec, device)
        return job

    def set_ground_truth(self, occupancy: np.ndarray | None) -> int:
        job = self._id()
        self.jobs.setGroundTruth.emit(job, occupancy)
        return job

    # --- state -----------------------------------------------------------------------
    @property
    def pending(self) -> int:
        return len(self._pending)

    @property
    def busy(self) -> bool:
        return bool(self._pending)

    def cancel(self) -> None:
        """Stop the running job at its next step and drop the queued ones."""
        self.jobs.cancelled_upto = self._next  # an int store: safe across threads

    def _on_done(self, job: int) -> None:
        self._pending.discard(job)
        if not self._pending:
            self.idle.emit()

    def shutdown(self, wait_ms: int = 2000) -> bool:
        """Cancel everything and stop the thread; returns True when it stopped within
        ``wait_ms``. A job stuck in a system call (a huge decode, a blocking read) is
        left to finish on its own: the thread is kept alive in ``ORPHANS`` until then,
        so neither the window nor the process ever waits for it or aborts."""
        self.cancel()
        if not self.qthread.isRunning():
            return True
        self.qthread.quit()
        if self.qthread.wait(wait_ms):
            return True
        ORPHANS.append((self.qthread, self.jobs))
        self.qthread.finished.connect(_REAPER.release)
        return False


class _Reaper(QObject):
    """Drops an orphaned thread once it has finished (in the main thread)."""

    @pyqtSlot()
    def release(self) -> None:
        for entry in list(ORPHANS):
            if entry[0].isFinished():
                entry[0].wait()
                ORPHANS.remove(entry)


ORPHANS: list[tuple[QThread, InferenceWorker]] = []  # threads finishing a job after close
_REAPER = _Reaper()


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    msg = text[0] if text else type(exc).__name__
    if isinstance(exc, FileNotFoundError) and exc.filename:
        msg = f"{Path(exc.filename).name}: no such file"
    return msg
