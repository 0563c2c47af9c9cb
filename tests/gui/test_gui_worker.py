"""The inference worker on its own thread, without a window: typed jobs in, plain
results out, cancelling, shutting down while a job is stuck."""

from __future__ import annotations

import time

import numpy as np
import pytest

from r2n2_viewer.gui.worker import ORPHANS, ImageSource, Snapshot, Worker

WAIT_MS = 60_000


class Results:
    """Everything a worker sends back."""

    def __init__(self, worker: Worker) -> None:
        self.snapshots: list[Snapshot] = []
        self.failures: list[tuple[str, str]] = []
        self.progress: list[tuple[str, float]] = []
        self.models: list[tuple[str, str]] = []
        worker.jobs.snapshot.connect(self.snapshots.append)
        worker.jobs.failed.connect(lambda t, m: self.failures.append((t, m)))
        worker.jobs.progress.connect(lambda w, f: self.progress.append((w, f)))
        worker.jobs.modelLoaded.connect(lambda n, d: self.models.append((n, d)))

    @property
    def last(self) -> Snapshot:
        return self.snapshots[-1]


@pytest.fixture
def worker(qtbot):
    w = Worker(0.4)
    yield w
    assert w.shutdown(10_000)


def run(qtbot, worker: Worker) -> None:
    qtbot.waitUntil(lambda: not worker.busy, timeout=WAIT_MS)


def sources(paths) -> list[ImageSource]:
    return [ImageSource(p, p.rsplit("/", 1)[-1]) for p in paths]


def test_jobs_and_plain_results(qtbot, worker, ckpt, images):
    got = Results(worker)
    worker.load_model(ckpt, "cpu")
    worker.add_images(sources(images[:3]))
    run(qtbot, worker)
    assert got.models == [("shifted-tiny", "cpu")] and not got.failures
    snap = got.last
    assert snap.labels == ["view_1.png", "view_2.png", "view_3.png"]
    assert [s.index for s in snap.scenes] == [1, 2, 3] and snap.threshold == 0.4
    assert all(not v.flags.writeable for v in snap.views)  # the session's read-only arrays
    first = snap.scenes[0]

    worker.move_view(2, 1)
    run(qtbot, worker)
    assert got.last.labels == ["view_1.png", "view_3.png", "view_2.png"]
    assert got.last.scenes[0] is first  # the unchanged prefix is not rebuilt
    worker.set_threshold(0.7)
    run(qtbot, worker)
    assert got.last.threshold == 0.7
    assert got.last.scenes[2].n_voxels == int((got.last.steps[2].probabilities >= 0.7).sum())
    worker.remove_view(0)
    worker.move_view(7, 0)  # no such view: a message, the worker keeps going
    run(qtbot, worker)
    assert got.last.labels == ["view_3.png", "view_2.png"]
    assert got.failures == [("Cannot move view", "view 7 does not exist (there are 2 views)")]
    worker.reset()
    run(qtbot, worker)
    assert got.last.scenes == [] and got.last.views == []


def test_a_wrong_sized_ground_truth_is_refused_and_nothing_wedges(qtbot, worker, ckpt, images):
    got = Results(worker)
    worker.load_model(ckpt, "cpu")
    worker.set_ground_truth(np.ones((16, 16, 16), bool))
    worker.add_images(sources(images[:2]))
    run(qtbot, worker)
    assert got.failures and "16\u00d716\u00d716" in got.failures[0][1]
    assert len(got.last.scenes) == 2 and got.last.ground_truth is None
    worker.add_images(sources(images[2:4]))
    run(qtbot, worker)
    assert len(got.last.scenes) == 4 and len(got.failures) == 1
    truth = np.zeros((32, 32, 32), bool)
    truth[8:24, 8:24, 8:24] = True
    worker.set_ground_truth(truth)
    run(qtbot, worker)
    assert len(got.last.ious) == 4


def test_views_wait_for_a_model(qtbot, worker, ckpt, images, tmp_path):
    got = Results(worker)
    worker.load_model(str(tmp_path / "missing.safetensors"), "cpu")
    worker.add_images(sources(images[:2]))
    run(qtbot, worker)
    assert got.failures[0][0] == "Cannot load weights"
    assert "missing.safetensors" in got.failures[0][1]
    assert got.last.labels == ["view_1.png", "view_2.png"] and got.last.scenes == []
    worker.load_model(ckpt, "cpu")
    run(qtbot, worker)
    assert [s.index for s in got.last.scenes] == [1, 2]  # decoded once, stepped now


def test_conversion_progress_is_relayed(qtbot, worker, ckpt, tmp_path, monkeypatch):
    import r2n2_viewer.session as session_mod

    real = session_mod.load_model

    def converting_load(spec, device="cpu", progress=None):  # stands in for convert_official
        for f in (0.25, 0.5, 0.75):
            progress(f)
        return real(ckpt, device)

    monkeypatch.setattr(session_mod, "load_model", converting_load)
    got = Results(worker)
    npy = tmp_path / "ResidualGRUNet.npy"
    npy.write_bytes(b"stand-in")
    worker.load_model(str(npy), "cpu")
    run(qtbot, worker)
    fractions = [f for what, f in got.progress if what == "Converting official weights"]
    assert [f for f in fractions if f >= 0] == [0.25, 0.5, 0.75]
    assert got.models and not got.failures


def slow_decode(monkeypatch, seconds: float) -> None:
    import r2n2_viewer.images as images_mod

    real = images_mod.prepare_photo  # what the worker prepares every picture with

    def slow(source, settings=None, cancel_check=None):
        time.sleep(seconds)
        return real(source, settings, cancel_check)

    monkeypatch.setattr(images_mod, "prepare_photo", slow)


def test_cancel_stops_between_views_and_drops_queued_jobs(qtbot, worker, ckpt, images,
                                                          monkeypatch):
    got = Results(worker)
    worker.load_model(ckpt, "cpu")
    run(qtbot, worker)
    slow_decode(monkeypatch, 0.4)
    worker.add_images(sources(images))
    worker.add_images(sources(images[:1]))
    qtbot.waitUntil(lambda: got.snapshots and len(got.last.scenes) >= 1, timeout=WAIT_MS)
    worker.cancel()
    run(qtbot, worker)
    assert 1 <= len(got.last.scenes) < 5 and not got.failures
    worker.add_images(sources(images[:1]))  # later jobs run again
    run(qtbot, worker)
    assert got.last.labels[-1] == "view_1.png"


def test_cancel_lands_between_grabcut_iterations(qtbot, worker, ckpt, tmp_path, monkeypatch):
    import cv2
    from PIL import Image

    from r2n2_viewer.images import PrepSettings

    rng = np.random.default_rng(0)
    room = rng.integers(0, 256, (150, 200, 3), dtype=np.uint8)  # a busy backdrop
    room[50:100, 70:130] = (200, 40, 40)
    path = tmp_path / "room.png"
    Image.fromarray(room).save(path)
    got = Results(worker)
    prepared = []
    worker.jobs.prepared.connect(lambda job, i, p: prepared.append(p))
    worker.load_model(ckpt, "cpu")
    worker.add_images(sources([str(path)]))
    run(qtbot, worker)
    before = got.last.views[0]
    calls = []
    real = cv2.grabCut

    def slow(*args):  # each GrabCut iteration takes 0.3 s: a big, busy photo
        calls.append(1)
        time.sleep(0.3)
        return real(*args)

    monkeypatch.setattr(cv2, "grabCut", slow)
    worker.prepare_view(0, PrepSettings(segment="grabcut"), apply=True)
    qtbot.waitUntil(lambda: len(calls) >= 2, timeout=WAIT_MS)
    worker.cancel()
    run(qtbot, worker)
    assert 2 <= len(calls) <= 3  # of 8 (two passes of four): it stopped at the next one
    assert not prepared and not got.failures
    assert got.last.views[0] is before


def test_shutdown_never_waits_for_a_stuck_job(qtbot, ckpt, images, monkeypatch):
    worker = Worker(0.4)
    worker.load_model(ckpt, "cpu")
    run(qtbot, worker)
    slow_decode(monkeypatch, 4.0)  # e.g. a 48-megapixel photo: no step to cancel at
    worker.add_images(sources(images[:1]))
    time.sleep(0.3)
    t0 = time.perf_counter()
    assert not worker.shutdown(500)
    assert time.perf_counter() - t0 < 1.5
    assert len(ORPHANS) == 1
    del worker
    qtbot.waitUntil(lambda: not ORPHANS, timeout=WAIT_MS)  # released once it finished
