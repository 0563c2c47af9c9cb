"""`r2n2 reconstruct`: files per step, formats, errors."""

from __future__ import annotations

import numpy as np
import pytest
import trimesh
from PIL import Image

from r2n2_viewer.cli import main
from r2n2_viewer.models.voxels import read_binvox


@pytest.fixture
def pngs(tmp_path) -> list[str]:
    paths = []
    for i, colour in enumerate([(200, 40, 40), (40, 40, 200)]):
        a = np.zeros((150, 120, 4), np.uint8)
        a[30 + 10 * i : 120, 20:100] = (*colour, 255)
        path = tmp_path / f"view{i}.png"
        Image.fromarray(a).save(path)
        paths.append(str(path))
    return paths


def test_every_step_all_formats(pngs, tiny_checkpoint, tmp_path, capsys):
    out = tmp_path / "new" / "out"
    argv = ["reconstruct", *pngs, "--weights", tiny_checkpoint, "--out", str(out),
            "--every-step", "--format", "binvox,obj,smooth-obj,npz", "--threshold", "0.5",
            "--device", "cpu", "--no-progress"]
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert "view 2/2 view1.png" in text and " ms, " in text and "voxels >= 0.5" in text
    with np.load(out / "reconstruction.npz") as z:
        assert sorted(z.files) == ["step1", "step2"]
        probs = z["step2"]
    assert probs.shape == (32, 32, 32) and probs.dtype == np.float32
    for k in (1, 2):
        occ = read_binvox(out / f"step_{k:02d}.binvox")
        with np.load(out / "reconstruction.npz") as z:
            np.testing.assert_array_equal(occ, z[f"step{k}"] >= 0.5)
        for name in (f"step_{k:02d}.obj", f"step_{k:02d}_smooth.obj"):
            text = (out / name).read_text()
            assert text.startswith("# r2n2-viewer")
            if "\nf " in text:
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
                                          (["--threshold", "1.5"], "--threshold")])
def test_bad_options_exit_2(pngs, tiny_checkpoint, tmp_path, capsys, extra, match):
    rc = main(["reconstruct", pngs[0], "--weights", tiny_checkpoint, "--out",
               str(tmp_path / "o"), *extra])
    assert rc == 2 and match in capsys.readouterr().err


def test_help_mentions_options(capsys):
    with pytest.raises(SystemExit):
        main(["reconstruct", "--help"])
    text = capsys.readouterr().out
    for opt in ("--every-step", "--format", "--threshold", "--weights", "--device"):
        assert opt in text
