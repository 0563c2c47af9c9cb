"""Read ShapeNet-format data (ShapeNetRendering + ShapeNetVox32) for training and evaluation.

Roots. ``root`` is either a dataset folder holding ``ShapeNetRendering/`` and
``ShapeNetVox32/`` (the layout ``r2n2 synth`` writes, with ``categories.json``), or the
rendering root itself, with the voxel root passed as ``voxel_root`` (or equal to it).

Split (official): per category, model ids sorted; train = ids[0 : int(0.8 n)],
test = ids[int(0.8 n) : n]. The split is taken over the ids present before any broken
model is dropped, so a broken file never moves a model between splits.

Broken data never ends an epoch: a model without a rendering folder, without views or
with an unreadable binvox is reported once (``logging`` warning, with its path) and left
out of the index; a PNG or binvox that fails later is reported once and the item falls
back to another model.

Batches (from :func:`make_loader`): ``images`` float32 (T, N, 3, 127, 127) with time
first, ``voxels`` uint8 (N, 32, 32, 32) indexed [x, y, z], ``category`` and ``model_id``
lists of N strings, ``views`` N lists of T view indices. T is drawn per batch in
1..max_views; each model gets T distinct random views.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch.utils.data import DataLoader, Dataset, Sampler

from ..voxels import read_binvox
from .augment import Backgrounds, preprocess
from .categories import CATEGORIES, load_categories, synsets_for
from .framing import reframe as reframe_rendering

log = logging.getLogger("r2n2_viewer.data")

RENDER_DIR = "ShapeNetRendering"
VOXEL_DIR = "ShapeNetVox32"
SPLITS = {"train": (0.0, 0.8), "test": (0.8, 1.0), "all": (0.0, 1.0)}

_reported: set[str] = set()


def report(path: str | os.PathLike, problem: str) -> None:
    """Log a data problem once per path (per process)."""
    key = f"{path}"
    if key not in _reported:
        _reported.add(key)
        log.warning("skipping %s: %s", path, problem)


def resolve_roots(root: str | os.PathLike,
                  voxel_root: str | os.PathLike | None = None) -> tuple[Path, Path]:
    """(rendering root, voxel root) for a dataset folder or a rendering root."""
    root = Path(root)
    if voxel_root is not None:
        return root, Path(voxel_root)
    if (root / RENDER_DIR).is_dir():
        return root / RENDER_DIR, root / VOXEL_DIR
    return root, root


def dataset_categories(root: str | os.PathLike,
                       voxel_root: str | os.PathLike | None = None) -> dict[str, str]:
    """``{synset: name}``: ``categories.json`` in ``root`` if present, else the synset folders."""
    cj = Path(root) / "categories.json"
    if cj.is_file():
        return load_categories(cj)
    render_root, _ = resolve_roots(root, voxel_root)
    if not render_root.is_dir():
        raise FileNotFoundError(f"no rendering folder at {render_root}")
    syns = sorted(d.name for d in render_root.iterdir() if d.is_dir() and d.name.isdigit())
    return {s: CATEGORIES.get(s, s) for s in syns}


def split_slice(ids: list[str], split: str) -> list[str]:
    """The official split of one category's model ids (sorted here)."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {sorted(SPLITS)}, got {split!r}")
    ids = sorted(ids)
    lo, hi = SPLITS[split]
    n = len(ids)
    return ids[int(n * lo) : int(n * hi)]


@dataclass(frozen=True)
class ModelRecord:
    """One model in the index."""

    synset: str
    model_id: str
    rendering_dir: Path
    voxel_path: Path
    views: tuple[str, ...]  # PNG file names, in renderings.txt order


MAX_LISTING_BYTES = 2**20  # renderings.txt: 24 short lines in ShapeNet


def _view_names(rdir: Path) -> list[str]:
    """The model's view file names, in ``renderings.txt`` order (else its PNGs, sorted).

    Entries that are not plain file names (absolute, ``../``, sub-folders) are left out
    with a warning: a view is always a file of ``rdir`` itself. A listing that is not
    UTF-8 text raises ``ValueError`` naming it.
    """
    from ..files import is_safe_name, read_bytes_capped

    listing = rdir / "renderings.txt"
    if listing.is_file():
        try:
            text = read_bytes_capped(listing, MAX_LISTING_BYTES, "view listing").decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ValueError(f"{listing}: not UTF-8 text ({exc.reason} at byte "
                             f"{exc.start})") from None
        names = [n.strip() for n in text.splitlines() if n.strip()]
        bad = [n for n in names if not is_safe_name(n)]
        if bad:
            report(listing, f"entries that are not plain file names of this folder "
                            f"ignored: {bad[:3]!r:.200}")
        return [n for n in names if is_safe_name(n) and (rdir / n).is_file()]
    return sorted(p.name for p in rdir.glob("*.png") if p.is_file())


@dataclass(frozen=True)
class ModelFiles:
    """The files of one ShapeNet-format model."""

    synset: str
    model_id: str
    views: tuple[Path, ...]  # rendering PNGs, in renderings.txt order
    # per view, its rendering_metadata.txt line: (azimuth, elevation, in-plane rotation,
    # distance ratio, field of view); None where the line is missing or unreadable
    cameras: tuple[tuple[float, ...] | None, ...]
    voxel_path: Path | None  # its ShapeNetVox32 model.binvox, None when there is none


def model_files(folder: str | os.PathLike) -> ModelFiles:
    """Views, cameras and voxel file of the model in ``folder``:
    ``<root>/ShapeNetRendering/<synset>/<model>`` or its ``rendering/`` subfolder (the
    voxels are then looked for in ``<root>/ShapeNetVox32/<synset>/<model>``, or beside the
    renderings when the rendering root has another name).

    FileNotFoundError when the folder has no ``rendering/`` folder or no views.
    """
    folder = Path(folder)
    if folder.name == "rendering":
        folder = folder.parent
    rdir = folder / "rendering"
    if not rdir.is_dir():
        raise FileNotFoundError(f"{folder}: has no rendering/ folder "
                                "(pick <root>/ShapeNetRendering/<synset>/<model>)")
    names = _view_names(rdir)
    if not names:
        raise FileNotFoundError(f"{rdir}: no rendered views")
    listing = rdir / "renderings.txt"
    listed = ([n.strip() for n in listing.read_text().splitlines() if n.strip()]
              if listing.is_file() else names)
    meta = rdir / "rendering_metadata.txt"
    lines = meta.read_text().splitlines() if meta.is_file() else []
    cameras = []
    for name in names:
        i = listed.index(name)
        try:
            values = tuple(float(v) for v in lines[i].split())
        except (IndexError, ValueError):
            values = ()
        cameras.append(values if len(values) == 5 else None)
    model, synset, render_root = folder.name, folder.parent.name, folder.parent.parent
    vox_root = render_root.parent / VOXEL_DIR if render_root.name == RENDER_DIR else render_root
    vox = vox_root / synset / model / "model.binvox"
    return ModelFiles(synset, model, tuple(rdir / n for n in names), tuple(cameras),
                      vox if vox.is_file() else None)


def _voxels_ok(path: Path, res: int) -> bool:
    if not path.is_file():
        report(path, "missing voxel file")
        return False
    try:
        occ = read_binvox(path)
    except (OSError, ValueError) as exc:
        report(path, f"unreadable binvox ({exc})")
        return False
    if occ.shape != (res, res, res):
        report(path, f"voxel grid is {occ.shape}, expected {res}^3")
        return False
    return True


def build_index(
    root: str | os.PathLike,
    split: str = "train",
    categories: list[str] | None = None,
    voxel_root: str | os.PathLike | None = None,
    check_voxels: bool = True,
    res: int = 32,
) -> list[ModelRecord]:
    """All usable models of a split, sorted by (synset, model id)."""
    render_root, vox_root = resolve_roots(root, voxel_root)
    available = dataset_categories(root, voxel_root)
    synsets = synsets_for(categories) if categories else list(available)
    records = []
    for syn in sorted(synsets):
        cdir = render_root / syn
        if not cdir.is_dir():
            report(cdir, "no rendering folder for this category")
            continue
        ids = [d.name for d in cdir.iterdir() if d.is_dir() and not d.name.startswith(".")]
        for mid in split_slice(ids, split):
            rdir = cdir / mid / "rendering"
            if not rdir.is_dir():
                report(rdir, "missing rendering folder")
                continue
            try:
                views = _view_names(rdir)
            except (OSError, ValueError) as exc:
                report(rdir / "renderings.txt", f"unreadable view listing ({exc})")
                continue
            if not views:
                report(rdir, "no rendered views")
                continue
            vpath = vox_root / syn / mid / "model.binvox"
            if check_voxels and not _voxels_ok(vpath, res):
                continue
            records.append(ModelRecord(syn, mid, rdir, vpath, tuple(views)))
    return records


def load_png(path: str | os.PathLike) -> np.ndarray:
    """An image file as uint8 RGBA (H, W, 4) (opaque alpha if it has none)."""
    with Image.open(path) as im:
        im.load()
        return np.asarray(im.convert("RGBA"))


def load_model_views(
    root: str | os.PathLike,
    synset: str,
    model_id: str,
    view_ids: list[int],
    train: bool = False,
    rng: np.random.Generator | None = None,
    voxel_root: str | os.PathLike | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """One model's views as network inputs (T, 3, 127, 127) float32 and voxels bool [x, y, z].

    ``view_ids`` index the model's ``renderings.txt``. Errors are raised, not skipped.
    """
    render_root, vox_root = resolve_roots(root, voxel_root)
    rdir = render_root / synset / model_id / "rendering"
    names = _view_names(rdir)
    if not names:
        raise FileNotFoundError(f"no rendered views in {rdir}")
    if train and rng is None:
        rng = np.random.default_rng()
    imgs = [preprocess(load_png(rdir / names[i]), train, rng) for i in view_ids]
    occ = read_binvox(vox_root / synset / model_id / "model.binvox")
    return np.stack(imgs), occ


class ShapeNetViews(Dataset):
    """Models of one split; an item is ``(index, n_views, item_seed)`` -> one sample dict.

    An integer key means one view drawn with seed ``index``. Samples: ``images`` float32
    (T, 3, 127, 127), ``voxels`` uint8 (32, 32, 32), ``category``, ``model_id``, ``views``.
    """

    def __init__(
        self,
        root: str | os.PathLike,
        split: str = "train",
        categories: list[str] | None = None,
        train: bool | None = None,
        voxel_root: str | os.PathLike | None = None,
        flip: bool = True,
        backgrounds: Backgrounds | None = None,
        bg_prob: float = 0.0,
        jitter: float = 0.0,
        reframe: float = 0.0,
    ):
        if not 0.0 <= reframe <= 1.0:
            raise ValueError(f"the reframing probability must be in [0, 1], got {reframe}")
        if not 0.0 <= bg_prob <= 1.0:
            raise ValueError(f"the background probability must be in [0, 1], got {bg_prob}")
        if not 0.0 <= jitter < 1.0:
            raise ValueError(f"the colour jitter must be in [0, 1), got {jitter}")
        self.flip = flip  # training augmentation mirrors views left-right (see augment)
        # photo augmentation (training only): this fraction of sequences get a background
        # image behind every view (procedural without a folder); colour jitter per view
        self.bg_prob, self.jitter = bg_prob, jitter
        # this fraction of training sequences are framed as photos are (see framing)
        self.reframe = reframe
        self.backgrounds = backgrounds if backgrounds is not None or not bg_prob else Backgrounds()
        self.records = build_index(root, split, categories, voxel_root)
        if not self.records:
            raise ValueError(f"no usable models for split {split!r} under {root}")
        self.train = split == "train" if train is None else train
        self.names = dataset_categories(root, voxel_root)
        self._bad: set[int] = set()

    def __len__(self) -> int:
        return len(self.records)

    def _load(self, rec: ModelRecord, n_views: int, rng: np.random.Generator) -> dict:
        k = len(rec.views)
        views = rng.choice(k, size=n_views, replace=n_views > k)
        photo = self.train and self.bg_prob > 0 and rng.random() < self.bg_prob
        framed = self.train and self.reframe > 0 and rng.random() < self.reframe
        imgs = []
        for v in views:
            path = rec.rendering_dir / rec.views[int(v)]
            try:
                rgba = load_png(path)
                if framed and rgba.ndim == 3 and rgba.shape[2] == 4:
                    rgba = reframe_rendering(rgba)
                bg = self.backgrounds.patch(rng, rgba.shape[:2]) if photo else None
                jitter = self.jitter if self.train else 0.0
                imgs.append(preprocess(rgba, self.train, rng, flip=self.flip, background=bg,
                                       jitter=jitter))
            except (OSError, ValueError, SyntaxError) as exc:
                report(path, f"unreadable image ({exc})")
                raise
        try:
            occ = read_binvox(rec.voxel_path)
        except (OSError, ValueError) as exc:
            report(rec.voxel_path, f"unreadable binvox ({exc})")
            raise
        return {
            "images": np.stack(imgs),
            "voxels": occ.astype(np.uint8),
            "category": rec.synset,
            "model_id": rec.model_id,
            "views": [int(v) for v in views],
        }

    def __getitem__(self, key) -> dict:
        index, n_views, seed = (key, 1, key) if isinstance(key, int) else key
        rng = np.random.default_rng(seed)
        n = len(self.records)
        for attempt in range(min(n, 20)):
            i = (index + attempt * 7919) % n if attempt else index
            if i in self._bad:
                continue
            try:
                return self._load(self.records[i], n_views, rng)
            except (OSError, ValueError, SyntaxError):
                self._bad.add(i)
        raise RuntimeError("too many unreadable models in a row; is the dataset intact?")


class PooledViews(Dataset):
    """The training models of several datasets as one: item ``i`` is a model of one part.

    ``repeat[k]`` lists part ``k``'s models that many times, so a small dataset can weigh
    more among large ones. Items are keyed as in :class:`ShapeNetViews`.
    """

    def __init__(self, parts: list[ShapeNetViews], repeat: list[int] | None = None):
        repeat = list(repeat) if repeat else [1] * len(parts)
        if len(repeat) != len(parts) or any(r < 1 for r in repeat):
            raise ValueError(f"need one repeat count >= 1 per dataset, got {repeat}")
        self.parts = parts
        self.names = {k: v for p in parts for k, v in p.names.items()}
        self.index = [(k, i) for k, (part, r) in enumerate(zip(parts, repeat, strict=True))
                      for _ in range(r) for i in range(len(part))]

    def __len__(self) -> int:
        return len(self.index)

    def __getitem__(self, key) -> dict:
        index, n_views, seed = (key, 1, key) if isinstance(key, int) else key
        k, i = self.index[index]
        return self.parts[k][(i, n_views, seed)]


class VariableViewBatchSampler(Sampler):
    """Batches of ``(index, n_views, item_seed)`` with one n_views per batch.

    n_views is drawn uniformly in ``[min_views, max_views]`` per batch. With ``shuffle``
    each pass (epoch) reshuffles and redraws views from ``(seed, epoch)``; the epoch
    advances by itself after each pass or is set with :meth:`set_epoch`. Without it every
    pass is identical (evaluation).
    """

    def __init__(self, n: int, batch_size: int, max_views: int, min_views: int = 1,
                 shuffle: bool = True, drop_last: bool = False, seed: int = 0):
        if not 1 <= min_views <= max_views:
            raise ValueError("need 1 <= min_views <= max_views")
        if batch_size < 1:
            raise ValueError("batch_size must be positive")
        self.n, self.batch_size = n, batch_size
        self.min_views, self.max_views = min_views, max_views
        self.shuffle, self.drop_last, self.seed = shuffle, drop_last, seed
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        if self.drop_last:
            return self.n // self.batch_size
        return -(-self.n // self.batch_size)

    def __iter__(self):
        # unshuffled (evaluation) passes repeat the same views and view counts
        rng = np.random.default_rng([self.seed, self.epoch if self.shuffle else 0])
        order = rng.permutation(self.n) if self.shuffle else np.arange(self.n)
        self.epoch += 1
        for b in range(len(self)):
            idx = order[b * self.batch_size : (b + 1) * self.batch_size]
            t = int(rng.integers(self.min_views, self.max_views + 1))
            seeds = rng.integers(0, 2**62, size=len(idx))
            yield [(int(i), t, int(s)) for i, s in zip(idx, seeds, strict=True)]


def collate(samples: list[dict]) -> dict:
    """Stack samples into a time-first batch (see the module docstring)."""
    images = torch.from_numpy(np.stack([s["images"] for s in samples]))  # N, T, 3, H, W
    return {
        "images": images.transpose(0, 1).contiguous(),
        "voxels": torch.from_numpy(np.stack([s["voxels"] for s in samples])),
        "category": [s["category"] for s in samples],
        "model_id": [s["model_id"] for s in samples],
        "views": [s["views"] for s in samples],
    }


def make_loader(
    root: str | os.PathLike | list[str | os.PathLike],
    split: str = "train",
    batch_size: int = 16,
    max_views: int = 5,
    workers: int = 2,
    seed: int = 0,
    categories: list[str] | None = None,
    min_views: int = 1,
    train: bool | None = None,
    shuffle: bool | None = None,
    drop_last: bool = False,
    voxel_root: str | os.PathLike | None = None,
    flip: bool = True,
    backgrounds: str | os.PathLike | None = None,
    bg_prob: float = 0.0,
    jitter: float = 0.0,
    repeat: list[int] | None = None,
    reframe: float = 0.0,
) -> DataLoader:
    """A DataLoader of variable-length view batches over one split.

    ``train`` (augmentation) and ``shuffle`` default to ``split == "train"``. Use
    ``min_views = max_views`` for a fixed number of views; ``flip=False`` keeps training
    augmentation from mirroring views. Photo augmentation (training): ``bg_prob`` of the
    sequences get backgrounds, crops of the images in the folder ``backgrounds`` or
    procedural ones without it; ``jitter`` is the colour jitter strength (see augment);
    ``reframe`` of the sequences are framed as photos are (see framing). A list of roots
    pools their ``split`` models (:class:`PooledViews`, ``repeat`` times
    each).
    """
    source = Backgrounds(backgrounds) if backgrounds is not None else None
    roots = root if isinstance(root, list) else [root]
    parts = [ShapeNetViews(r, split, categories, train, voxel_root, flip=flip,
                           backgrounds=source, bg_prob=bg_prob, jitter=jitter, reframe=reframe)
             for r in roots]
    ds = parts[0] if len(parts) == 1 and not repeat else PooledViews(parts, repeat)
    is_train = split == "train"
    sampler = VariableViewBatchSampler(
        len(ds), batch_size, max_views, min_views,
        shuffle=is_train if shuffle is None else shuffle, drop_last=drop_last, seed=seed,
    )
    # persistent workers: training re-iterates the loader every epoch (65 steps at batch 64
    # on the default data); restarting the workers each time is avoidable overhead
    return DataLoader(
        ds, batch_sampler=sampler, collate_fn=collate, num_workers=workers,
        persistent_workers=workers > 0,
    )
