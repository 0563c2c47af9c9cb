"""`r2n2 reconstruct`: files per step, formats, errors."""

from __future__ import annotations

import numpy as np
import pytest
import trimesh
from factories import box_views

from r2n2_viewer.cli import main
from r2n2_viewer.models.voxels import read_binvox


@pytest.fixture
def pngs(tmp_path) -> list[str]:
    return box_views(tmp_path, 2, size=(150, 120))  # not a 137x137 rendering: framed


def test_every_step_all_formats(pngs, tiny_checkpoint, tmp_path, capsys):
    out = tmp_path / "new" / "out"
    argv = ["reconstruct", *pngs, "--weights", tiny_checkpoint, "--out", str(out),
            "--every-step", "--format", "binvox,obj,smooth-obj,npz", "--threshold", "0.5",
            "--device", "cpu", "--no-progress"]
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert "view 2/2 view_2.png" in text and " ms, " in text and "voxels >= 0.5" in text
    with np.load(out / "reconstruction.npz") as z:
        assert sorted(z.files) == ["step1", "step2"]
        probs = z["step2"]
    assert probs.shape == (32, 32, 32) and probs.dtype == np.float32
    for k in (1, 2):
        occ = read_binvox(out / f"step_{k:02d}.binvox")
        with np.load(out / "reconstruction.npz") as z:
            np.testing.assert_array_equal(occ, z[f"step{k}"] >= 0.5)
        assert occ.any()  # the seeded tiny network fills some voxels at 0.5
        for name in (f"step_{k:02d}.obj", f"step_{k:02d}_smooth.obj"):
            assert (out / name).read_text().startswith("# r2n2-viewer")
            assert len(trimesh.load(out / name, force="mesh").faces) > 0
    assert not (out / "reconstruction.binvox").exists()


def test_last_step_only(pngs, tiny_checkpoint, tmp_path):
    out = tmp_path / "o"
    assert main(["reconstruct", *pngs, "--weights", tiny_checkpoint, "--out", str(out),
                 "--device", "cpu", "--no-progress"]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["reconstruction.binvox", "reconstruction.obj"]


def test_bad_image_exits_2_naming_file(pngs, tiny_checkpoint, tmp_path, capsys):
    bad = tmp_path / "notes.png"
    bad.write_text("not a picture")
    out = tmp_path / "o"
    rc = main(["reconstruct", pngs[0], str(bad), "--weights", tiny_checkpoint,
               "--out", str(out), "--no-progress"])
    assert rc == 2
    err = capsys.readouterr().err.strip()
    assert "notes.png" in err and len(err.splitlines()) == 1
    assert not out.exists()  # every picture is checked before anything is written


@pytest.mark.parametrize("extra, match", [(["--format", "stl"], "unknown --format"),
                                          (["--threshold", "1.5"], "--threshold"),
                                          (["--threshold", "nan"], "--threshold"),
                                          (["--device", "meta"], "--device")])
def test_bad_options_exit_2(pngs, tiny_checkpoint, tmp_path, capsys, extra, match):
    rc = main(["reconstruct", pngs[0], "--weights", tiny_checkpoint, "--out",
               str(tmp_path / "o"), *extra])
    assert rc == 2 and match in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_help_mentions_options(capsys):
    assert main(["reconstruct", "--help"]) == 0
    text = capsys.readouterr().out
    for opt in ("--every-step", "--format", "--threshold", "--weights", "--device"):
        assert opt in text


def test_rerun_into_the_same_folder_leaves_no_stale_files(pngs, tiny_checkpoint, tmp_path):
    out = tmp_path / "o"
    common = ["--weights", tiny_checkpoint, "--out", str(out), "--device", "cpu",
              "--no-progress"]
    assert main(["reconstruct", *pngs, *common, "--every-step",
                 "--format", "binvox,obj,smooth-obj,npz"]) == 0
    (out / "notes.txt").write_text("mine")
    (out / "step_01.stl").write_text("not a name reconstruct writes")
    assert main(["reconstruct", pngs[0], *common, "--format", "binvox"]) == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "notes.txt", "reconstruction.binvox", "step_01.stl"]


def test_uncreatable_out_folder_is_one_line(pngs, tiny_checkpoint, tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    for out in ("/proc/r2n2-test/x", str(blocker / "sub")):
        rc = main(["reconstruct", pngs[0], "--weights", tiny_checkpoint, "--out", out,
                   "--device", "cpu", "--no-progress"])
        err = capsys.readouterr().err.strip()
        assert rc == 2 and len(err.splitlines()) == 1, err
        assert "Errno" not in err and "cannot create the output folder" in err
