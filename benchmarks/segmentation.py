"""Segmentation of photos on cluttered backgrounds, measured on composites with known masks.

Each rendered view (137x137 RGBA of a ShapeNet-format dataset: ``r2n2 synth`` output or
Sweet Home 3D renders, test split) is enlarged 3x and composited at a random place near
the centre of a random 1024x768 crop of a photographic background of the held-out split
(``models.data.composites.wallpaper_split``: the segmenter never saw them; by default
only those that are photographs, ``--backdrops all`` adds illustrations and patterns), JPEG-encoded
at quality 90, as a camera would. ``images.prepare_photo`` then finds the object with
each method of ``--segment`` (default ``grabcut,auto``: before -> after on the SAME
composites); reported per method:

- mask IoU of the found mask (working resolution) against the render's alpha > 0.5, and
  the preparation time per photo, wall and CPU (process time: what it costs on one
  core when the machine is shared; torch on 1 thread);
- reconstruction IoU (the model, threshold 0.4, after 1 and after --views views) of the
  composited views against the same views given as renderings (the dataset's test
  transform) and as photos on a plain 240-grey backdrop (plain segmentation: separates the
  cost of photo framing from the cost of the cluttered background).

Failure cases (mask IoU < 0.9) of the last method are saved as pictures (photo | found
mask | network input) under --out, with montage.png: the best, median and worst
composites side by side.

    nice -n 10 python benchmarks/segmentation.py --data DATA --backgrounds BGDIR \\
        --out /tmp/seg [--views 3] [--limit 40] [--weights default] [--mask-only] \\
        [--segment grabcut,auto]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
from PIL import Image

from r2n2_viewer.images import ImageError, PrepSettings, load_view, prepare_photo, to_pil
from r2n2_viewer.models.data.categories import load_categories
from r2n2_viewer.models.data.composites import wallpapers
from r2n2_viewer.models.data.shapenet import build_index
from r2n2_viewer.models.voxels import iou, read_binvox
from r2n2_viewer.session import ReconstructionSession

PHOTO = (1024, 768)
ENLARGE = 3
# The held-out wallpapers that are photographs (classified by eye from a contact sheet of
# the 34, before any were scored): what the issue asks to measure on. The others are
# illustrations, renders and patterns (grids, isometric tiles, flat shapes), kept as the
# harder ``--backdrops all``.
PHOTOGRAPHS = frozenset({
    "mate-backgrounds__Blinds.jpg", "mate-backgrounds__FreshFlower.jpg",
    "mate-backgrounds__Garden.jpg", "mate-backgrounds__GreenMeadow.jpg",
    "mate-backgrounds__LadyBird.jpg", "mate-backgrounds__Storm.jpg",
    "mate-backgrounds__Wood.jpg", "plasma-workspace-wallpapers__ColdRipple_2560x1600.jpg",
    "plasma-workspace-wallpapers__ColorfulCups_2560x1600.jpg",
    "plasma-workspace-wallpapers__FallenLeaf_2560x1600.jpg",
})


def background_crop(path: Path, rng: np.random.Generator) -> Image.Image:
    im = Image.open(path).convert("RGB")
    r = max(PHOTO[0] / im.width, PHOTO[1] / im.height)
    if r > 1:
        im = im.resize((round(im.width * r + 0.5), round(im.height * r + 0.5)),
                       Image.Resampling.BICUBIC)
    x = int(rng.integers(0, im.width - PHOTO[0] + 1))
    y = int(rng.integers(0, im.height - PHOTO[1] + 1))
    return im.crop((x, y, x + PHOTO[0], y + PHOTO[1]))


def composite(rgba: Image.Image, backdrop: Image.Image, rng: np.random.Generator
              ) -> tuple[Image.Image, np.ndarray]:
    """(photo, true mask): the render enlarged and pasted near the centre, JPEG q90."""
    size = (rgba.width * ENLARGE, rgba.height * ENLARGE)
    big = rgba.convert("RGBA").resize(size, Image.Resampling.BICUBIC)
    dx = int(rng.integers(-PHOTO[0] // 8, PHOTO[0] // 8))
    dy = int(rng.integers(-PHOTO[1] // 10, PHOTO[1] // 10))
    x, y = (PHOTO[0] - size[0]) // 2 + dx, (PHOTO[1] - size[1]) // 2 + dy
    photo = backdrop.copy()
    photo.paste(big, (x, y), big)
    truth = np.zeros((PHOTO[1], PHOTO[0]), bool)
    truth[y : y + size[1], x : x + size[0]] = np.asarray(big.getchannel("A")) > 127
    buf = _jpeg(photo)
    return Image.open(buf), truth


def _jpeg(im: Image.Image):
    import io

    buf = io.BytesIO()
    im.save(buf, format="JPEG", quality=90)
    buf.seek(0)
    return buf


def mask_iou(found: np.ndarray, truth: np.ndarray) -> float:
    if found.shape != truth.shape:
        found = np.asarray(Image.fromarray(found.astype(np.uint8) * 255).resize(
            truth.shape[::-1], Image.Resampling.BILINEAR)) > 127
    union = (found | truth).sum()
    return float((found & truth).sum() / union) if union else 1.0


def failure_picture(photo: Image.Image, mask: np.ndarray, view: np.ndarray, iou_: float,
                    path: Path) -> None:
    h = 240
    w = round(photo.width * h / photo.height)
    left = photo.convert("RGB").resize((w, h))
    m = Image.fromarray((mask > 0.5).astype(np.uint8) * 255).resize((w, h))
    tint = Image.composite(left, Image.new("RGB", (w, h), (255, 0, 255)), m)
    right = to_pil(view).resize((h, h), Image.Resampling.NEAREST)
    sheet = Image.new("RGB", (2 * w + h + 20, h), (255, 255, 255))
    sheet.paste(left, (0, 0))
    sheet.paste(tint, (w + 10, 0))
    sheet.paste(right, (2 * w + 20, 0))
    sheet.save(path)
    del iou_


def thumbnail(photo: Image.Image, mask: np.ndarray, view: np.ndarray, h: int = 120
              ) -> Image.Image:
    """photo | photo with the background found painted magenta | network input."""
    w = round(photo.width * h / photo.height)
    left = photo.convert("RGB").resize((w, h), Image.Resampling.BILINEAR)
    m = Image.fromarray((mask > 0.5).astype(np.uint8) * 255).resize((w, h))
    tint = Image.composite(left, Image.new("RGB", (w, h), (255, 0, 255)), m)
    sheet = Image.new("RGB", (2 * w + h + 8, h), (255, 255, 255))
    sheet.paste(left, (0, 0))
    sheet.paste(tint, (w + 4, 0))
    sheet.paste(to_pil(view).resize((h, h), Image.Resampling.BILINEAR), (2 * w + 8, 0))
    return sheet


def montage(items: list[tuple[float, Image.Image]], path: Path, rows: int = 6) -> None:
    """Two columns: the best, median and worst composites by mask IoU, labelled."""
    from PIL import ImageDraw

    items = sorted(items, key=lambda t: -t[0])
    n = len(items)
    picks = [items[i] for i in sorted({0, 1, n // 3, n // 2, (2 * n) // 3, n - 4, n - 3,
                                       n - 2, n - 1, 2, n // 2 + 1, n - 5}) if 0 <= i < n]
    picks = picks[: 2 * rows]
    tw, th = picks[0][1].size
    sheet = Image.new("RGB", (2 * tw + 12, (th + 18) * ((len(picks) + 1) // 2)), "white")
    d = ImageDraw.Draw(sheet)
    for k, (score, im) in enumerate(picks):
        x, y = (k % 2) * (tw + 12), (k // 2) * (th + 18)
        sheet.paste(im, (x, y + 16))
        d.text((x + 2, y + 2), f"mask IoU {score:.2f}", fill="black")
    sheet.save(path, optimize=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", required=True, help="ShapeNet-format dataset root")
    ap.add_argument("--backgrounds", required=True, help="folder of background photos")
    ap.add_argument("--out", required=True, help="folder for failure-case pictures")
    ap.add_argument("--split", default="test")
    ap.add_argument("--views", type=int, default=3, help="views per model")
    ap.add_argument("--limit", type=int, default=40, help="models at most")
    ap.add_argument("--segment", default="grabcut,auto",
                    help="comma-separated methods, each run on the same composites "
                    "(auto, plain, hybrid, learned, grabcut); failure pictures are the last one's")
    ap.add_argument("--weights", default="default")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--backdrops", choices=("photographs", "all"), default="photographs",
                    help="held-out wallpapers to composite onto: the photographs "
                    "(default) or all of them, illustrations and patterns too")
    ap.add_argument("--mask-only", action="store_true",
                    help="mask IoU only: no plain-backdrop photos, no reconstructions (fast)")
    args = ap.parse_args()
    import torch

    torch.set_num_threads(1)
    methods_asked = [m.strip() for m in args.segment.split(",") if m.strip()]
    for m in methods_asked:
        if m not in ("auto", "plain", "hybrid", "learned", "grabcut"):
            ap.error(f"unknown --segment method {m!r}")

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    records = build_index(args.data, args.split)
    rng = np.random.default_rng(args.seed)
    if len(records) > args.limit:  # an even spread over the categories
        by_cat = defaultdict(list)
        for r in records:
            by_cat[r.synset].append(r)
        picked = []
        while len(picked) < args.limit:
            for cat in sorted(by_cat):
                if by_cat[cat] and len(picked) < args.limit:
                    picked.append(by_cat[cat].pop(0))
        records = picked
    try:
        names = load_categories(Path(args.data) / "categories.json")
    except (OSError, ValueError):
        names = {}
    bgs = wallpapers(args.backgrounds, "held-out")  # never seen by the segmenter
    if args.backdrops == "photographs":
        bgs = [b for b in bgs if b.name in PHOTOGRAPHS]
        if not bgs:
            ap.error(f"no held-out photographs in {args.backgrounds}; use --backdrops all")
    session = None if args.mask_only else ReconstructionSession(args.weights, device="cpu")
    plain = PrepSettings(segment="plain")
    last = methods_asked[-1]
    mask_ious: dict[str, list[float]] = {m: [] for m in methods_asked}
    times: dict[str, list[float]] = {m: [] for m in methods_asked}
    cpu: dict[str, list[float]] = {m: [] for m in methods_asked}
    used: dict[str, Counter] = {m: Counter() for m in methods_asked}
    kinds = ["rendering", "plain photo"] + [f"cluttered {m}" for m in methods_asked]
    recon: dict[str, list[list[float]]] = {k: [] for k in kinds}
    per_cat: dict[str, dict[str, list[float]]] = {m: defaultdict(list) for m in methods_asked}
    per_bg: dict[str, dict[str, list[float]]] = {m: defaultdict(list) for m in methods_asked}
    failures = 0
    thumbs: list[tuple[float, Image.Image]] = []
    for rec in records:
        truth_vox = read_binvox(rec.voxel_path)
        seq: dict[str, list[np.ndarray]] = {k: [] for k in kinds}
        for name in rec.views[: args.views]:
            path = rec.rendering_dir / name
            rgba = Image.open(path)
            rgba.load()
            bg_path = bgs[int(rng.integers(len(bgs)))]
            photo, truth = composite(rgba, background_crop(bg_path, rng), rng)
            for m in methods_asked:
                t0, c0 = time.perf_counter(), time.process_time()
                try:
                    prep = prepare_photo(photo, PrepSettings(segment=m))
                    found = prep.mask > 0.5
                except ImageError:  # nothing found: the whole picture goes to the model
                    prep = prepare_photo(photo, PrepSettings(segment="none"))
                    found = np.zeros_like(truth)
                times[m].append(time.perf_counter() - t0)
                cpu[m].append(time.process_time() - c0)
                used[m][prep.method if found.any() else "nothing found"] += 1
                m_iou = mask_iou(found, truth)
                mask_ious[m].append(m_iou)
                per_cat[m][names.get(rec.synset, rec.synset)].append(m_iou)
                per_bg[m][bg_path.stem.split("__")[-1]].append(m_iou)
                seq[f"cluttered {m}"].append(prep.view)
            thumbs.append((m_iou, thumbnail(photo, prep.mask, prep.view)))
            if m_iou < 0.9:
                failures += 1
                failure_picture(photo, prep.mask, prep.view, m_iou,
                                out / f"fail_{m_iou:.2f}_{rec.model_id}_{Path(name).stem}_"
                                f"{bg_path.stem}.png")
            if args.mask_only:
                continue
            grey, _ = composite(rgba, Image.new("RGB", PHOTO, (240, 240, 240)), rng)
            seq["rendering"].append(load_view(path))
            seq["plain photo"].append(prepare_photo(grey, plain).view)
        k = len(rec.views[: args.views])
        line = f"{names.get(rec.synset, rec.synset):>12} {rec.model_id}: mask IoU " + "; ".join(
            f"{m} {', '.join(f'{v:.3f}' for v in mask_ious[m][-k:])}" for m in methods_asked)
        if not args.mask_only:
            for kind, views in seq.items():
                session.reset()
                scores = [iou(session.add_view(v).probabilities >= 0.4, truth_vox)
                          for v in views]
                recon[kind].append(scores)
            line += f"; recon IoU at {k} views: " + ", ".join(
                f"{kind} {recon[kind][-1][-1]:.3f}" for kind in kinds)
        print(line, flush=True)

    n = len(mask_ious[last])
    montage(thumbs, out / "montage.png")
    print(f"\n{len(records)} models x {args.views} views = {n} composites on "
          f"{len(bgs)} held-out backgrounds ({args.backdrops}; split {args.split})")
    print(f"{'method':>10} {'mean':>6} {'median':>6} {'>=0.90':>7} {'wall median':>12} "
          f"{'max':>7} {'CPU median':>11}  used")
    for m in methods_asked:
        v = np.array(mask_ious[m])
        print(f"{m:>10} {v.mean():>6.3f} {np.median(v):>6.3f} {np.mean(v >= 0.9):>7.1%} "
              f"{1000 * statistics.median(times[m]):>9.0f} ms {1000 * max(times[m]):>4.0f} ms"
              f" {1000 * statistics.median(cpu[m]):>8.0f} ms  {dict(used[m])}")
    print(f"({failures} failure pictures of {last} in {out})")
    for group, by in (("category", per_cat), ("backdrop", per_bg)):
        for m in methods_asked:
            print(f"mask IoU per {group}, {m}: " + ", ".join(
                f"{c} {np.mean(v):.3f} ({len(v)})" for c, v in sorted(by[m].items())))
    if args.mask_only:
        return
    print(f"{'views given as':>18} {'IoU @1 view':>12} {'IoU @' + str(args.views) + ' views':>13}")
    for kind, rows in recon.items():
        a = np.array([r + [r[-1]] * (args.views - len(r)) for r in rows])
        print(f"{kind:>18} {a[:, 0].mean():>12.3f} {a[:, -1].mean():>13.3f}")
    ref = np.mean([r[-1] for r in recon["plain photo"]])
    for m in methods_asked:
        diff = np.mean([r[-1] for r in recon[f"cluttered {m}"]]) - ref
        print(f"cluttered ({m}) - plain photo at {args.views} views: {diff:+.3f}")


if __name__ == "__main__":
    main()
