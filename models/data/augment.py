"""The official 3D-R2N2 image preprocessing: background colour, 137->127 crop, flip.

Training: the RGBA rendering is composited onto a random colour (each channel uniform
in [225, 255]), cropped at a random offset to 127x127 and flipped left-right with
probability 1/2. Test: a grey 240 background and the centre crop. Output: float32
(3, 127, 127), RGB, in [0, 1].

The flip mirrors one view, not the voxels: the mirrored view shows a part on one side of
the object on the other side. Where objects are left-right symmetric (most of ShapeNet)
that costs nothing; where a part is on one side only (the procedural set's one-sided
objects) every view's side cue becomes a coin toss, so ``flip=False`` switches it off.
"""

from __future__ import annotations

import numpy as np

from ..config import VIEW_SIZE

TRAIN_BG = (225, 255)  # inclusive range per channel
TEST_BG = 240


def composite(rgba: np.ndarray, background) -> np.ndarray:
    """Alpha-composite an image (H, W, 3|4) onto an RGB colour -> float32 (H, W, 3) in [0, 1].

    Images without an alpha channel are returned as they are (scaled to [0, 1]).
    """
    img = np.asarray(rgba)
    if img.ndim == 2:
        img = np.repeat(img[..., None], 3, axis=2)
    rgb = img[..., :3].astype(np.float32) / 255.0
    if img.shape[2] < 4:
        return rgb
    a = img[..., 3:4].astype(np.float32) / 255.0
    bg = np.asarray(background, np.float32).reshape(1, 1, 3) / 255.0
    return rgb * a + bg * (1.0 - a)


def preprocess(rgba: np.ndarray, train: bool, rng: np.random.Generator | None = None,
               crop: int = VIEW_SIZE, flip: bool = True) -> np.ndarray:
    """One network input (3, crop, crop) float32 from an RGBA rendering (H, W, 4).

    ``train`` picks the official training augmentation (needs ``rng``); otherwise the
    deterministic test transform; ``flip=False`` keeps training's colour and crop but
    never mirrors. Images smaller than ``crop`` are an error.
    """
    h, w = rgba.shape[:2]
    if h < crop or w < crop:
        raise ValueError(f"image {w}x{h} is smaller than the {crop}x{crop} crop")
    if train:
        if rng is None:
            raise ValueError("training augmentation needs an rng")
        bg = rng.integers(TRAIN_BG[0], TRAIN_BG[1] + 1, size=3)
        y0 = int(rng.integers(0, h - crop + 1))
        x0 = int(rng.integers(0, w - crop + 1))
        mirror = bool(rng.random() < 0.5) and flip
    else:
        bg = (TEST_BG,) * 3
        y0, x0, mirror = (h - crop) // 2, (w - crop) // 2, False
    img = composite(rgba[y0 : y0 + crop, x0 : x0 + crop], bg)
    if mirror:
        img = img[:, ::-1]
    return np.ascontiguousarray(img.transpose(2, 0, 1))
