"""Packed datasets: lossless round trip, split kept, safe and clear on bad files."""

from __future__ import annotations

import io
import pickle
from pathlib import Path

import numpy as np
import pytest
from factories import noise_rendering, shapenet_tree
from PIL import Image

from r2n2_viewer.cli import main
from r2n2_viewer.models.data.pack import FORMAT, PackError, pack, read_pack, unpack
from r2n2_viewer.models.data.shapenet import build_index, dataset_categories

SYNSETS = {"03001627": "chair", "99999999": "custom thing"}


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> Path:
    return shapenet_tree(tmp_path_factory.mktemp("src"), SYNSETS, per_category=6, views=5,
                         image=lambda rng, v: noise_rendering(rng), fill=0.2,
                         model_id=lambda syn, i: f"m{i:02d}{syn}")


@pytest.mark.parametrize("workers", [1, 2])
def test_round_trip_is_lossless_and_keeps_the_split(source, tmp_path, workers):
    packed = tmp_path / "d.npz"
    stats = pack(source, packed, views=3, workers=workers, progress=False)
    assert stats == {"models": 12, "views": 36, "bytes": packed.stat().st_size}
    copy = tmp_path / "copy"
    assert unpack(packed, copy, workers=workers, progress=False) == 12

    assert dataset_categories(copy) == SYNSETS
    for split in ("train", "test"):
        a, b = build_index(source, split), build_index(copy, split)
        assert [(r.synset, r.model_id) for r in a] == [(r.synset, r.model_id) for r in b]
    for rec in build_index(copy, "all"):
        src = source / "ShapeNetRendering" / rec.synset / rec.model_id / "rendering"
        assert rec.views == ("00.png", "01.png", "02.png")  # the first 3, in order
        for name in rec.views:
            assert np.array_equal(np.asarray(Image.open(rec.rendering_dir / name)),
                                  np.asarray(Image.open(src / name)))
        meta = (rec.rendering_dir / "rendering_metadata.txt").read_text().splitlines()
        assert meta == (src / "rendering_metadata.txt").read_text().splitlines()[:3]
        src_vox = source / "ShapeNetVox32" / rec.synset / rec.model_id / "model.binvox"
        assert rec.voxel_path.read_bytes() == src_vox.read_bytes()


def test_views_beyond_what_a_model_has_keep_them_all(source, tmp_path):
    pack(source, tmp_path / "d.npz", views=50, workers=1, progress=False)
    a = read_pack(tmp_path / "d.npz")
    assert np.all(np.diff(a["view_start"]) == 5)


def test_unpack_refuses_a_non_empty_folder(source, tmp_path):
    pack(source, tmp_path / "d.npz", views=1, workers=1, progress=False)
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("mine")
    with pytest.raises(PackError, match="not empty"):
        unpack(tmp_path / "d.npz", tmp_path / "full", progress=False)
    assert (tmp_path / "full" / "keep.txt").read_text() == "mine"


class _Payload:
    def __reduce__(self):
        return (Path.write_text, (Path(self.marker), "ran"))


def test_reading_never_unpickles(tmp_path):
    marker = tmp_path / "executed"
    payload = _Payload()
    payload.marker = str(marker)
    evil = tmp_path / "evil.npz"
    buf = io.BytesIO()
    np.savez(buf, format=np.array(FORMAT), synsets=np.array([payload], dtype=object))
    evil.write_bytes(buf.getvalue())
    pickle.dumps(payload)  # the payload is a real pickle gadget
    with pytest.raises(PackError, match="not a packed dataset"):
        read_pack(evil)
    assert not marker.exists()


@pytest.mark.parametrize("content, match", [
    (b"not a zip at all", "not a packed dataset"),
    (None, "format 'something/9'"),
])
def test_bad_files_name_the_problem(tmp_path, content, match):
    path = tmp_path / "x.npz"
    if content is None:
        np.savez(path, format=np.array("something/9"))
    else:
        path.write_bytes(content)
    with pytest.raises(PackError, match=match):
        read_pack(path)


def test_truncated_arrays_are_refused(source, tmp_path):
    pack(source, tmp_path / "d.npz", views=2, workers=1, progress=False)
    a = read_pack(tmp_path / "d.npz")
    a["webp"] = a["webp"][:-10]
    np.savez(tmp_path / "cut.npz", **a)
    with pytest.raises(PackError, match="truncated"):
        read_pack(tmp_path / "cut.npz")


def test_cli_pack_unpack_and_errors(source, tmp_path, capsys):
    out = tmp_path / "p.npz"
    assert main(["pack", str(source), "-o", str(out), "--views", "2", "--workers", "1"]) == 0
    assert "packed 12 models, 24 views" in capsys.readouterr().out
    assert main(["unpack", str(out), "-o", str(tmp_path / "c"), "--workers", "1"]) == 0
    assert len(build_index(tmp_path / "c", "all")) == 12
    capsys.readouterr()

    assert main(["pack", str(tmp_path / "missing"), "-o", str(out)]) != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "is not a folder" in err[0]
    assert main(["unpack", str(tmp_path / "nope.npz"), "-o", str(tmp_path / "d")]) != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no such file" in err[0]
