"""Time and peak memory of preparing one photo (``images.load_view``) at 1-64 megapixels.

Writes synthetic photos once (an object on an almost plain, slightly noisy backdrop, as a
phone photo of an object against a wall; JPEG quality 90 and PNG) into --dir, then
prepares each in a fresh process: after imports and a warm-up on a small picture the
process's peak-RSS counter is reset (``/proc/self/clear_refs``), and the script reports
the median wall time of --repeats runs, the extra peak RSS over the resident size before
the first run (everything the preparation allocated, Pillow's buffers included),
tracemalloc's peak (Python and numpy allocations only) and, as the floor, the median time
Pillow takes to decode the whole picture and nothing else (a PNG has no reduced decoding:
its zlib stream must be inflated in full, so preparing one cannot beat this).

    nice -n 10 python benchmarks/photo_prep.py [--sizes 1,12,36,64] [--dir /tmp/photo_prep]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

SIZES = {1: (1152, 864), 12: (4000, 3000), 36: (6000, 6000), 64: (9236, 6928)}


def make_photo(path: Path, size: tuple[int, int], fmt: str) -> None:
    """An object (seat, back, legs, a cushion) on a noisy off-white backdrop."""
    w, h = size
    rng = np.random.default_rng(0)
    base = np.empty((h, w, 3), np.uint8)
    ramp = np.linspace(236, 246, h, dtype=np.float32)[:, None]  # soft light fall-off
    base[...] = ramp[..., None].astype(np.uint8)
    im = Image.fromarray(base)
    d = ImageDraw.Draw(im)
    s = min(w, h) / 1000

    def box(x0, y0, x1, y1, fill):
        d.rectangle([w / 2 + x0 * s, h / 2 + y0 * s, w / 2 + x1 * s, h / 2 + y1 * s], fill=fill)

    box(-220, 40, 220, 110, (120, 70, 40))  # seat
    box(-220, -300, -150, 40, (110, 65, 35))  # back
    box(-200, -300, 200, -230, (110, 65, 35))
    for x in (-210, 170):
        box(x, 110, x + 40, 330, (90, 50, 30))  # legs
    d.ellipse([w / 2 - 150 * s, h / 2 - 20 * s, w / 2 + 150 * s, h / 2 + 60 * s],
              fill=(40, 90, 160))  # cushion
    arr = np.asarray(im)
    noise = rng.integers(-4, 5, (h, w, 1), dtype=np.int16)  # sensor noise, grey
    arr = np.clip(arr.astype(np.int16) + noise, 0, 255).astype(np.uint8)
    del noise
    out = Image.fromarray(arr)
    tmp = path.with_name(path.name + ".part")
    if fmt == "JPEG":
        out.save(tmp, format="JPEG", quality=90)
    else:
        out.save(tmp, format="PNG", compress_level=1)
    tmp.replace(path)  # a half-written photo is never measured


def _rss_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(field)


def measure(path: str, repeats: int, module: str | None = None) -> dict:
    """Run in a child process: prepare ``path`` ``repeats`` times."""
    import tracemalloc

    if module:  # another version of images.py, e.g. the one before a change
        import importlib.util

        spec = importlib.util.spec_from_file_location("images_under_test", module)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        load_view = mod.load_view
    else:
        from r2n2_viewer.images import load_view

    warm = Image.new("RGB", (64, 48), (240, 240, 240))
    warm.paste((20, 20, 20), (20, 10, 40, 30))
    load_view(warm)
    before = _rss_kb("VmRSS")
    Path("/proc/self/clear_refs").write_text("5")  # reset VmHWM to the current RSS
    times = []
    tracemalloc.start()
    for _ in range(repeats):
        t0 = time.perf_counter()
        view = load_view(path)
        times.append(time.perf_counter() - t0)
        del view
    peak_py = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    rss = (_rss_kb("VmHWM") - before) / 1024
    decodes = []  # the floor: Pillow decoding the whole picture, nothing else
    for _ in range(repeats):
        t0 = time.perf_counter()
        with Image.open(path) as im:
            im.load()
        decodes.append(time.perf_counter() - t0)
    return {"ms": 1000 * float(np.median(times)), "rss_mb": rss,
            "tracemalloc_mb": peak_py / 2**20, "decode_ms": 1000 * float(np.median(decodes))}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1,12,36,64", help="megapixels: any of 1,12,36,64")
    ap.add_argument("--formats", default="JPEG,PNG")
    ap.add_argument("--dir", default="/tmp/photo_prep")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--module", help="measure this images.py instead of the installed one")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(measure(args.child, args.repeats, args.module)))
        return
    folder = Path(args.dir)
    folder.mkdir(parents=True, exist_ok=True)
    print(f"{'photo':>22} {'MB on disk':>10} {'median ms':>10} {'extra peak RSS MB':>18} "
          f"{'tracemalloc MB':>15} {'full decode ms':>15}")
    for mp in (int(s) for s in args.sizes.split(",")):
        for fmt in args.formats.split(","):
            size = SIZES[mp]
            path = folder / f"photo_{mp}mp.{'jpg' if fmt == 'JPEG' else 'png'}"
            if not path.exists():
                make_photo(path, size, fmt)
            proc = subprocess.run([sys.executable, __file__, "--child", str(path),
                                   "--repeats", str(args.repeats)]
                                  + (["--module", args.module] if args.module else []),
                                  capture_output=True, text=True, env=os.environ.copy())
            if proc.returncode != 0:
                print(f"{path.name}: failed: {proc.stderr.strip().splitlines()[-1:]}")
                continue
            r = json.loads(proc.stdout.strip().splitlines()[-1])
            label = f"{size[0]}x{size[1]} {fmt}"
            print(f"{label:>22} {path.stat().st_size / 2**20:>10.1f} {r['ms']:>10.0f} "
                  f"{r['rss_mb']:>18.0f} {r['tracemalloc_mb']:>15.0f} {r['decode_ms']:>15.0f}",
                  flush=True)


if __name__ == "__main__":
    main()
