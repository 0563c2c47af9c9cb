"""Sequence files (``.r2n2seq``): the views of a reconstruction, reopened to the same steps.

One zip archive holding ``sequence.json`` and, per view, the picture exactly as it was
given (its encoded bytes) and its stroke masks (1-bit PNGs). The JSON names the weights
(``"default"`` or a path), the threshold and, per view, its label and preparation
settings (:class:`~r2n2_viewer.images.PrepSettings`) and, where it is known (a demo's
view, a dataset model's rendering), its camera: ``"camera": {"line": <the
rendering_metadata.txt line>, "grid": {"translate": [x, y, z], "scale": s, "resolution":
32}}``, so "look from view k" and seen vs. inferred work after reopening (files without
cameras open as before). Preparing each picture with its settings gives the same network
inputs, so the same model gives the same steps.

Reading never executes code (JSON and pictures only) and refuses a hostile file with one
line (:class:`SequenceError`): not a zip, a missing or malformed ``sequence.json``, wrong
types, unknown format versions, members too large or too many views. Writing is atomic.
"""

from __future__ import annotations

import io
import json
import math
import os
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .images import MAX_FILE_BYTES, SEGMENT_MODES, PreparedView, PrepSettings, prepare_photo
from .models.atomic import atomic_write_bytes

SUFFIX = ".r2n2seq"
FORMAT = "r2n2-sequence"
VERSION = 1
MAX_VIEWS = 256
MAX_MANIFEST_BYTES = 1 << 20
MAX_MASK_PIXELS = 4096 * 4096
_MANIFEST = "sequence.json"


class SequenceError(ValueError):
    """A sequence file that cannot be read; the message is one line naming the problem."""


@dataclass(frozen=True)
class SequenceView:
    """One view: the picture's encoded bytes, its label and how it is prepared."""

    image: bytes
    label: str
    settings: PrepSettings = field(default_factory=PrepSettings)
    suffix: str = ".png"  # the picture's file suffix inside the archive
    camera: Any = None  # cameras.ViewCamera when the picture's camera is known

    def prepare(self, cancel_check: Callable[[], None] | None = None) -> PreparedView:
        """The network input and its making (:func:`~r2n2_viewer.images.prepare_photo`;
        ``cancel_check`` is called between its steps and may raise to stop it)."""
        return prepare_photo(self.image, self.settings, cancel_check)


@dataclass(frozen=True)
class Sequence:
    """Views in step order, the weights spec (``"default"`` or a path) and the threshold."""

    views: list[SequenceView]
    weights: str = "default"
    threshold: float = 0.4

    def weights_missing(self) -> bool:
        """True when the weights are a path that does not exist here."""
        return self.weights != "default" and not Path(self.weights).is_file()


def view_from_source(source: Any, label: str, settings: PrepSettings | None = None
                     ) -> SequenceView:
    """A :class:`SequenceView` of a path, encoded bytes or PIL image (PIL -> PNG bytes)."""
    settings = settings or PrepSettings()
    if isinstance(source, bytes):
        from PIL import Image, UnidentifiedImageError

        try:
            with Image.open(io.BytesIO(source)) as im:
                fmt = (im.format or "").lower()
        except (UnidentifiedImageError, OSError):
            fmt = ""
        suffix = {"jpeg": ".jpg", "tiff": ".tif"}.get(fmt, f".{fmt}" if fmt else ".img")
        return SequenceView(source, label, settings, suffix)
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        suffix = path.suffix.lower() if path.suffix and len(path.suffix) <= 6 else ".img"
        return SequenceView(path.read_bytes(), label, settings, suffix)
    buf = io.BytesIO()
    source.save(buf, format="PNG")
    return SequenceView(buf.getvalue(), label, settings)


# --- writing ------------------------------------------------------------------------------
def _mask_png(mask: np.ndarray) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.asarray(mask, bool)).save(buf, format="PNG")
    return buf.getvalue()


def _settings_json(s: PrepSettings, stem: str, members: dict[str, bytes]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "segment": s.segment,
        "crop_box": None if s.crop_box is None else [float(v) for v in s.crop_box],
        "frame_fraction": float(s.frame_fraction),
        "background": [int(v) for v in s.background],
        "tolerance": float(s.tolerance),
    }
    for key in ("foreground", "background_strokes"):
        mask = getattr(s, key)
        if mask is not None and np.asarray(mask).any():
            name = f"views/{stem}_{key}.png"
            members[name] = _mask_png(mask)
            out[key] = name
        else:
            out[key] = None
    return out


def _camera_json(camera: Any) -> dict[str, Any]:
    box = camera.box
    return {"line": camera.line,
            "grid": {"translate": [float(c) for c in box.translate], "scale": float(box.scale),
                     "resolution": int(box.resolution)}}


def save_sequence(path: str | os.PathLike, seq: Sequence) -> Path:
    """Write ``seq`` to ``path`` atomically (the ``.r2n2seq`` suffix is added if missing)."""
    path = Path(path)
    if path.suffix.lower() != SUFFIX:
        path = path.with_name(path.name + SUFFIX)
    if not seq.views:
        raise ValueError("nothing to save: the sequence has no views")
    members: dict[str, bytes] = {}
    views = []
    for k, v in enumerate(seq.views, 1):
        stem = f"{k:03d}"
        image = f"views/{stem}{v.suffix}"
        members[image] = v.image
        entry = {"image": image, "label": v.label,
                 "settings": _settings_json(v.settings, stem, members)}
        if v.camera is not None:
            entry["camera"] = _camera_json(v.camera)
        views.append(entry)
    manifest = {"format": FORMAT, "version": VERSION, "weights": str(seq.weights),
                "threshold": float(seq.threshold), "views": views}
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(_MANIFEST, json.dumps(manifest, indent=1))
        for name, data in members.items():
            z.writestr(name, data)
    atomic_write_bytes(path, buf.getvalue())
    return path


# --- reading ------------------------------------------------------------------------------
def read_sequence(path: str | os.PathLike) -> Sequence:
    """Read a sequence file; :class:`SequenceError` (one line) for anything wrong."""
    path = Path(path)
    name = path.name
    if path.is_dir():
        raise SequenceError(f"{name}: is a folder, not a sequence file")
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise SequenceError(f"{name}: {exc.strerror or exc}") from None
    if size > 4 * MAX_FILE_BYTES:
        raise SequenceError(f"{name}: {size} bytes, too large for a sequence file")
    try:
        with zipfile.ZipFile(path) as z:
            return _read(z, name)
    except zipfile.BadZipFile:
        raise SequenceError(f"{name}: not a sequence file (not a zip archive)") from None
    except OSError as exc:
        raise SequenceError(f"{name}: {exc.strerror or exc}") from None


def _member(z: zipfile.ZipFile, name: str, member: Any, limit: int) -> bytes:
    if not isinstance(member, str):
        raise SequenceError(f"{name}: a view names its file with {member!r}, not a string")
    try:
        info = z.getinfo(member)
    except KeyError:
        raise SequenceError(f"{name}: {member} is missing from the archive") from None
    if info.file_size > limit:
        raise SequenceError(f"{name}: {member} is {info.file_size} bytes, over the limit "
                            f"of {limit}")
    try:
        with z.open(info) as f:
            data = f.read(limit + 1)
    except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError) as exc:
        raise SequenceError(f"{name}: {member} cannot be read ({exc})") from None
    if len(data) > limit:
        raise SequenceError(f"{name}: {member} is over the limit of {limit} bytes")
    return data


def _read(z: zipfile.ZipFile, name: str) -> Sequence:
    total = sum(i.file_size for i in z.infolist())
    if total > 4 * MAX_FILE_BYTES:
        raise SequenceError(f"{name}: unpacks to {total} bytes, too large for a sequence file")
    raw = _member(z, name, _MANIFEST, MAX_MANIFEST_BYTES)
    try:
        m = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SequenceError(f"{name}: {_MANIFEST} is not valid JSON ({exc})") from None
    if not isinstance(m, dict) or m.get("format") != FORMAT:
        raise SequenceError(f"{name}: not a sequence file ({_MANIFEST} lacks "
                            f"\"format\": \"{FORMAT}\")")
    if m.get("version") != VERSION:
        raise SequenceError(f"{name}: sequence format version {m.get('version')!r} is not "
                            f"supported (this viewer reads version {VERSION})")
    weights = m.get("weights", "default")
    if not isinstance(weights, str) or not weights:
        raise SequenceError(f"{name}: \"weights\" must be \"default\" or a path")
    threshold = m.get("threshold", 0.4)
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or \
            not math.isfinite(threshold) or not 0.0 < threshold < 1.0:
        raise SequenceError(f"{name}: \"threshold\" must be a number in (0, 1), "
                            f"got {threshold!r}")
    views = m.get("views")
    if not isinstance(views, list) or not views:
        raise SequenceError(f"{name}: \"views\" must be a non-empty list")
    if len(views) > MAX_VIEWS:
        raise SequenceError(f"{name}: {len(views)} views, more than the {MAX_VIEWS} allowed")
    out = []
    for k, v in enumerate(views, 1):
        if not isinstance(v, dict):
            raise SequenceError(f"{name}: view {k} is not an object")
        label = v.get("label", f"view {k}")
        if not isinstance(label, str):
            raise SequenceError(f"{name}: view {k}: \"label\" must be a string")
        member = v.get("image")
        image = _member(z, name, member, MAX_FILE_BYTES)
        settings = _settings(z, name, k, v.get("settings", {}))
        suffix = Path(member).suffix or ".img"
        camera = _camera(name, k, v.get("camera"))
        out.append(SequenceView(image, label[:200], settings, suffix, camera))
    return Sequence(out, weights, float(threshold))


def _camera(name: str, k: int, c: Any) -> Any:
    """A view's camera (cameras.ViewCamera), None when the file gives none."""
    if c is None:
        return None
    from .cameras import ViewCamera
    from .models.camera import GridBox

    grid = c.get("grid") if isinstance(c, dict) else None
    if not isinstance(c, dict) or not isinstance(c.get("line"), str) or \
            not isinstance(grid, dict):
        raise SequenceError(f"{name}: view {k}: \"camera\" must be {{\"line\": \"...\", "
                            "\"grid\": {...}}")
    translate, resolution = grid.get("translate"), grid.get("resolution", 32)
    if not isinstance(translate, list) or len(translate) != 3:
        raise SequenceError(f"{name}: view {k}: the camera's grid \"translate\" must be "
                            "[x, y, z]")
    if isinstance(resolution, bool) or not isinstance(resolution, int) or \
            not 1 <= resolution <= 1024:
        raise SequenceError(f"{name}: view {k}: the camera's grid \"resolution\" must be an "
                            f"integer 1..1024, got {resolution!r}")
    try:
        box = GridBox(tuple(_number(name, k, "translate", t) for t in translate),
                      _number(name, k, "scale", grid.get("scale")), resolution)
        return ViewCamera(c["line"][:400], box)
    except ValueError as exc:
        if isinstance(exc, SequenceError):
            raise
        raise SequenceError(f"{name}: view {k}: bad camera ({exc})") from None


def _number(name: str, k: int, key: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or \
            not math.isfinite(value):
        raise SequenceError(f"{name}: view {k}: \"{key}\" must be a finite number, "
                            f"got {value!r}")
    return float(value)


def _settings(z: zipfile.ZipFile, name: str, k: int, s: Any) -> PrepSettings:
    if not isinstance(s, dict):
        raise SequenceError(f"{name}: view {k}: \"settings\" must be an object")
    segment = s.get("segment", "auto")
    if segment not in SEGMENT_MODES:
        raise SequenceError(f"{name}: view {k}: unknown segmentation {segment!r} "
                            f"({', '.join(SEGMENT_MODES)})")
    crop = s.get("crop_box")
    if crop is not None:
        if not isinstance(crop, list) or len(crop) != 4:
            raise SequenceError(f"{name}: view {k}: \"crop_box\" must be [x0, y0, x1, y1]")
        crop = tuple(_number(name, k, "crop_box", c) for c in crop)
    bg = s.get("background", [240, 240, 240])
    if not isinstance(bg, list) or len(bg) != 3 or not all(
            isinstance(c, int) and not isinstance(c, bool) and 0 <= c <= 255 for c in bg):
        raise SequenceError(f"{name}: view {k}: \"background\" must be three integers 0..255")
    masks = {key: _mask(z, name, s.get(key)) for key in ("foreground", "background_strokes")}
    try:
        return PrepSettings(
            segment=segment, crop_box=crop,
            frame_fraction=_number(name, k, "frame_fraction", s.get("frame_fraction", 0.6)),
            background=tuple(bg), tolerance=_number(name, k, "tolerance",
                                                     s.get("tolerance", 0.1)),
            **masks)
    except ValueError as exc:
        raise SequenceError(f"{name}: view {k}: {exc}") from None


def _mask(z: zipfile.ZipFile, name: str, member: Any) -> np.ndarray | None:
    if member is None:
        return None
    from PIL import Image, UnidentifiedImageError

    data = _member(z, name, member, 64 << 20)
    try:
        with Image.open(io.BytesIO(data)) as im:
            if im.width * im.height > MAX_MASK_PIXELS:
                raise SequenceError(f"{name}: {member} is {im.width}x{im.height}, too large "
                                    "for a stroke mask")
            return np.asarray(im.convert("L")) > 0
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
        raise SequenceError(f"{name}: {member} is not a readable mask ({exc})") from None
