"""Sequences and the input editor in the real window: own photos after a demo ask first
and drop its ground truth; Save / Open sequence gives the same steps; the .npz export;
editing view k recomputes steps k.. only (crop, strokes, segmentation off)."""

from __future__ import annotations

import numpy as np
import pytest
from gui_helpers import WAIT_MS, wait_idle
from PIL import Image

from r2n2_viewer.gui.sequences import ADD, CANCEL, NEW


@pytest.fixture(scope="module")
def photos(tmp_path_factory) -> list[str]:
    """Four opaque 'photos': a coloured box on a plain light background (240x180)."""
    folder = tmp_path_factory.mktemp("photos")
    rng = np.random.default_rng(5)
    out = []
    for i in range(4):
        px = np.full((180, 240, 3), 235, np.uint8)
        px[40 + 5 * i:150, 60:170 - 8 * i] = rng.integers(0, 150, 3)
        path = folder / f"photo_{i + 1}.jpg"
        Image.fromarray(px).save(path, quality=95)
        out.append(str(path))
    return out


def _demo(w, qtbot, images):
    truth = np.zeros((32, 32, 32), bool)
    truth[8:24, 8:24, 8:24] = True
    w.inputs.load_sequence(images[:3], truth, "the demo \u201ctest\u201d")
    wait_idle(qtbot, w)
    assert w.snapshot.ground_truth is not None and len(w.snapshot.ious) == 3


def test_own_photo_after_demo_asks_and_starts_a_new_sequence(make_window, qtbot, ckpt,
                                                              images, photos):
    w = make_window(ckpt)
    _demo(w, qtbot, images)
    asked = []
    w.inputs.ask = lambda origin: asked.append(origin) or CANCEL
    w.add_paths(photos[:1])
    wait_idle(qtbot, w)
    assert asked == ["the demo \u201ctest\u201d"] and len(w.snapshot.steps) == 3
    w.inputs.ask = lambda origin: asked.append(origin) or NEW
    w.add_paths(photos[:1])
    wait_idle(qtbot, w)
    snap = w.snapshot
    assert len(asked) == 2, w.errors.text
    assert not w.errors.showing, w.errors.text
    assert [lab for lab in snap.labels] == ["photo_1.jpg"] and len(snap.steps) == 1
    assert snap.ground_truth is None and snap.ious == [] and not w.state.truth_available
    w.add_paths(photos[1:2])  # the sequence is now the user's: no question
    wait_idle(qtbot, w)
    assert len(asked) == 2 and len(w.snapshot.steps) == 2


def test_add_to_the_demo_keeps_its_ground_truth(make_window, qtbot, ckpt, images, photos):
    w = make_window(ckpt)
    _demo(w, qtbot, images)
    w.inputs.ask = lambda origin: ADD
    w.add_paths(photos[:1])
    wait_idle(qtbot, w)
    assert len(w.snapshot.steps) == 4 and len(w.snapshot.ious) == 4


def test_save_open_sequence_same_steps_and_npz(make_window, qtbot, ckpt, photos, tmp_path):
    from r2n2_viewer.images import PrepSettings

    w = make_window(ckpt)
    w.add_paths(photos[:3])
    wait_idle(qtbot, w)
    w.worker.prepare_view(1, PrepSettings(segment="none", crop_box=(30, 20, 200, 170)),
                          apply=True)
    wait_idle(qtbot, w)
    w.state.update(threshold=0.3)
    before = [s.probabilities.copy() for s in w.snapshot.steps]
    saved = w.sequences.save(tmp_path / "mine")
    assert saved is not None and saved.name == "mine.r2n2seq"
    npz = tmp_path / "probs.npz"
    assert w.sequences.export_npz(npz)
    with np.load(npz) as z:
        assert sorted(z.files) == ["step1", "step2", "step3"]
        assert np.array_equal(z["step3"], before[2])
    w.clear_views()
    w.state.update(threshold=0.5)
    wait_idle(qtbot, w)
    assert not w.snapshot.steps
    assert w.sequences.open(saved)
    wait_idle(qtbot, w)
    after = [s.probabilities for s in w.snapshot.steps]
    assert len(after) == 3 and w.state.threshold == 0.3
    for p, q in zip(before, after, strict=True):
        assert np.array_equal(p, q)
    assert w.snapshot.records[1].settings.segment == "none"


def test_open_hostile_sequence_shows_one_line(make_window, qtbot, ckpt, tmp_path):
    w = make_window(ckpt)
    bad = tmp_path / "bad.r2n2seq"
    bad.write_bytes(b"not a zip")
    assert not w.sequences.open(bad)
    assert w.errors.title == "Cannot open the sequence"
    assert "not a zip" in w.errors.text and "\n" not in w.errors.text.strip()


def _editor(w, qtbot, k):
    editor = w.edit_input(k)
    qtbot.addWidget(editor)
    qtbot.waitUntil(lambda: editor.prepared is not None, timeout=WAIT_MS)
    wait_idle(qtbot, w)
    return editor


def _same_before(before, after, k):
    for i in range(k):
        assert after[i] is before[i]  # not recomputed: the very same Step objects
    for i in range(k, len(before)):
        assert after[i] is not before[i]


def test_editor_crop_recomputes_from_that_view_only(make_window, qtbot, ckpt, photos):
    w = make_window(ckpt)
    w.add_paths(photos)
    wait_idle(qtbot, w)
    editor = _editor(w, qtbot, 2)
    before, views = list(w.snapshot.steps), list(w.snapshot.views)
    x0, y0, x1, y1 = editor.prepared.crop_box
    editor.set_crop((x0 + 30, y0 + 10, x1 + 30, y1 + 10))
    wait_idle(qtbot, w)
    after = w.snapshot.steps
    _same_before(before, after, 2)
    assert not np.array_equal(w.snapshot.views[2], views[2])
    assert all(w.snapshot.views[i] is views[i] for i in (0, 1, 3))
    assert not np.array_equal(after[2].probabilities, before[2].probabilities)
    assert w.snapshot.records[2].settings.crop_box == (x0 + 30, y0 + 10, x1 + 30, y1 + 10)


def test_editor_strokes_flip_a_region_and_segmentation_off(make_window, qtbot, ckpt, photos):
    w = make_window(ckpt)
    w.add_paths(photos[:3])
    wait_idle(qtbot, w)
    editor = _editor(w, qtbot, 1)
    p0 = editor.prepared
    assert p0.method == "plain"
    k = p0.mask.shape[1] / p0.image_size[0]
    inside = (63, 100)  # a full-picture pixel on the box, near its left edge (x = 60)
    assert p0.mask[int(inside[1] * k), int(inside[0] * k)] == 1
    before = list(w.snapshot.steps)
    editor.add_stroke("background", [(62, y) for y in range(70, 131, 3)])
    qtbot.waitUntil(lambda: editor.prepared is not p0, timeout=WAIT_MS)
    wait_idle(qtbot, w)
    p1 = editor.prepared
    assert p1.mask[int(inside[1] * k), int(inside[0] * k)] == 0  # object -> background
    assert p1.mask.sum() < p0.mask.sum()
    _same_before(before, w.snapshot.steps, 1)
    before = list(w.snapshot.steps)
    editor.set_segment("none")
    qtbot.waitUntil(lambda: editor.prepared is not p1, timeout=WAIT_MS)
    wait_idle(qtbot, w)
    assert editor.prepared.method == "none" and editor.prepared.mask.min() == 1
    assert w.snapshot.records[1].settings.segment == "none"
    _same_before(before, w.snapshot.steps, 1)


def test_editor_cancel_leaves_the_view(make_window, qtbot, ckpt, photos, monkeypatch):
    import time

    import r2n2_viewer.sequence as sequence_mod

    w = make_window(ckpt)
    w.add_paths(photos[:2])
    wait_idle(qtbot, w)
    editor = _editor(w, qtbot, 1)
    before, view = list(w.snapshot.steps), w.snapshot.views[1]
    real = sequence_mod.prepare_photo

    def slow(source, settings=None, cancel_check=None):  # a long one: Cancel lands in it
        time.sleep(1.0)
        return real(source, settings, cancel_check)

    monkeypatch.setattr(sequence_mod, "prepare_photo", slow)
    editor.set_segment("none")
    w.worker.cancel()  # during the preparation: the job stops before it replaces the view
    wait_idle(qtbot, w)
    assert w.snapshot.views[1] is view and w.snapshot.steps[1] is before[1]
    assert w.snapshot.records[1].settings.segment == "auto"
    assert editor.settings.segment == "auto" and editor.segment.currentData() == "auto"
    w.worker.remove_view(1)  # the edited view goes: the editor closes
    wait_idle(qtbot, w)
    qtbot.waitUntil(lambda: not editor.isVisible(), timeout=WAIT_MS)


def test_editor_opens_from_the_strip(make_window, qtbot, ckpt, photos):
    from PyQt6.QtWidgets import QApplication

    from r2n2_viewer.gui.editor import InputEditor

    w = make_window(ckpt)
    w.add_paths(photos[:2])
    wait_idle(qtbot, w)
    w.strip.itemDoubleClicked.emit(w.strip.item(1))
    editors = [x for x in QApplication.topLevelWidgets() if isinstance(x, InputEditor)]
    assert [e.index for e in editors] == [1]
    for e in editors:
        qtbot.addWidget(e)
