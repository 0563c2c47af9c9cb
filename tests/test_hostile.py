"""A hostile set replayed through the command line, each case in its own process.

Every case must end with a non-zero exit and one error line on stderr (data warnings
naming skipped files aside), no traceback, within a time limit (no hang), under a 3 GiB
address-space limit (a zip bomb or a lying header that allocates fails the case), and
write nothing outside its output folder. The cases run a few at a time.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
import torch
from hostile_data import make_dataset, pack_arrays, rewrite_pack, zip_bomb
from safetensors.torch import save as st_save

from r2n2_viewer.models.config import PRESETS
from r2n2_viewer.models.data.pack import pack
from r2n2_viewer.models.net import R2N2
from r2n2_viewer.models.synth.generate import GENERATOR_VERSION
from r2n2_viewer.models.voxels import encode_binvox

MEMORY_LIMIT = 3 * 2**30
TINY = PRESETS["tiny"]
_PROGRESS = re.compile(r"%\||\d+it \[")  # a tqdm progress bar line
TIMEOUT_S = 240  # generous: a shared machine under load; a hang never ends


@dataclass
class Case:
    name: str
    argv: list[str]  # r2n2 arguments; "{box}" is the case's own folder
    expect: str  # in the error line
    out: str = "out"  # the only place under {box} the command may write
    warn: str = ""  # in a warning line (a skipped file named)
    result: dict = field(default_factory=dict)


# the child limits its own address space, then runs `r2n2` (a preexec_fn is unsafe with the
# threads that run cases side by side)
_LAUNCH = ("import resource, runpy, sys; "
           f"resource.setrlimit(resource.RLIMIT_AS, ({MEMORY_LIMIT}, {MEMORY_LIMIT})); "
           "sys.argv[0] = 'r2n2'; runpy.run_module('r2n2_viewer.cli', run_name='__main__')")


def _snapshot(box: Path, out: Path) -> dict[str, tuple[int, int]]:
    """Every file under the cases' root but in an output folder (cases run side by side:
    each may write in its own ``out`` only)."""
    root = box.parent
    return {str(p): (p.stat().st_size, p.stat().st_mtime_ns) for p in root.rglob("*")
            if p.is_file() and out not in p.parents
            and p.relative_to(root).parts[1:2] != ("out",)}


def _run(case: Case, box: Path) -> None:
    argv = [a.replace("{box}", str(box)) for a in case.argv]
    out = box / case.out
    before = _snapshot(box, out)
    t0 = time.perf_counter()
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore"}
    try:
        proc = subprocess.run([sys.executable, "-c", _LAUNCH, *argv], cwd=box,
                              capture_output=True, text=True, timeout=TIMEOUT_S, env=env,
                              stdin=subprocess.DEVNULL)
        case.result.update(rc=proc.returncode, err=proc.stderr)
    except subprocess.TimeoutExpired:
        case.result.update(rc=None, err="timed out")
    case.result["seconds"] = time.perf_counter() - t0
    case.result["written_outside"] = sorted(set(_snapshot(box, out).items()) - set(before.items()))


def _tiny_tensors() -> dict[str, torch.Tensor]:
    torch.manual_seed(0)
    return {k: v.contiguous() for k, v in R2N2(TINY).state_dict().items()}


def _checkpoint(path: Path, tensors: dict, meta: object) -> None:
    path.write_bytes(st_save(tensors, metadata={"r2n2": json.dumps(meta)}))


def _config(**change) -> dict:
    return {"format": "r2n2-viewer-checkpoint/1", "config": {**TINY.to_dict(), **change}}


def _build(root: Path) -> list[Case]:
    """Write every case's inputs under ``root`` (one folder per case); the cases."""
    shared = root / "shared"
    make_dataset(shared / "data", per_cat=2, views=2)
    good = pack(shared / "data", shared / "good.npz", views=2, workers=1, progress=False)
    assert good["models"] == 4
    arrays = pack_arrays(shared / "good.npz")
    tensors = _tiny_tensors()
    cases: list[Case] = []

    def case(name: str, argv: list[str], expect: str, **kw) -> Path:
        box = root / name
        box.mkdir()
        cases.append(Case(name, argv, expect, **kw))
        return box

    def evil_pack(name: str, expect: str, drop: tuple[str, ...] = (), **change) -> None:
        box = case(name, ["unpack", "{box}/in.npz", "-o", "{box}/out", "--workers", "1"],
                   expect)
        rewrite_pack(shared / "good.npz", box / "in.npz", drop=drop, **change)

    def renamed(key: str, index: int, name: str) -> np.ndarray:
        values = arrays[key].tolist()
        values[index] = name
        return np.array(values)

    # packs: names that climb out, broken structure, a zip bomb
    evil_pack("pack_synset_dotdot", "not a plain", synsets=renamed("synsets", 0, "../../../up"))
    evil_pack("pack_model_absolute", "not a plain",
              model_ids=renamed("model_ids", 1, str(root / "pack_model_absolute" / "abs")))
    evil_pack("pack_view_dotdot", "not a plain",
              view_names=renamed("view_names", 0, "../../../../../../up.png"))
    evil_pack("pack_missing_key", "'view_start' is missing", drop=("view_start",))
    evil_pack("pack_categories_list", "categories", categories=np.array('["a", "b"]'))
    evil_pack("pack_offsets_backwards", "inconsistent",
              webp_offsets=arrays["webp_offsets"][::-1].copy())
    evil_pack("pack_object_array", "not a packed dataset",
              synsets=np.array([1, 2, 3, 4], dtype=object))
    box = case("pack_zip_bomb", ["unpack", "{box}/in.npz", "-o", "{box}/out"], "zip bomb")
    zip_bomb(box / "in.npz", int(3.5 * 2**30))  # 3.5 GiB of zeros in 3.5 MB

    # checkpoints: configs that ask for the moon, lies about the tensors, NaN, non-files
    def evil_weights(name: str, expect: str, meta: object, tensors=tensors) -> None:
        box = case(name, ["eval", "--weights", "{box}/w.safetensors", "--data", "{box}"],
                   expect)
        _checkpoint(box / "w.safetensors", tensors, meta)

    evil_weights("ckpt_fc_4m", "fc_features must lie", _config(fc_features=4_000_000))
    evil_weights("ckpt_wide_valid_config", "has shape",
                 _config(fc_features=65536, hidden_channels=4096, enc_channels=[4096] * 6,
                         dec_channels=[4096] * 4))
    evil_weights("ckpt_negative", "must lie", _config(hidden_channels=-8))
    evil_weights("ckpt_string_field", "must be an integer", _config(grid="4"))
    evil_weights("ckpt_meta_list", "not a JSON object", [1, 2])
    evil_weights("ckpt_all_nan", "holds NaN", _config(),
                 {k: torch.full_like(v, float("nan")) if v.is_floating_point() else v
                  for k, v in tensors.items()})
    box = case("weights_fifo", ["eval", "--weights", "{box}/w.safetensors", "--data", "{box}"],
               "FIFO")
    os.mkfifo(box / "w.safetensors")
    box = case("weights_dev_zero",
               ["eval", "--weights", "{box}/w.safetensors", "--data", "{box}"],
               "character device")
    (box / "w.safetensors").symlink_to("/dev/zero")
    case("weights_folder", ["eval", "--weights", "{box}", "--data", "{box}"],
         "is a folder, not a weights file")
    box = case("convert_fifo", ["convert", "{box}/w.npy", "-o", "{box}/out/w.safetensors"],
               "FIFO")
    os.mkfifo(box / "w.npy")

    # datasets: voxel files that lie about their size
    box = case("binvox_1024_header", ["eval", "--weights", "{box}/w.safetensors", "--data",
                                      "{box}/data", "--device", "cpu"], "no models to evaluate",
               warn="larger than 256 on a side")
    _checkpoint(box / "w.safetensors", tensors, _config())
    make_dataset(box / "data", per_cat=1, views=1)
    for vox in (box / "data").rglob("model.binvox"):
        lie = encode_binvox(np.zeros((32, 32, 32), bool)).split(b"data\n")[0]
        runs = bytes([0, 255]) * (1024**3 // 255) + bytes([0, 1024**3 % 255])
        vox.write_bytes(lie.replace(b"dim 32 32 32", b"dim 1024 1024 1024") + b"data\n" + runs)

    # datasets: listings that climb out or are not text
    box = case("listing_escapes", ["pack", "{box}/data", "-o", "{box}/out/p.npz"],
               "no usable models", warn="not plain file names")
    make_dataset(box / "data", per_cat=1, views=1)
    (box / "secret.png").write_bytes(next((box / "data").rglob("00.png")).read_bytes())
    for listing in (box / "data").rglob("renderings.txt"):
        listing.write_text(f"../../../../../secret.png\n{box / 'secret.png'}\n")
    box = case("listing_not_utf8", ["train", "--data", "{box}/data", "--out", "{box}/out",
                                    "--preset", "tiny", "--iterations", "1", "--workers", "0"],
               "no usable models", warn="not UTF-8")
    make_dataset(box / "data", per_cat=5, views=1)
    for listing in (box / "data").rglob("renderings.txt"):
        listing.write_bytes(b"\xff\xfe0\x000\x00.png")
    box = case("train_unreadable_images",
               ["train", "--data", "{box}/data", "--out", "{box}/out", "--preset", "tiny",
                "--iterations", "1", "--batch-size", "2", "--workers", "1", "--val-models", "0"],
               "unreadable models", warn="unreadable image")
    make_dataset(box / "data", per_cat=5, views=1)
    for png in (box / "data").rglob("*.png"):
        png.write_bytes(b"\x89PNG\r\n\x1a\n broken")

    # training: bad options, half a checkpoint, a corrupt state: the run is never touched
    def train_case(name: str, expect: str, *extra: str, state: bytes | None = None) -> None:
        box = case(name, ["train", "--data", str(shared / "data"), "--out", "{box}/run",
                          "--preset", "tiny", "--iterations", "4", "--workers", "0", *extra],
                   expect, out="nothing")
        if state is not None or name == "train_lost_state":
            (box / "run").mkdir()
            _checkpoint(box / "run" / "last.safetensors", tensors, _config())
            (box / "run" / "log.csv").write_text("iteration,loss\n1,0.5\n2,0.4\n")
            if state is not None:
                (box / "run" / "train_state.pt").write_bytes(state)

    train_case("train_checkpoint_every_0", "--checkpoint-every must be at least 1",
               "--checkpoint-every", "0")
    train_case("train_val_every_0", "--val-every must be at least 1", "--val-every", "0")
    train_case("train_lost_state", "--init")
    train_case("train_corrupt_state", "unreadable training state", state=b"\x80\x02garbage")

    # synth: extending a dataset with another number of views
    box = case("synth_other_views", ["synth", "--out", "{box}/data", "--models-per-category",
                                     "1", "--views", "3", "--categories", "chair"],
               "--views 2", out="nothing")
    (box / "data").mkdir()
    (box / "data" / "synth.json").write_text(json.dumps(
        {"generator_version": GENERATOR_VERSION, "seed": 0, "views": 2, "objects": []}))
    return cases


@pytest.fixture(scope="module")
def replayed(tmp_path_factory) -> dict[str, Case]:
    root = tmp_path_factory.mktemp("hostile")
    cases = _build(root)
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda c: _run(c, root / c.name), cases))
    return {c.name: c for c in cases}


CASE_NAMES = [
    "pack_synset_dotdot", "pack_model_absolute", "pack_view_dotdot", "pack_missing_key",
    "pack_categories_list", "pack_offsets_backwards", "pack_object_array", "pack_zip_bomb",
    "ckpt_fc_4m", "ckpt_wide_valid_config", "ckpt_negative", "ckpt_string_field",
    "ckpt_meta_list", "ckpt_all_nan", "weights_fifo", "weights_dev_zero", "weights_folder",
    "convert_fifo", "binvox_1024_header", "listing_escapes", "listing_not_utf8",
    "train_unreadable_images", "train_checkpoint_every_0", "train_val_every_0",
    "train_lost_state", "train_corrupt_state", "synth_other_views",
]


@pytest.mark.slow
def test_every_case_is_listed(replayed):
    assert sorted(replayed) == sorted(CASE_NAMES)


@pytest.mark.slow
@pytest.mark.parametrize("name", CASE_NAMES)
def test_hostile_case(replayed, name):
    case = replayed[name]
    r = case.result
    assert r["rc"] is not None, f"{name}: hung (no exit within {TIMEOUT_S} s)"
    assert r["rc"] > 0, f"{name}: exit status {r['rc']}\n{r['err'][-2000:]}"
    assert "Traceback" not in r["err"], r["err"][-3000:]
    warnings = [ln for ln in r["err"].splitlines() if ln.startswith("skipping ")]
    lines = [ln for ln in r["err"].splitlines()
             if ln.strip() and ln not in warnings and not _PROGRESS.search(ln)]
    assert len(lines) == 1, lines[-10:]
    assert case.warn in "\n".join(warnings), warnings
    assert lines[0].startswith("r2n2 ") and case.expect in lines[0], lines[0]
    assert r["written_outside"] == [], r["written_outside"]
