"""Hostile and broken inputs, one defect at a time: each is refused with one clear line,
writes nothing outside its folder, allocates nothing it was not shown to need."""

from __future__ import annotations

import json
import os
import re
import resource
import threading
from pathlib import Path

import numpy as np
import pytest
import torch
from hostile_data import make_dataset, pack_arrays, rewrite_pack, zip_bomb
from safetensors.torch import save as st_save

from r2n2_viewer.cli import main
from r2n2_viewer.models.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from r2n2_viewer.models.data.pack import PackError, pack, read_pack, unpack
from r2n2_viewer.models.voxels import BinvoxError, decode_binvox, encode_binvox, read_binvox


def _tree(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


def _one_line_error(capsys, argv: list[str]) -> str:
    """The one error line ``r2n2 argv`` prints (progress bars aside); it must fail."""
    assert main(argv) != 0
    err = [ln for ln in capsys.readouterr().err.strip().splitlines()
           if not re.search(r"%\||\d+it \[", ln)]
    assert len(err) == 1, err
    return err[0]


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _call_with_timeout(fn, timeout: float = 10.0):
    """``fn()`` in a thread: its exception, or a failure if it is still blocked."""
    box: dict = {}

    def run():
        try:
            box["value"] = fn()
        except BaseException as exc:  # noqa: BLE001 - handed back to the test
            box["error"] = exc

    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(timeout)
    assert not t.is_alive(), f"still blocked after {timeout} s"
    return box


@pytest.fixture(scope="module")
def packed(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("hostile_pack")
    make_dataset(d / "data", per_cat=2, views=2)
    pack(d / "data", d / "good.npz", views=2, workers=1, progress=False)
    return d / "good.npz"


# --- 1. unpack never writes outside -o -------------------------------------------------
@pytest.mark.parametrize("key, index, name", [
    ("synsets", 0, "../../../escaped"),
    ("synsets", 0, "{outside}/absolute"),
    ("model_ids", 1, "../../../../escaped"),
    ("view_names", 0, "../../../../../../escaped.png"),
    ("view_names", 1, "{outside}/absolute.png"),
    ("view_names", 0, "renderings.txt"),
])
def test_unpack_refuses_names_that_leave_the_output_folder(packed, tmp_path, capsys, key,
                                                          index, name):
    a = pack_arrays(packed)
    values = a[key].tolist()
    values[index] = name.format(outside=tmp_path / "outside")
    evil = rewrite_pack(packed, tmp_path / "evil.npz", **{key: np.array(values)})
    work = tmp_path / "work"
    work.mkdir()
    before = _tree(tmp_path)
    err = _one_line_error(capsys, ["unpack", str(evil), "-o", str(work / "a" / "b" / "out"),
                                   "--workers", "1"])
    assert "not a plain" in err
    assert _tree(tmp_path) == before  # nothing written anywhere, not even the output folder


def test_unpack_refuses_a_category_id_that_is_a_path(packed, tmp_path):
    cats = json.dumps({"../../x": "chair", "03001627": "chair"})
    evil = rewrite_pack(packed, tmp_path / "evil.npz", categories=np.array(cats))
    with pytest.raises(PackError, match="categories"):
        unpack(evil, tmp_path / "out", workers=1, progress=False)
    assert not (tmp_path / "out").exists()


# --- 6. malformed packs: one line, checked before inflating -----------------------------
@pytest.mark.parametrize("change", [
    dict(drop=("view_start",)),
    dict(drop=("categories",)),
    dict(categories=np.array(json.dumps(["chair", "table"]))),
    dict(categories=np.array("{not json")),
    dict(webp_offsets=np.array([0.0, 1.5])),
    dict(view_start=np.array([0, 5, 2, 8, 8])),
    dict(binvox_offsets=np.array([0, 10**12, 0, 0, 0])),
    dict(synsets=np.array([["03001627"] * 4])),
    dict(webp=np.zeros(3, np.int64)),
    dict(view_metadata=np.array(["a\nb"] * 8)),
])
def test_malformed_packs_give_one_line(packed, tmp_path, capsys, change):
    drop = change.pop("drop", ())
    evil = rewrite_pack(packed, tmp_path / "evil.npz", drop=drop, **change)
    err = _one_line_error(capsys, ["unpack", str(evil), "-o", str(tmp_path / "out")])
    assert str(evil) in err and "r2n2 unpack: error:" in err
    assert not (tmp_path / "out").exists()


def test_a_zip_bomb_is_refused_from_its_headers(tmp_path):
    bomb = zip_bomb(tmp_path / "bomb.npz", 600 * 2**20)  # 600 MiB of zeros in ~0.6 MB
    assert bomb.stat().st_size < 2**20
    before = _peak_rss_mb()
    with pytest.raises(PackError, match="zip bomb"):
        read_pack(bomb)
    assert _peak_rss_mb() - before < 200  # never inflated


def test_a_corrupt_view_leaves_no_partial_dataset(packed, tmp_path):
    a = pack_arrays(packed)
    webp = a["webp"].copy()
    webp[a["webp_offsets"][3] : a["webp_offsets"][4]] = 7  # one view's bytes: garbage
    evil = rewrite_pack(packed, tmp_path / "evil.npz", webp=webp)
    (tmp_path / "empty").mkdir()
    for out in (tmp_path / "new", tmp_path / "empty"):
        with pytest.raises(PackError, match="unreadable packed view"):
            unpack(evil, out, workers=1, progress=False)
    assert not (tmp_path / "new").exists() and not any((tmp_path / "empty").iterdir())


# --- 16. binvox: capped dimensions, no trailing data -----------------------------------
def test_binvox_lying_header_is_refused_before_allocating():
    grid = np.zeros((32, 32, 32), bool)
    data = encode_binvox(grid).replace(b"dim 32 32 32", b"dim 1024 1024 1024")
    before = _peak_rss_mb()
    with pytest.raises(BinvoxError, match="larger than 256"):
        decode_binvox(data)
    assert _peak_rss_mb() - before < 200
    assert decode_binvox(encode_binvox(np.ones((300, 2, 2), bool)), max_dim=512).occupancy.all()


@pytest.mark.parametrize("tail", [b"\x01", b"\x01\x05", b"\x00\x00\x00\x00"])
def test_binvox_trailing_data_is_refused(tail):
    data = encode_binvox(np.random.default_rng(0).random((32, 32, 32)) < 0.3)
    decode_binvox(data)
    with pytest.raises(BinvoxError, match="trailing"):
        decode_binvox(data + tail)


def test_binvox_from_a_fifo_or_device_is_refused_without_reading(tmp_path):
    fifo = tmp_path / "model.binvox"
    os.mkfifo(fifo)
    for path, kind in ((fifo, "FIFO"), ("/dev/zero", "character device"),
                       (tmp_path, "folder")):
        box = _call_with_timeout(lambda p=path: read_binvox(p))
        assert isinstance(box.get("error"), (OSError, ValueError)), box
        assert kind in str(box["error"])


# --- 2. checkpoint configs checked before anything is allocated ------------------------
def _checkpoint_with_meta(path: Path, tensors: dict, meta: object) -> Path:
    raw = json.dumps(meta)
    path.write_bytes(st_save(tensors, metadata={"r2n2": raw}))
    return path


def _config_change(tiny_net, **change) -> dict:
    return {"format": "r2n2-viewer-checkpoint/1", "config": {**tiny_net.cfg.to_dict(), **change}}


@pytest.mark.parametrize("meta, match", [
    ({"fc_features": 4_000_000}, "fc_features must lie"),
    ({"fc_features": -3}, "fc_features must lie"),
    ({"fc_features": "32"}, "must be an integer"),
    ({"fc_features": [32]}, "must be an integer"),
    ({"hidden_channels": 8.0}, "must be an integer"),
    ({"enc_channels": [8, 8, 8, "8", 8, 8]}, "list of integers"),
    ({"batchnorm": "no"}, "true or false"),
    ({"leaky_slope": 5}, "leaky_slope"),
    ({"cell": 3}, "must be a string"),
    ("list", "not a JSON object"),
    ("config-list", "not a JSON object"),
])
def test_checkpoint_config_fields_are_checked(tiny_net, tmp_path, capsys, meta, match):
    tensors = {k: v.contiguous() for k, v in tiny_net.state_dict().items()}
    if meta == "list":
        body = [1, 2, 3]
    elif meta == "config-list":
        body = {"format": "r2n2-viewer-checkpoint/1", "config": [1, 2]}
    else:
        body = _config_change(tiny_net, **meta)
    path = _checkpoint_with_meta(tmp_path / "bad.safetensors", tensors, body)
    with pytest.raises(CheckpointError, match=match):
        load_checkpoint(path)
    err = _one_line_error(capsys, ["eval", "--weights", str(path), "--data", str(tmp_path)])
    assert match in err


# --- 11. non-finite weights -------------------------------------------------------------
def test_non_finite_weights_are_refused_naming_the_tensor(tiny_net, tmp_path, capsys):
    state = {k: v.clone() for k, v in tiny_net.state_dict().items()}
    name = "decoder.conv11.weight" if "decoder.conv11.weight" in state else next(iter(state))
    state[name].view(-1)[3] = float("nan")
    net = type(tiny_net)(tiny_net.cfg)
    net.load_state_dict(state)
    save_checkpoint(tmp_path / "nan.safetensors", net)
    with pytest.raises(CheckpointError, match=f"tensor {name} holds NaN"):
        load_checkpoint(tmp_path / "nan.safetensors")
    err = _one_line_error(capsys, ["eval", "--weights", str(tmp_path / "nan.safetensors"),
                                   "--data", str(tmp_path)])
    assert name in err


def test_official_converter_checks_finiteness_after_the_float32_cast(tmp_path):
    from official_reference import Widths, random_arrays

    from r2n2_viewer.models.config import NetConfig
    from r2n2_viewer.models.official import (
        OfficialWeightsError,
        convert_official,
        save_official_layout,
    )

    w = Widths(enc=(6, 8, 10, 12, 14, 14), fc=20, hidden=8, dec=(8, 8, 6, 4))
    arrays = [a.astype(np.float64) for a in random_arrays("gru", w, 0)]
    arrays[4][0, 0, 0, 0] = 1e300  # finite as float64, inf as float32
    save_official_layout(tmp_path / "GRUNet.npy", arrays)
    cfg = NetConfig(encoder="shallow", decoder="shallow", enc_channels=w.enc, fc_features=w.fc,
                    hidden_channels=w.hidden, dec_channels=w.dec)
    with pytest.raises(OfficialWeightsError, match="array 4 .* NaN or inf"):
        convert_official(tmp_path / "GRUNet.npy", cfg=cfg)


# --- 10. weights that are not regular files ---------------------------------------------
def test_weights_that_are_not_regular_files_are_named(tmp_path, capsys):
    fifo = tmp_path / "w.safetensors"
    os.mkfifo(fifo)
    npy_fifo = tmp_path / "w.npy"
    os.mkfifo(npy_fifo)
    for path, kind in ((tmp_path, "folder"), (fifo, "FIFO"), (npy_fifo, "FIFO"),
                       ("/dev/zero", "character device")):
        box = _call_with_timeout(lambda p=path: main(["eval", "--weights", str(p),
                                                      "--data", str(tmp_path)]))
        assert box.get("value") == 2, box
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and kind in err[0] and "no such" not in err[0], err
    box = _call_with_timeout(lambda: main(["convert", str(npy_fifo), "-o",
                                           str(tmp_path / "o.safetensors")]))
    assert box.get("value") == 2 and "FIFO" in capsys.readouterr().err


def test_loading_a_good_checkpoint_still_works(tiny_net, tiny_checkpoint):
    net, meta = load_checkpoint(tiny_checkpoint)
    for k, v in tiny_net.state_dict().items():
        assert torch.equal(net.state_dict()[k], v)
    assert type(tiny_net.cfg).from_dict(meta["config"]) == tiny_net.cfg


# --- 5, 8. renderings.txt: names stay in the rendering folder; bad text skips one model --
def _first_rendering_dir(root: Path) -> Path:
    return sorted((root / "ShapeNetRendering").glob("*/*/rendering"))[0]


def test_view_listing_cannot_leave_the_rendering_folder(tmp_path, caplog):
    from r2n2_viewer.models.data.shapenet import build_index

    root = make_dataset(tmp_path / "data", per_cat=2, views=2)
    secret = tmp_path / "secret.png"
    secret.write_bytes((_first_rendering_dir(root) / "00.png").read_bytes())
    rdir = _first_rendering_dir(root)
    depth = len(rdir.relative_to(tmp_path).parts)
    (rdir / "renderings.txt").write_text(f"{'../' * depth}secret.png\n{secret}\n01.png\n")
    records = build_index(root, "all")
    rec = next(r for r in records if r.rendering_dir == rdir)
    assert rec.views == ("01.png",)
    assert any("renderings.txt" in m and "plain file names" in m for m in caplog.messages)
    pack(root, tmp_path / "p.npz", views=8, workers=1, progress=False)
    assert "secret.png" not in "".join(pack_arrays(tmp_path / "p.npz")["view_names"].tolist())


def test_a_non_utf8_listing_skips_only_its_model(tmp_path, caplog, tiny_checkpoint, capsys):
    from r2n2_viewer.models.data.shapenet import build_index

    root = make_dataset(tmp_path / "data", per_cat=5, views=2)
    rdir = _first_rendering_dir(root)
    (rdir / "renderings.txt").write_bytes(b"00.png\n\xff\xfe\xfa.png\n")
    records = build_index(root, "all")
    assert len(records) == 9 and rdir not in [r.rendering_dir for r in records]
    assert any(str(rdir / "renderings.txt") in m and "UTF-8" in m for m in caplog.messages)
    assert pack(root, tmp_path / "p.npz", views=2, workers=1, progress=False)["models"] == 9
    assert main(["eval", "--weights", tiny_checkpoint, "--data", str(root), "--max-views", "1",
                 "--device", "cpu"]) == 0
    assert "mean IoU" in capsys.readouterr().out


def test_pack_leaves_out_a_model_with_a_broken_view(tmp_path, caplog):
    root = make_dataset(tmp_path / "data", per_cat=2, views=2)
    (_first_rendering_dir(root) / "01.png").write_bytes(b"not a png")
    (_first_rendering_dir(root).parent.parent.parent / "x").mkdir()  # not a model: ignored
    assert pack(root, tmp_path / "p.npz", views=2, workers=1, progress=False)["models"] == 3
    assert any("01.png" in m and "left out of the pack" in m for m in caplog.messages)


# --- 16. messages name the file -----------------------------------------------------------
@pytest.mark.parametrize("content, match", [
    (b"{not json", "not a JSON category file"),
    (b"\xff\xfe{}", "not a JSON category file"),
    (json.dumps({"x": {"id": "../../etc"}}).encode(), "not a plain folder name"),
])
def test_category_file_errors_name_the_file(tmp_path, capsys, content, match):
    root = make_dataset(tmp_path / "data", per_cat=1, views=1)
    (root / "categories.json").write_bytes(content)
    err = _one_line_error(capsys, ["pack", str(root), "-o", str(tmp_path / "p.npz")])
    assert str(root / "categories.json") in err and match in err


def test_write_errors_name_the_target_not_the_temporary_file(tmp_path, capsys):
    root = make_dataset(tmp_path / "data", per_cat=1, views=1)
    target = tmp_path / "missing" / "p.npz"
    err = _one_line_error(capsys, ["pack", str(root), "-o", str(target), "--workers", "1"])
    assert f"cannot write {target}" in err and ".tmp" not in err
    (tmp_path / "p.npz").mkdir()
    err = _one_line_error(capsys, ["pack", str(root), "-o", str(tmp_path / "p.npz"),
                                   "--workers", "1"])
    assert "is a folder" in err and ".tmp" not in err


# --- 4, 9, 13. training: never destroy a run; options and states checked --------------
_TRAIN = ["--preset", "tiny", "--batch-size", "2", "--max-views", "2", "--workers", "0",
          "--val-models", "0", "--no-progress", "--threads", "1"]


@pytest.fixture(scope="module")
def train_data(tmp_path_factory) -> Path:
    return make_dataset(tmp_path_factory.mktemp("train") / "data", per_cat=5, views=2)


def _train(data: Path, out: Path, iterations: int, *extra: str) -> int:
    return main(["train", "--data", str(data), "--out", str(out), "--iterations",
                 str(iterations), "--checkpoint-every", "2", *_TRAIN, *extra])


def test_resume_without_training_state_refuses_and_keeps_the_run(train_data, tmp_path, capsys):
    run = tmp_path / "run"
    assert _train(train_data, run, 2) == 0
    (run / "train_state.pt").unlink()
    before = {p.name: p.read_bytes() for p in run.iterdir()}
    capsys.readouterr()
    for extra in ((), ("--resume",)):
        err = _one_line_error(capsys, ["train", "--data", str(train_data), "--out", str(run),
                                       "--iterations", "4", *_TRAIN, *extra])
        assert f"--init {run / 'last.safetensors'}" in err and "train_state.pt" in err
        assert {p.name: p.read_bytes() for p in run.iterdir()} == before


def test_a_corrupt_training_state_is_one_line(train_data, tmp_path, capsys):
    run = tmp_path / "run"
    assert _train(train_data, run, 2) == 0
    (run / "train_state.pt").write_bytes(b"PK\x03\x04 definitely not a torch file")
    capsys.readouterr()
    err = _one_line_error(capsys, ["train", "--data", str(train_data), "--out", str(run),
                                   "--iterations", "4", *_TRAIN])
    assert "unreadable training state" in err and "--init" in err


def test_resume_after_a_hard_kill_logs_each_iteration_once(train_data, tmp_path):
    run = tmp_path / "run"
    assert _train(train_data, run, 2) == 0
    log = run / "log.csv"
    # a hard kill after iterations 3 and 4 were logged but before their checkpoint
    rows = log.read_text().splitlines()
    log.write_text("\n".join(rows + [f"{i}," + rows[-1].split(",", 1)[1] for i in (3, 4)])
                   + "\n")
    assert _train(train_data, run, 4) == 0
    its = [int(r.split(",")[0]) for r in log.read_text().splitlines()[1:]]
    assert its == [1, 2, 3, 4]


@pytest.mark.parametrize("option, value, match", [
    ("--checkpoint-every", "0", "--checkpoint-every must be at least 1"),
    ("--val-every", "0", "--val-every must be at least 1"),
    ("--iterations", "-5", "--iterations must not be negative"),
    ("--lr", "nan", "--lr must be a positive number"),
    ("--workers", "-1", "--workers must not be negative"),
])
def test_unusable_training_options_are_one_line(train_data, tmp_path, capsys, option, value,
                                                match):
    err = _one_line_error(capsys, ["train", "--data", str(train_data), "--out",
                                   str(tmp_path / "run"), *_TRAIN, option, value])
    assert match in err
    assert not (tmp_path / "run" / "last.safetensors").exists()


def test_training_on_a_dataset_without_readable_images_is_one_line(tmp_path, capsys):
    root = make_dataset(tmp_path / "data", per_cat=5, views=2)
    for png in root.rglob("*.png"):
        png.write_bytes(b"\x89PNG broken")
    for workers in ("0", "1"):
        err = _one_line_error(capsys, ["train", "--data", str(root), "--out",
                                       str(tmp_path / f"run{workers}"), "--iterations", "2",
                                       *_TRAIN, "--workers", workers])
        assert str(root) in err and "unreadable" in err


def test_a_device_that_cannot_compute_is_refused():
    from r2n2_viewer.weights import pick_device

    for device in ("meta", "cpu:0:1"):
        with pytest.raises(ValueError, match="device"):
            pick_device(device)
    assert pick_device("cpu").type == "cpu"


# --- 14. synth resumed with other settings ----------------------------------------------
def test_synth_refuses_to_extend_a_dataset_with_other_views(tmp_path, capsys):
    from r2n2_viewer.models.synth.generate import generate

    generate(tmp_path, 1, views=2, categories=["chair"], workers=1, progress=False)
    manifest = (tmp_path / "synth.json").read_bytes()
    err = _one_line_error(capsys, ["synth", "--out", str(tmp_path), "--models-per-category",
                                   "1", "--views", "3", "--categories", "chair"])
    assert "--views 2" in err
    assert (tmp_path / "synth.json").read_bytes() == manifest
    err = _one_line_error(capsys, ["synth", "--out", str(tmp_path), "--models-per-category",
                                   "1", "--views", "2", "--seed", "1", "--categories", "chair"])
    assert "--seed 0" in err
