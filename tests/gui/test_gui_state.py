"""The view-state model and the remembered view settings, without a window."""

from __future__ import annotations

import pytest
from PyQt6.QtCore import QSettings

from r2n2_viewer.gui import settings as view_settings
from r2n2_viewer.gui.state import DEFAULTS, ViewState


def changes(state: ViewState) -> list[frozenset[str]]:
    seen: list[frozenset[str]] = []
    state.changed.connect(seen.append)
    return seen


def test_one_signal_names_what_changed(qapp):
    s = ViewState()
    seen = changes(s)
    assert s.update(mode="smooth", threshold=0.55) == {"mode", "threshold"}
    assert seen == [frozenset({"mode", "threshold"})]
    assert s.update(mode="smooth") == frozenset() and len(seen) == 1  # no change: no signal
    s.set_overlay("gates", True)
    assert seen[-1] == {"overlays"} and s.overlays == {"gates"}
    assert s.layers() == ["smooth", "gates"]


def test_validation(qapp):
    s = ViewState()
    for bad in ({"mode": "wireframe"}, {"threshold": 1.5}, {"threshold": float("nan")},
                {"threshold": "x"}, {"overlays": {"changes", "sparkles"}},
                {"camera": "nowhere"}):
        with pytest.raises(ValueError):
            s.update(**bad)
    with pytest.raises(AttributeError):
        s.update(zoom=3)
    assert s.snapshot()["mode"] == "cubes" and s.threshold == DEFAULTS.threshold
    s.update(threshold=0.4449)
    assert s.threshold == 0.44  # the slider's resolution


def test_steps_clamp_follow_and_play(qapp):
    s = ViewState()
    s.set_step(3)
    assert s.step == 0  # no steps yet
    s.steps_arrived(2)
    assert (s.step, s.n_steps) == (2, 2)  # follows the newest step
    s.set_step(1)
    assert not s.follow
    s.steps_arrived(3)
    assert s.step == 1  # scrubbed back: stays
    s.set_step(99)
    assert s.step == 3 and s.follow
    s.steps_arrived(4)
    assert s.step == 4
    s.steps_arrived(1)
    assert s.step == 1
    s.update(playing=True)
    assert not s.playing  # nothing to play with one step
    s.steps_arrived(3)
    s.update(playing=True)
    assert s.playing


def test_overlay_truth_only_when_available(qapp):
    s = ViewState()
    s.update(overlays={"truth", "changes"})
    assert s.layers() == ["changed", "ghosts"]
    s.update(truth_available=True)
    assert s.layers() == ["changed", "ghosts", "truth"]


def test_reset_camera_always_signals(qapp):
    s = ViewState()
    asked: list[str] = []
    s.cameraRequested.connect(asked.append)
    s.reset_camera()
    s.reset_camera()
    assert asked == ["default", "default"]


def test_remembered_threshold_is_announced_and_resettable(qapp, tmp_path):
    ini = QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)
    ini.setValue("threshold", 0.79)
    ini.setValue("mode", "points")
    s = ViewState()
    notice = view_settings.restore(s, ini)
    assert s.threshold == 0.79 and s.mode == "points"
    assert "0.79" in notice and "Reset view settings" in notice
    s.changed.connect(lambda what: view_settings.save(s, ini, what))
    s.reset_view_settings()
    assert (s.threshold, s.mode) == (DEFAULTS.threshold, DEFAULTS.mode)
    assert float(ini.value("threshold")) == DEFAULTS.threshold and ini.value("mode") == "cubes"
    assert view_settings.restore(ViewState(), ini) == ""


def test_nonsense_settings_are_dropped(qapp, tmp_path):
    ini = QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)
    ini.setValue("threshold", "lots")
    ini.setValue("mode", "hologram")
    s = ViewState()
    assert view_settings.restore(s, ini) == ""
    assert (s.threshold, s.mode) == (DEFAULTS.threshold, DEFAULTS.mode)


def test_reset_keeps_the_ground_truth_a_fresh_start_shows(qapp):
    s = ViewState()
    s.update(truth_available=True, overlays={"truth"})
    assert s.at_defaults()
    s.update(overlays={"truth", "gates"}, mode="points")
    assert not s.at_defaults()
    s.reset_view_settings()
    assert s.overlays == {"truth"} and s.mode == "cubes" and s.at_defaults()
