"""The `r2n2` command as a whole: help, version, lazy imports, interruption, the shared
options and `view --demo`."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from r2n2_viewer import __version__
from r2n2_viewer.cli import COMMANDS, build_parser, main


def _subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def test_version(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"r2n2 {__version__}"


def test_every_command_registered():
    names = set(_subcommands())
    assert set(COMMANDS) <= names and "unpack" in names


@pytest.mark.parametrize("name", sorted(_subcommands()))
def test_help_shows_every_default(name, capsys):
    parser = _subcommands()[name]
    assert main([name, "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    for action in parser._actions:
        if (action.option_strings and not action.required
                and action.default not in (None, False, argparse.SUPPRESS)):
            assert f"default: {action.default}" in text, (name, action.option_strings)


_PROBE = """
import sys
from r2n2_viewer.cli import main
rc = main(sys.argv[1:])
print("torch imported" if "torch" in sys.modules else "torch not imported", rc)
"""


@pytest.mark.parametrize("argv", [["--help"], ["train", "--help"], ["eval", "--data"],
                                  ["reconstruct", "x.png", "--out", "o", "--threshold", "2"],
                                  ["synth", "--out", "o", "--models-per-category", "0"]])
def test_help_and_argument_errors_do_not_import_torch(argv):
    r = subprocess.run([sys.executable, "-c", _PROBE, *argv], capture_output=True, text=True,
                       timeout=120)
    assert r.stdout.strip().endswith(("torch not imported 0", "torch not imported 2")), r
    assert "Traceback" not in r.stderr


def test_interrupt_is_one_line_and_exit_130(monkeypatch, capsys, tmp_path):
    import r2n2_viewer.cli.pack as pack_command

    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(pack_command, "run_pack", interrupted)
    assert main(["pack", str(tmp_path), "-o", str(tmp_path / "x.npz")]) == 130
    assert capsys.readouterr().err == "r2n2 pack: interrupted\n"


@pytest.mark.slow
def test_ctrl_c_during_synth_workers(tmp_path):
    """SIGINT to the whole process group (what Ctrl+C does) while two render workers run.
    The child starts with SIGINT's default action, as from a terminal: a shell's
    background job (``cmd &``) inherits SIGINT ignored, and Python then keeps it so."""
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    out = tmp_path / "data"
    proc = subprocess.Popen(
        [sys.executable, "-m", "r2n2_viewer.cli", "synth", "--out", str(out),
         "--models-per-category", "40", "--categories", "chair", "--views", "2",
         "--workers", "2"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        start_new_session=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 120
    while not list(out.glob("ShapeNetVox32/*/*/model.binvox")) and time.monotonic() < deadline:
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    assert err.splitlines()[-1] == "r2n2 synth: interrupted"


def test_weights_typo_suggests_default(tmp_path, capsys):
    rc = main(["eval", "--weights", "defualt", "--data", str(tmp_path), "--device", "cpu"])
    err = capsys.readouterr().err
    assert rc == 2 and "did you mean 'default'" in err and len(err.splitlines()) == 1


def test_view_demo_by_category(monkeypatch):
    import r2n2_viewer.gui.app as app
    from r2n2_viewer.demo import find_demo, list_demos

    demos = list_demos()
    assert demos, "the bundled demos are missing"
    seen = {}
    monkeypatch.setattr(app, "run", lambda images, **kw: seen.update(kw) or 0)
    for d in demos:
        assert find_demo(d.category) == d and find_demo(d.name) == d
        assert main(["view", "--demo", d.category]) == 0
        assert seen["demo"] == d.name


def test_unknown_demo_lists_the_demos(monkeypatch, capsys):
    import r2n2_viewer.gui.app as app
    from r2n2_viewer.demo import list_demos

    monkeypatch.setattr(app, "run", lambda *a, **k: pytest.fail("the viewer must not open"))
    assert main(["view", "--demo", "giraffe"]) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "giraffe" in err
    for d in list_demos():
        assert d.name in err and d.category in err


@pytest.mark.slow
def test_synth_without_a_display_prints_no_vtk_warnings(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    r = subprocess.run(
        [sys.executable, "-m", "r2n2_viewer.cli", "synth", "--out", str(tmp_path / "d"),
         "--models-per-category", "1", "--categories", "chair,table", "--views", "1",
         "--workers", "2"], capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "wrote 2 objects" in r.stdout
    assert "X server" not in r.stderr and "WARN" not in r.stderr, r.stderr


def test_a_broken_demo_description_is_named_and_ignored(tmp_path):
    import shutil

    from r2n2_viewer.demo import list_demos

    src = list_demos()[0]
    for name, text in [("bad", "{not json"), ("list", "[1, 2]"), ("bytes", None)]:
        folder = tmp_path / name
        shutil.copytree(src.folder, folder)
        if text is None:
            (folder / "info.json").write_bytes(b"\xff\xfe{")
        else:
            (folder / "info.json").write_text(text)
    with pytest.warns(UserWarning) as caught:
        demos = list_demos(tmp_path)
    assert [d.name for d in demos] == ["bad", "bytes", "list"]
    assert all(d.category == "" for d in demos)
    named = [str(w.message) for w in caught]
    for name in ("bad", "bytes", "list"):
        assert any(str(tmp_path / name / "info.json") in m for m in named)


def test_the_viewer_opens_on_a_real_piece_and_the_bundled_ones_credit_their_makers():
    from r2n2_viewer.demo import Demo, featured_demo, list_demos

    def demo(name: str, gain: float, source: dict | None, featured: bool = False) -> Demo:
        return Demo(name, Path(name), "chair", (), None, gain, source, featured)

    procedural, real = demo("p", 0.3, None), demo("r", 0.1, {"name": "Armchair"})
    assert featured_demo([procedural, real]) is real  # a real piece first, even if it gains less
    assert featured_demo([procedural, demo("q", 0.2, None)]) is procedural
    assert featured_demo([]) is None
    marked = demo("m", 0.0, None, featured=True)
    assert featured_demo([procedural, real, marked]) is marked
    bundled = list_demos()
    real_ones = [d for d in bundled if d.source]
    assert real_ones and featured_demo(bundled) in real_ones
    assert any(d.source is None for d in bundled)  # and at least one procedural object
    for d in real_ones:
        assert all(d.source.get(k) for k in ("name", "creator", "license", "library")), d.name
