"""Bundled demo sequences: held-out test objects, 5 views each.

Layout: ``assets/demo/<name>/view_01.png ... view_05.png`` (137x137 RGBA renderings in
ShapeNetRendering's style), ``model.binvox`` (ground-truth 32^3 voxels, [x, y, z], y up)
and ``info.json`` (category, synset, model id, why this object was chosen and, for a
Sweet Home 3D piece, its name, creator, library and licence under ``source``; where
known ``cameras``, each view's ``rendering_metadata.txt`` line, and ``grid``, where the
voxel grid sits in the cameras' world frame: ``{"translate": [x, y, z], "scale": s}``).
``candidate_01.png ...``: further renderings of the same object, not in the sequence:
the viewer offers them as candidates for the next view (``candidate_cameras`` in
info.json, one line each, where known).
The viewer opens on the demo marked ``"featured": true``, else on a real piece (one with a
``source``) before a procedural object.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .models.camera import GridBox, parse_metadata_line
from .models.voxels import read_binvox


@dataclass(frozen=True)
class Demo:
    name: str
    folder: Path
    category: str
    images: tuple[Path, ...]
    voxels_path: Path | None
    gain: float = 0.0  # IoU gain over the sequence measured when it was picked (info.json)
    source: dict | None = None  # a real piece's name, creator, library, licence (info.json)
    featured: bool = False  # info.json "featured": true: the one the viewer opens on
    cameras: tuple[str, ...] | None = None  # per view, its metadata line (info.json)
    grid: GridBox | None = None  # the voxel grid in the cameras' world frame
    candidates: tuple[Path, ...] = ()  # renderings not in the sequence (next-view candidates)
    candidate_cameras: tuple[str, ...] | None = None  # per candidate, its metadata line

    def ground_truth(self) -> np.ndarray | None:
        """The ground-truth occupancy [x, y, z], or None when the demo has none."""
        return read_binvox(self.voxels_path) if self.voxels_path else None


def demo_root() -> Path:
    from . import assets

    return Path(assets.__file__).resolve().parent / "demo"


def _read_info(path: Path) -> dict:
    """A demo's ``info.json``, or ``{}`` (with a warning naming the file) when unreadable."""
    if not path.is_file():
        return {}
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        warnings.warn(f"{path}: unreadable demo description, ignored ({exc})", stacklevel=3)
        return {}
    if not isinstance(info, dict):
        warnings.warn(f"{path}: demo description is not a JSON object, ignored", stacklevel=3)
        return {}
    return info


def list_demos(root: Path | None = None) -> list[Demo]:
    """Every demo under ``root`` (default: the bundled ones), sorted by name."""
    root = root or demo_root()
    demos = []
    for folder in sorted(p for p in root.glob("*") if p.is_dir()):
        images = tuple(sorted(folder.glob("view_*.png")))
        if not images:
            continue
        info = _read_info(folder / "info.json")
        vox = folder / "model.binvox"
        candidates = tuple(sorted(folder.glob("candidate_*.png")))
        cameras = _recorded_cameras(info, len(images), folder / "info.json")
        if candidates and cameras:
            cameras.update(_recorded_cameras(info, len(candidates), folder / "info.json",
                                             key="candidate_cameras"))
        demos.append(
            Demo(
                name=folder.name,
                folder=folder,
                category=str(info.get("category", "")),
                images=images,
                voxels_path=vox if vox.is_file() else None,
                gain=_recorded_gain(info),
                source=info["source"] if isinstance(info.get("source"), dict) else None,
                featured=info.get("featured") is True,
                candidates=candidates,
                **cameras,
            )
        )
    return demos


def find_demo(name: str, demos: list[Demo] | None = None) -> Demo:
    """The demo called ``name``: its folder name, or its category when one demo has it.

    LookupError (listing the demos) when none or several match.
    """
    demos = list_demos() if demos is None else demos
    key = name.strip().lower()
    exact = [d for d in demos if d.name.lower() == key]
    matches = exact or [d for d in demos if d.category.lower() == key]
    if len(matches) == 1:
        return matches[0]
    listing = ", ".join(f"{d.category or d.name} ({d.name})" for d in demos) or "none installed"
    what = "several demos are" if matches else "no demo is"
    raise LookupError(f"{what} called {name!r}; the demos: {listing}")


def _recorded_gain(info: dict) -> float:
    curve = info.get("iou_by_views_at_selection") or []
    return float(curve[-1] - curve[0]) if len(curve) >= 2 else 0.0


def _recorded_cameras(info: dict, n_views: int, path: Path, key: str = "cameras") -> dict:
    """``cameras`` (or ``key``: ``candidate_cameras``) and ``grid`` of an info.json when
    both are there and sound (else none, with a warning naming the file when they are
    there but wrong)."""
    if key not in info and "grid" not in info:
        return {}
    try:
        lines = info[key]
        if not isinstance(lines, list) or len(lines) != n_views:
            raise ValueError(f"one line per picture ({n_views}) expected in {key!r}")
        cameras = tuple(" ".join(str(v) for v in parse_metadata_line(str(line)))
                        for line in lines)
        grid = info["grid"]
        box = GridBox(tuple(grid["translate"]), grid["scale"])
    except (KeyError, TypeError, ValueError) as exc:
        warnings.warn(f"{path}: {key} ignored ({exc})", stacklevel=4)
        return {}
    return {key: cameras, "grid": box}


def featured_demo(demos: list[Demo]) -> Demo | None:
    """The demo opened at start: one marked ``"featured": true``, else a real piece before
    a procedural object, then the one whose IoU rose most over its views."""
    return max(demos, key=lambda d: (d.featured, d.source is not None, d.gain), default=None)


def pick_demos(
    data_root: str | Path,
    weights: str | Path,
    out_root: Path | None = None,
    categories: tuple[str, ...] = ("chair", "sofa", "table", "lamp"),
    views: int = 5,
    candidates: int = 16,
    orderings: int = 8,
    seed: int = 0,
    threshold: float = 0.4,
    min_final_iou: float = 0.5,
    spare: int = 3,
) -> list[dict]:
    """Choose demo sequences from the *test* split (never trained on) and copy them.

    For each category, up to ``candidates`` test models (asymmetric ones first, from the
    generator's ``synth.json`` tags) are tried in ``orderings`` random orders of ``views``
    views; the sequence whose IoU rises most from the first to the last view, without
    falling at any step and ending at ``min_final_iou`` or better, is kept: its first view
    hides what later views reveal, and the last step looks like the object. ``spare``
    further renderings become its next-view candidates (:func:`add_candidates`).
    """
    import shutil

    import torch

    from .models.atomic import atomic_write_text
    from .models.data.shapenet import (
        build_index,
        dataset_categories,
        load_model_views,
        model_files,
    )
    from .models.net import R2N2
    from .models.voxels import decode_binvox, iou, write_binvox
    from .weights import load_model

    data_root = Path(data_root)
    out_root = out_root or demo_root()
    net, model_meta = load_model(weights, "cpu")
    names = dataset_categories(data_root)
    tags: dict[str, dict] = {}
    sources: dict[str, dict] = {}  # Sweet Home 3D pieces: who made them, under what licence
    synth_json, sh3d_json = data_root / "synth.json", data_root / "sh3d.json"
    if synth_json.is_file():
        tags = {o["id"]: o for o in json.loads(synth_json.read_text())["objects"]}
    if sh3d_json.is_file():
        for o in json.loads(sh3d_json.read_text())["objects"]:
            sources[o["id"]] = {k: o.get(k, "") for k in
                                ("name", "creator", "license", "library", "piece_id")}
    records = build_index(data_root, "test")
    rng = np.random.default_rng(seed)
    chosen = []
    for cat in categories:
        recs = [r for r in records if names.get(r.synset) == cat]
        recs.sort(key=lambda r: (not tags.get(r.model_id, {}).get("asymmetric", False),
                                 r.model_id))
        best = None
        for rec in recs[:candidates]:
            orders = [rng.choice(len(rec.views), views, replace=False) for _ in range(orderings)]
            flat = [int(i) for o in orders for i in o]
            imgs, gt = load_model_views(data_root, rec.synset, rec.model_id, flat)
            seq = torch.from_numpy(imgs.reshape(orderings, views, *imgs.shape[1:])).transpose(0, 1)
            with torch.inference_mode():
                probs = R2N2.probabilities(net(seq, every_step=True).flatten(0, 1))
            probs = probs.view(views, orderings, 32, 32, 32).numpy()
            for j, order in enumerate(orders):
                curve = [iou(probs[t, j] >= threshold, gt) for t in range(views)]
                rising = all(b >= a - 0.005 for a, b in zip(curve, curve[1:], strict=False))
                # rising sequences that end well first, then the largest gain
                score = (rising, curve[-1] >= min_final_iou, curve[-1] - curve[0])
                if best is None or score > best[0]:
                    best = (score, rec, [int(i) for i in order], curve, gt)
        if best is None:
            continue
        score, rec, order, curve, gt = best
        name = f"{'real-' if rec.model_id in sources else ''}{cat}_{rec.model_id[:8]}"
        folder = out_root / name
        folder.mkdir(parents=True, exist_ok=True)
        for t, v in enumerate(order):
            shutil.copyfile(rec.rendering_dir / rec.views[v], folder / f"view_{t + 1:02d}.png")
        write_binvox(folder / "model.binvox", gt)
        header = decode_binvox(rec.voxel_path.read_bytes())
        files = model_files(rec.rendering_dir.parent)
        by_name = dict(zip((p.name for p in files.views), files.cameras, strict=True))
        cams = [by_name.get(rec.views[v]) for v in order]
        info = {
            "category": cat,
            "synset": rec.synset,
            "model_id": rec.model_id,
            "split": "test",
            "source_views": [rec.views[v] for v in order],
            **({"cameras": [" ".join(str(x) for x in c) for c in cams],  # type: ignore[union-attr]
                "grid": {"translate": [float(v) for v in header.translate],
                         "scale": float(header.scale)}} if all(cams) else {}),
            "variant": tags.get(rec.model_id, {}),
            "iou_by_views_at_selection": [round(c, 4) for c in curve],
            "threshold": threshold,
            "model": str(model_meta.get("name") or model_meta.get("preset") or weights),
            "why": f"largest IoU gain among {candidates} test models x {orderings} view orders "
            f"of this category: {curve[0]:.2f} -> {curve[-1]:.2f} over {views} views"
            + ("" if score[0] else " (not rising at every step)")
            + ("" if score[1] else f" (ends below IoU {min_final_iou})"),
        }
        if rec.model_id in sources:
            info["source"] = {**sources[rec.model_id], "dataset": "Sweet Home 3D"}
        atomic_write_text(folder / "info.json", json.dumps(info, indent=2) + "\n")
        if spare:
            info = add_candidates(folder, rec.rendering_dir.parent, spare, seed)
        chosen.append(info)
    return chosen


def add_candidates(folder: str | Path, model_folder: str | Path, count: int = 3,
                   seed: int = 0) -> dict:
    """Give the demo in ``folder`` up to ``count`` next-view candidates: renderings of its
    object (``model_folder``: ``<root>/ShapeNetRendering/<synset>/<model>``) that are not
    in its sequence, drawn at random (``seed``), copied as ``candidate_01.png ...``; their
    names and cameras go into info.json. Returns the new info."""
    from .models.atomic import atomic_write_bytes, atomic_write_text
    from .models.data.shapenet import model_files

    folder = Path(folder)
    info = _read_info(folder / "info.json")
    if not info:
        raise ValueError(f"{folder}: no readable info.json")
    files = model_files(model_folder)
    used = set(info.get("source_views") or [])
    spare = [i for i, p in enumerate(files.views) if p.name not in used]
    rng = np.random.default_rng(seed)
    picked = sorted(int(i) for i in rng.choice(spare, min(count, len(spare)), replace=False))
    for old in folder.glob("candidate_*.png"):
        old.unlink()
    for k, i in enumerate(picked):
        atomic_write_bytes(folder / f"candidate_{k + 1:02d}.png", files.views[i].read_bytes())
    info["candidate_views"] = [files.views[i].name for i in picked]
    cams = [files.cameras[i] for i in picked]
    if all(cams) and "cameras" in info:
        info["candidate_cameras"] = [" ".join(str(x) for x in c) for c in cams]
    else:
        info.pop("candidate_cameras", None)
    atomic_write_text(folder / "info.json", json.dumps(info, indent=2) + "\n")
    return info


if __name__ == "__main__":
    import argparse

    ap = argparse.ArgumentParser(description="Pick demo sequences from a dataset's test split.")
    ap.add_argument("--data", required=True)
    ap.add_argument("--weights", default="default")
    ap.add_argument("--out", type=Path)
    ap.add_argument("--categories", default="chair,sofa,table,lamp")
    ap.add_argument("--spare", type=int, default=3,
                    help="further renderings of each object offered as next-view candidates")
    ap.add_argument("--add-candidates", metavar="DEMO_FOLDER", nargs="+",
                    help="only give these existing demos SPARE candidates from --data")
    a = ap.parse_args()
    if a.add_candidates:
        for f in a.add_candidates:
            meta = _read_info(Path(f) / "info.json")
            model = Path(a.data) / "ShapeNetRendering" / meta["synset"] / meta["model_id"]
            print(f, add_candidates(f, model, a.spare)["candidate_views"])
    else:
        for d in pick_demos(a.data, a.weights, a.out, tuple(a.categories.split(",")),
                            spare=a.spare):
            print(d["category"], d["model_id"], d["iou_by_views_at_selection"])
