"""Sequence files: save -> open gives the same inputs and the same steps; hostile files
are refused with one line."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest
from factories import box_views

from r2n2_viewer.images import PrepSettings
from r2n2_viewer.sequence import (
    Sequence,
    SequenceError,
    read_sequence,
    save_sequence,
    view_from_source,
)
from r2n2_viewer.session import ReconstructionSession


@pytest.fixture(scope="module")
def pictures(tmp_path_factory) -> list[str]:
    return box_views(tmp_path_factory.mktemp("seqviews"), 3, size=(200, 160))


def _probabilities(net, seq: Sequence) -> list[np.ndarray]:
    session = ReconstructionSession(net=net, device="cpu")
    for v in seq.views:
        session.add_view(v.prepare().view, v.label)
    return [s.probabilities for s in session.steps]


def test_save_open_same_steps(tmp_path, pictures, tiny_net):
    fg = np.zeros((16, 20), bool)
    fg[5:10, 5:12] = True
    views = [view_from_source(pictures[0], "a"),
             view_from_source(pictures[1], "b", PrepSettings(segment="none",
                                                             crop_box=(10, 20, 150, 140))),
             view_from_source(pictures[2], "c", PrepSettings(segment="grabcut", foreground=fg))]
    seq = Sequence(views, "default", 0.35)
    path = save_sequence(tmp_path / "mine", seq)
    assert path.name == "mine.r2n2seq"
    back = read_sequence(path)
    assert back.weights == "default" and back.threshold == 0.35
    assert [v.label for v in back.views] == ["a", "b", "c"]
    assert back.views[1].settings.segment == "none"
    assert back.views[1].settings.crop_box == (10, 20, 150, 140)
    assert np.array_equal(back.views[2].settings.foreground, fg)
    assert back.views[0].image == open(pictures[0], "rb").read()
    before, after = _probabilities(tiny_net, seq), _probabilities(tiny_net, back)
    assert len(after) == 3
    for p, q in zip(before, after, strict=True):
        assert np.array_equal(p, q)
    # the settings matter: the cropped view is not the automatic one
    auto = view_from_source(pictures[1], "b").prepare().view
    assert not np.array_equal(auto, back.views[1].prepare().view)


def test_missing_weights_noted(tmp_path, pictures):
    seq = Sequence([view_from_source(pictures[0], "a")], str(tmp_path / "gone.safetensors"))
    back = read_sequence(save_sequence(tmp_path / "s.r2n2seq", seq))
    assert back.weights_missing()
    assert not Sequence(back.views, "default").weights_missing()


def _zip(path, manifest, members=None) -> str:
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("sequence.json", manifest if isinstance(manifest, str)
                   else json.dumps(manifest))
        for name, data in (members or {}).items():
            z.writestr(name, data)
    return str(path)


GOOD = {"format": "r2n2-sequence", "version": 1, "weights": "default", "threshold": 0.4,
        "views": [{"image": "views/001.png", "label": "a", "settings": {}}]}


@pytest.mark.parametrize("manifest, expect", [
    ("{not json", "not valid JSON"),
    ({**GOOD, "format": "other"}, "not a sequence file"),
    ({**GOOD, "version": 99}, "version 99"),
    ({**GOOD, "threshold": "high"}, "threshold"),
    ({**GOOD, "views": []}, "non-empty list"),
    ({**GOOD, "views": [{"image": "views/nope.png"}]}, "missing from the archive"),
    ({**GOOD, "views": [{"image": 3}]}, "not a string"),
    ({**GOOD, "views": [{"image": "views/001.png", "settings": {"segment": "magic"}}]},
     "unknown segmentation"),
    ({**GOOD, "views": [{"image": "views/001.png", "settings": {"crop_box": [0, 0, 0, 0]}}]},
     "crop_box"),
    ({**GOOD, "views": [{"image": "views/001.png", "settings": {"background": [1, 2]}}]},
     "background"),
])
def test_hostile_files_one_line(tmp_path, pictures, manifest, expect):
    path = _zip(tmp_path / "bad.r2n2seq", manifest,
                {"views/001.png": open(pictures[0], "rb").read()})
    with pytest.raises(SequenceError) as info:
        read_sequence(path)
    msg = str(info.value)
    assert expect in msg and "\n" not in msg and "bad.r2n2seq" in msg


def test_not_a_zip_and_no_manifest(tmp_path):
    p = tmp_path / "x.r2n2seq"
    p.write_bytes(b"\x80\x04pickle?")
    with pytest.raises(SequenceError, match="not a zip"):
        read_sequence(p)
    q = tmp_path / "y.r2n2seq"
    with zipfile.ZipFile(q, "w") as z:
        z.writestr("other.txt", "hi")
    with pytest.raises(SequenceError, match="sequence.json is missing"):
        read_sequence(q)
    with pytest.raises(SequenceError, match="no such file|No such file"):
        read_sequence(tmp_path / "absent.r2n2seq")


def test_save_is_atomic_on_error(tmp_path, pictures):
    target = tmp_path / "keep.r2n2seq"
    target.write_bytes(b"old")
    with pytest.raises(ValueError):
        save_sequence(target, Sequence([], "default"))
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.r2n2seq"]


def test_cameras_saved_and_read_back_old_files_still_open(tmp_path, pictures):
    from dataclasses import replace

    from r2n2_viewer.cameras import ViewCamera, view_cameras
    from r2n2_viewer.demo import list_demos

    demo = list_demos()[0]
    cams = view_cameras(demo.images[:2])
    assert all(c is not None for c in cams)
    views = [replace(view_from_source(p, f"v{i}"), camera=c)
             for i, (p, c) in enumerate(zip(demo.images[:2], cams, strict=True))]
    views.append(view_from_source(pictures[0], "own photo"))  # no camera
    back = read_sequence(save_sequence(tmp_path / "cams", Sequence(views)))
    assert [v.camera for v in back.views] == [*cams, None]
    assert isinstance(back.views[0].camera, ViewCamera)
    np.testing.assert_allclose(back.views[1].camera.index_camera().position,
                               cams[1].index_camera().position)
    with zipfile.ZipFile(tmp_path / "cams.r2n2seq") as z:
        manifest = json.loads(z.read("sequence.json"))
    assert manifest["version"] == 1 and "camera" not in manifest["views"][2]
    assert manifest["views"][0]["camera"]["line"] == cams[0].line

    # a file written before cameras were stored: no "camera" key at all
    old = _zip(tmp_path / "old.r2n2seq", GOOD, {"views/001.png": open(pictures[0], "rb").read()})
    seq = read_sequence(old)
    assert len(seq.views) == 1 and seq.views[0].camera is None


@pytest.mark.parametrize("camera, expect", [
    ("245 27 0 0.8 49", "\"camera\" must be"),
    ({"line": "1 2 3", "grid": {"translate": [0, 0, 0], "scale": 1}}, "bad camera"),
    ({"line": "245 27 0 0.8 49", "grid": {"translate": [0, 0], "scale": 1}}, "translate"),
    ({"line": "245 27 0 0.8 49", "grid": {"translate": [0, 0, 0], "scale": -1}}, "bad camera"),
    ({"line": "245 27 0 0.8 49", "grid": {"translate": [0, 0, "a"], "scale": 1}},
     "finite number"),
    ({"line": "245 27 0 0.8 49", "grid": {"translate": [0, 0, 0], "scale": 1,
                                          "resolution": True}}, "resolution"),
])
def test_hostile_cameras_one_line(tmp_path, pictures, camera, expect):
    manifest = {**GOOD, "views": [{**GOOD["views"][0], "camera": camera}]}
    path = _zip(tmp_path / "bad.r2n2seq", manifest,
                {"views/001.png": open(pictures[0], "rb").read()})
    with pytest.raises(SequenceError) as info:
        read_sequence(path)
    assert expect in str(info.value) and "\n" not in str(info.value)
