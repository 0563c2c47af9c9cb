"""One framing rule for photos and renderings: models.data.framing, images.py, training."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from r2n2_viewer import images
from r2n2_viewer.models.data import framing
from r2n2_viewer.models.data.augment import composite
from r2n2_viewer.models.data.shapenet import ShapeNetViews
from tests.factories import CHAIR, box_rendering, shapenet_tree


def _rendering() -> np.ndarray:
    """A 137^2 RGBA 'rendering': a two-colour object, low and left of centre, small."""
    rgba = np.zeros((137, 137, 4), np.uint8)
    rgba[70:110, 20:50] = (200, 40, 40, 255)
    rgba[70:80, 20:50] = (40, 40, 200, 255)
    return rgba


def test_mask_box_and_frame_stats():
    a = _rendering()[..., 3]
    assert framing.mask_box(a) == (20, 70, 50, 110)
    dx, dy, fill = framing.frame_stats(a)
    assert (dx, dy) == (35 - 68.5, 90 - 68.5)
    assert fill == pytest.approx(40 / 137)
    assert framing.mask_box(np.zeros((5, 5))) is None
    assert framing.frame_stats(np.zeros((5, 5))) is None


def test_object_frame_centres_and_scales_the_longer_side():
    cx, cy, scale = framing.object_frame((10, 20, 50, 120), 0.5)
    assert (cx, cy) == (30, 70)
    assert scale == pytest.approx(0.5 * 137 / 100)
    with pytest.raises(ValueError, match="empty box"):
        framing.object_frame((3, 3, 3, 3))


def test_reframe_puts_the_object_box_where_the_photo_rule_says():
    out = framing.reframe(_rendering())
    assert out.shape == (137, 137, 4) and out.dtype == np.uint8
    dx, dy, fill = framing.frame_stats(out[..., 3] > 127)
    assert abs(dx) <= 1 and abs(dy) <= 1
    assert fill == pytest.approx(framing.FRAME_FRACTION, abs=2 / 137)
    # colour survives (no darkening by the transparent surround): the middle of the blue
    # top band (the upper quarter of the 82 px box, rows 27..48) is the band's colour
    assert np.abs(out[38, 68].astype(int) - (40, 40, 200, 255)).max() <= 2
    assert np.abs(out[90, 68].astype(int) - (200, 40, 40, 255)).max() <= 2
    # nothing visible: unchanged
    blank = np.zeros((137, 137, 4), np.uint8)
    assert framing.reframe(blank) is not None and not framing.reframe(blank).any()
    with pytest.raises(ValueError, match="RGBA"):
        framing.reframe(np.zeros((137, 137, 3), np.uint8))


def test_a_photo_and_a_reframed_rendering_reach_the_network_alike():
    """The same object as a photo (alpha, not rendering-sized) through images.py and as a
    rendering reframed for training, then composited and centre-cropped at test time."""
    rgba = _rendering()
    photo = np.zeros((160, 150, 4), np.uint8)  # another canvas size: not a 'rendering'
    photo[10:147, 5:142] = rgba
    via_photo = images.load_view(Image.fromarray(photo, "RGBA"))
    framed = framing.reframe(rgba)
    via_training = composite(framed, (240, 240, 240))[5:132, 5:132].transpose(2, 0, 1)
    assert via_photo.shape == via_training.shape == (3, 127, 127)
    # same place and size (the object masks agree), same colours; the two resample in
    # other orders (composite then Lanczos, Lanczos then composite), so edge ringing differs
    m_photo, m_train = (via_photo < 0.9).any(0), (via_training < 0.9).any(0)
    assert (m_photo & m_train).sum() / (m_photo | m_train).sum() >= 0.99
    assert np.abs(via_photo - via_training).mean() <= 2 / 255
    assert np.median(np.abs(via_photo - via_training)[:, m_photo]) <= 1 / 255


def test_training_reframes_the_requested_share_of_sequences(tmp_path):
    root = shapenet_tree(tmp_path, {CHAIR: "chair"}, per_category=5, views=3,
                         image=lambda rng, v: box_rendering(colour=(60, 20, 20)))
    plain = ShapeNetViews(root, "train", train=True, flip=False)
    framed = ShapeNetViews(root, "train", train=True, flip=False, reframe=1.0)
    half = ShapeNetViews(root, "train", train=True, flip=False, reframe=0.5)
    assert np.array_equal(plain[(0, 2, 7)]["images"], ShapeNetViews(
        root, "train", train=True, flip=False, reframe=0.0)[(0, 2, 7)]["images"])

    def fill(ds, key):  # object fill of the first view (background 225..255, object darker)
        img = ds[key]["images"][0].mean(0)
        rows, cols = np.flatnonzero((img < 0.8).any(1)), np.flatnonzero((img < 0.8).any(0))
        return max(rows[-1] - rows[0], cols[-1] - cols[0]) + 1

    fills = [fill(framed, (i, 1, s)) for i in range(2) for s in range(4)]
    assert all(abs(f - 0.6 * 137) <= 3 for f in fills)
    assert all(fill(plain, (0, 1, s)) == 70 for s in range(4))  # the camera's framing
    reframed = sum(abs(fill(half, (0, 1, s)) - 0.6 * 137) <= 3 for s in range(40))
    assert 8 <= reframed <= 32  # about half of 40 sequences
    with pytest.raises(ValueError, match="reframing probability"):
        ShapeNetViews(root, "train", reframe=1.5)
