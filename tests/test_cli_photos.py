"""`r2n2 reconstruct` / `r2n2 render` photo options: --segment and --save-inputs."""

from __future__ import annotations

import os

import numpy as np
import pytest
from PIL import Image, ImageDraw

from r2n2_viewer.cli import main
from r2n2_viewer.images import load_view


@pytest.fixture
def photo(tmp_path) -> str:
    im = Image.new("RGB", (320, 240), (90, 200, 90))
    d = ImageDraw.Draw(im)
    d.rectangle([110, 60, 210, 180], fill=(150, 40, 40))
    path = tmp_path / "photo.jpg"
    im.save(path, quality=95)
    return str(path)


def _run(photo, tiny_checkpoint, out, *extra) -> int:
    return main(["reconstruct", photo, "--weights", tiny_checkpoint, "--out", str(out),
                 "--device", "cpu", "--no-progress", *extra])


@pytest.mark.parametrize("segment", ["auto", "plain", "hybrid", "learned", "grabcut", "none"])
def test_save_inputs_writes_the_exact_network_input(photo, tiny_checkpoint, tmp_path,
                                                     segment):
    inputs = tmp_path / "inputs"
    assert _run(photo, tiny_checkpoint, tmp_path / "o", "--segment", segment,
                "--save-inputs", str(inputs)) == 0
    assert sorted(os.listdir(inputs)) == ["input_01.png"]
    saved = np.asarray(Image.open(inputs / "input_01.png"), np.float32).transpose(2, 0, 1)
    np.testing.assert_array_equal(saved / 255.0, load_view(photo, segment=segment))


def test_segment_changes_the_input(photo, tiny_checkpoint, tmp_path):
    got = {}
    for segment in ("plain", "none"):
        d = tmp_path / segment
        assert _run(photo, tiny_checkpoint, tmp_path / "o", "--segment", segment,
                    "--save-inputs", str(d)) == 0
        got[segment] = np.asarray(Image.open(d / "input_01.png"))
    green = [((a[..., 1] > 170) & (a[..., 0] < 120)).sum() for a in got.values()]
    assert green[0] == 0 and green[1] > 1000  # the backdrop is replaced only when segmented


def test_bad_segment_choice_and_bad_inputs_folder(photo, tiny_checkpoint, tmp_path, capsys):
    assert _run(photo, tiny_checkpoint, tmp_path / "o", "--segment", "magic") == 2
    assert "invalid choice: 'magic'" in capsys.readouterr().err
    afile = tmp_path / "afile"
    afile.write_text("x")
    assert _run(photo, tiny_checkpoint, tmp_path / "o", "--save-inputs", str(afile)) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "--save-inputs" in err and "not a folder" in err


def test_fifo_image_is_one_line_error(tiny_checkpoint, tmp_path, capsys):
    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs here")
    fifo = tmp_path / "pipe.jpg"
    os.mkfifo(fifo)
    assert _run(str(fifo), tiny_checkpoint, tmp_path / "o") == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "not a regular file" in err
    assert not (tmp_path / "o").exists()


def test_segment_choices_are_the_library_modes():
    from r2n2_viewer.cli.reconstruct import SEGMENT_CHOICES
    from r2n2_viewer.images import SEGMENT_MODES

    assert SEGMENT_CHOICES == SEGMENT_MODES


def test_render_accepts_segment(photo, tiny_checkpoint, tmp_path):
    assert main(["render", photo, "--out", str(tmp_path / "r"), "--segment", "bogus"]) == 2
    from r2n2_viewer.cli import build_parser

    args = build_parser().parse_args(["render", photo, "--out", "x", "--segment", "grabcut"])
    assert args.segment == "grabcut"
