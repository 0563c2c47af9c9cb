"""A small learned foreground segmenter: which pixels of a photo are the object.

A compact U-Net (:class:`SegmenterNet`, five levels, 8..64 channels, ~0.2 M parameters)
maps an RGB picture to P(object) per pixel. It is trained by
:mod:`models.segmenter_train` (``r2n2 train-segmenter``) on renderings of the training
splits composited over photographic wallpapers, procedural backdrops and plain colours;
the bundled weights (``assets/segmenter.safetensors``) carry their recipe in the file's
metadata.

Inference (:func:`object_probability`) runs twice: on the whole picture reduced to
``SIDE`` pixels on its longer side (where is the object?), then on a square crop around
the object found, reduced to ``SIDE`` pixels (its outline, at about 3x the detail); the
crop's answer replaces the first inside the crop. Weights load with safetensors only: a
file never executes code.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

FORMAT = "r2n2-viewer-segmenter"
SIDE = 128  # pixels on the longer side of what the net sees, in each pass
CROP_FILL = 0.7  # second pass: the object's longer side fills this share of the crop
MAX_FILE_BYTES = 16 << 20  # a segmenter file is ~1 MB; larger ones are refused unread

# How the bundled weights were made; ``r2n2 train-segmenter`` uses these defaults and a
# test checks that the bundled file's metadata says the same.
RECIPE: dict = {
    "channels": [8, 16, 32, 48, 64],
    "patch": 96,
    "batch": 16,
    "steps": 800,
    "lr": 0.003,
    "lr_schedule": "cosine to 0",
    # warm restarts, each a new cosine: 2,500 then 10,000 more steps from 0.001; then
    # 4,000 at 128 px on composites framed as photos are (70 % with the object near the
    # centre, other renderings behind half of those, labelled background); then 2,500 from
    # 0.0005 with more of those, half of them with one larger than the frame (a floor)
    "restart": [
        {"steps": 2500, "lr": 0.001, "lr_schedule": "cosine to 0"},
        {"steps": 10000, "lr": 0.001, "lr_schedule": "cosine to 0"},
        {"steps": 4000, "lr": 0.001, "lr_schedule": "cosine to 0", "patch": 128,
         "centre": 0.7, "distractors": 0.5, "object_fill": [0.2, 0.9]},
        {"steps": 2500, "lr": 0.0005, "lr_schedule": "cosine to 0", "distractors": 0.6,
         "large": 0.5},
    ],
    "weight_decay": 0.0001,
    "loss": "binary cross-entropy + soft IoU on the rendering's alpha",
    "seed": 0,
    "data": "renderings of the train split of each --data dataset, in equal shares",
    "wallpapers": "the train split of --backgrounds (models.data.composites.wallpaper_split)",
    "backdrops": {"wallpaper": 0.7, "procedural": 0.2, "plain": 0.1},
    "object_fill": [0.15, 0.9],
    "augment": "colour jitter 0.3, flip, blur, noise, JPEG q60-95 (p 0.5)",
}


class SegmenterError(ValueError):
    """A segmenter file that cannot be used; the message is one line naming it."""


def _block(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(True),
        nn.Conv2d(cout, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(True),
    )


class SegmenterNet(nn.Module):
    """U-Net: (N, 3, H, W) RGB in [0, 1] -> (N, 1, H, W) object logits. H and W must be
    multiples of 2 ** (levels - 1)."""

    def __init__(self, channels: list[int] | tuple[int, ...] = tuple(RECIPE["channels"])):
        super().__init__()
        ch = list(channels)
        self.down = nn.ModuleList(_block(a, b) for a, b in zip([3] + ch[:-1], ch, strict=True))
        self.up = nn.ModuleList(_block(ch[i + 1] + ch[i], ch[i]) for i in range(len(ch) - 1))
        self.head = nn.Conv2d(ch[0], 1, 1)
        self.register_buffer("mean", torch.tensor([0.5, 0.5, 0.5]).view(1, 3, 1, 1))

    @property
    def multiple(self) -> int:
        return 2 ** (len(self.down) - 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = (x - self.mean) * 4.0
        skips = []
        for i, block in enumerate(self.down):
            x = block(x if i == 0 else F.max_pool2d(x, 2))
            skips.append(x)
        for i in reversed(range(len(self.up))):
            x = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)
            x = self.up[i](torch.cat([x, skips[i]], 1))
        return self.head(x)


# --- files -----------------------------------------------------------------------------
def save_segmenter(net: SegmenterNet, path: str | os.PathLike, recipe: dict,
                   extra: dict | None = None) -> None:
    """Write the weights (float32) with ``recipe`` and ``extra`` as JSON metadata, atomically."""
    from safetensors.torch import save

    from .atomic import atomic_write_bytes

    tensors = {k: v.detach().float().contiguous().clone()
               for k, v in net.state_dict().items() if v.dtype.is_floating_point}
    meta = {"format": FORMAT, "recipe": json.dumps(recipe, sort_keys=True),
            "info": json.dumps(extra or {}, sort_keys=True)}
    atomic_write_bytes(path, save(tensors, metadata=meta))


def read_metadata(path: str | os.PathLike) -> dict:
    """{"recipe": dict, "info": dict} of a segmenter file (its header only)."""
    from safetensors import SafetensorError, safe_open

    p = _checked(path)
    try:
        with safe_open(str(p), framework="pt") as f:
            meta = f.metadata() or {}
    except (SafetensorError, OSError, ValueError) as exc:
        raise SegmenterError(f"{p}: not a safetensors file ({_first_line(exc)})") from None
    if meta.get("format") != FORMAT:
        raise SegmenterError(f"{p}: not a segmenter file (no {FORMAT!r} metadata); "
                             "make one with `r2n2 train-segmenter`")
    try:
        return {"recipe": json.loads(meta["recipe"]), "info": json.loads(meta.get("info", "{}"))}
    except (KeyError, json.JSONDecodeError):
        raise SegmenterError(f"{p}: the segmenter's recipe metadata is unreadable") from None


def load_segmenter(path: str | os.PathLike) -> SegmenterNet:
    """A segmenter from a safetensors file (eval mode, CPU); :class:`SegmenterError` with
    one line if the file is not one (wrong format, missing or misshapen tensors)."""
    from safetensors import SafetensorError
    from safetensors.torch import load

    p = _checked(path)
    recipe = read_metadata(p)["recipe"]
    try:
        net = SegmenterNet(recipe["channels"])
    except (KeyError, TypeError, ValueError, RuntimeError):
        raise SegmenterError(f"{p}: the recipe names no usable channel list") from None
    try:
        tensors = load(p.read_bytes())
    except (SafetensorError, OSError, ValueError) as exc:
        raise SegmenterError(f"{p}: not a safetensors file ({_first_line(exc)})") from None
    own = {k: v for k, v in net.state_dict().items() if v.dtype.is_floating_point}
    missing = sorted(set(own) - set(tensors))
    unexpected = sorted(set(tensors) - set(own))
    if missing or unexpected:
        raise SegmenterError(f"{p}: tensors do not match the network "
                             f"(missing {missing[:3]}, unexpected {unexpected[:3]})")
    for k, v in tensors.items():
        if tuple(v.shape) != tuple(own[k].shape):
            raise SegmenterError(f"{p}: tensor {k} has shape {tuple(v.shape)}, "
                                 f"the network needs {tuple(own[k].shape)}")
        if not torch.isfinite(v).all():
            raise SegmenterError(f"{p}: tensor {k} holds NaN or infinite values")
    net.load_state_dict(tensors, strict=False)
    return net.eval()


def _checked(path: str | os.PathLike) -> Path:
    p = Path(path)
    if not p.is_file():
        raise SegmenterError(f"{p}: no such segmenter file")
    if p.stat().st_size > MAX_FILE_BYTES:
        raise SegmenterError(f"{p}: {p.stat().st_size >> 20} MB is too large for a "
                             "segmenter file")
    return p


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


# --- inference -------------------------------------------------------------------------
@torch.no_grad()
def _logits(net: SegmenterNet, rgb: np.ndarray) -> np.ndarray:
    """Logits (h, w) of an (h, w, 3) uint8 picture, padded to the net's multiple."""
    h, w = rgb.shape[:2]
    m = net.multiple
    ph, pw = -h % m, -w % m
    x = torch.from_numpy(np.ascontiguousarray(rgb)).permute(2, 0, 1)[None].float() / 255.0
    if ph or pw:
        x = F.pad(x, (pw // 2, pw - pw // 2, ph // 2, ph - ph // 2), mode="replicate")
    out = net(x)[0, 0]
    return out[ph // 2 : ph // 2 + h, pw // 2 : pw // 2 + w].numpy()


def object_probability(net: SegmenterNet, rgb: np.ndarray, side: int = SIDE,
                       cancel_check: Callable[[], None] | None = None) -> np.ndarray:
    """P(object) (H, W) float32 of an (H, W, 3) uint8 RGB picture: a pass over the whole
    picture at ``side`` pixels, then one over a square crop about the object it found
    (the object filling ``CROP_FILL`` of it), pasted back over the first."""
    import cv2

    H, W = rgb.shape[:2]
    r = side / max(H, W)
    sw, sh = max(8, round(W * r)), max(8, round(H * r))
    small = cv2.resize(rgb, (sw, sh), interpolation=cv2.INTER_AREA)
    coarse = _logits(net, small)
    logit = cv2.resize(coarse, (W, H), interpolation=cv2.INTER_LINEAR)
    box = _object_box(coarse > 0)
    if box is not None:
        if cancel_check is not None:
            cancel_check()
        x0, y0, x1, y1 = (v / r for v in box)
        half = max(x1 - x0, y1 - y0) / CROP_FILL / 2
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        k = 2 * half / side  # picture pixels per crop pixel
        if k > 1:  # shrinking: pixel averaging, no aliasing
            crop = _area_crop(rgb, cx, cy, half, side)
        else:  # crop pixel (u, v) <- picture (cx - half + u * k, cy - half + v * k)
            m = np.float32([[k, 0, cx - half], [0, k, cy - half]])
            crop = cv2.warpAffine(rgb, m, (side, side),
                                  flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                                  borderMode=cv2.BORDER_REPLICATE)
        fine = _logits(net, crop)
        # back onto the picture: picture pixel (x, y) <- crop ((x - cx + half) / k, ...)
        inv = np.float32([[1 / k, 0, (half - cx) / k], [0, 1 / k, (half - cy) / k]])
        flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
        inside = cv2.warpAffine(np.ones((side, side), np.float32), inv, (W, H), flags=flags,
                                borderMode=cv2.BORDER_CONSTANT, borderValue=0.0)
        back = cv2.warpAffine(fine, inv, (W, H), flags=flags,
                              borderMode=cv2.BORDER_REPLICATE)
        logit = np.where(inside > 0.5, back, logit)
    return (1.0 / (1.0 + np.exp(-np.clip(logit, -30, 30)))).astype(np.float32)


def _area_crop(rgb: np.ndarray, cx: float, cy: float, half: float, side: int) -> np.ndarray:
    """The square (cx +- half, cy +- half) of ``rgb`` reduced to side x side by pixel
    averaging (edge pixels repeated where the square leaves the picture)."""
    import cv2

    H, W = rgb.shape[:2]
    x0, y0 = int(np.floor(cx - half)), int(np.floor(cy - half))
    n = int(np.ceil(2 * half)) + 1
    padded = cv2.copyMakeBorder(rgb, max(0, -y0), max(0, y0 + n - H), max(0, -x0),
                                max(0, x0 + n - W), cv2.BORDER_REPLICATE)
    ox, oy = max(0, -x0), max(0, -y0)
    sq = padded[y0 + oy : y0 + oy + n, x0 + ox : x0 + ox + n]
    # sub-pixel start: shift by the fraction before reducing
    fx, fy = (cx - half) - x0, (cy - half) - y0
    m = np.float32([[1, 0, -fx], [0, 1, -fy]])
    sq = cv2.warpAffine(sq, m, (n, n), borderMode=cv2.BORDER_REPLICATE)
    s = round(2 * half)
    return cv2.resize(sq[:s, :s], (side, side), interpolation=cv2.INTER_AREA)


def _object_box(mask: np.ndarray) -> tuple[float, float, float, float] | None:
    """(x0, y0, x1, y1) of the main object of a coarse mask: the connected part with the
    best size x centrality, with the parts of at least 10% of its size near it."""
    from scipy import ndimage

    labels, n = ndimage.label(mask, structure=np.ones((3, 3), bool))
    if n == 0:
        return None
    h, w = mask.shape
    idx = np.arange(1, n + 1)
    sizes = ndimage.sum_labels(mask, labels, idx)
    cy, cx = np.array(ndimage.center_of_mass(mask, labels, idx)).reshape(-1, 2).T
    off = ((cy / h - 0.5) / 0.5) ** 2 + ((cx / w - 0.5) / 0.5) ** 2
    best = int(np.argmax(sizes * np.exp(-2.0 * off)))
    slices = ndimage.find_objects(labels)
    by, bx = slices[best]
    y0, y1, x0, x1 = by.start, by.stop, bx.start, bx.stop
    my, mx = 0.15 * (y1 - y0) + 2, 0.15 * (x1 - x0) + 2
    for i, (sy, sx) in enumerate(slices):
        if i != best and sizes[i] >= 0.1 * sizes[best] and sy.start < y1 + my and \
                sy.stop > y0 - my and sx.start < x1 + mx and sx.stop > x0 - mx:
            y0, y1 = min(y0, sy.start), max(y1, sy.stop)
            x0, x1 = min(x0, sx.start), max(x1, sx.stop)
    return float(x0), float(y0), float(x1), float(y1)
