"""Remembered view settings (display mode, threshold) across starts.

A threshold or mode that differs from a fresh start's is never applied silently:
:func:`restore` returns a notice for the status bar, the panel marks the threshold
with its default, and "Reset view settings" returns to the defaults.
"""

from __future__ import annotations

from PyQt6.QtCore import QSettings

from .state import DEFAULTS, MODES, ViewState, check_threshold


def restore(state: ViewState, settings: QSettings) -> str:
    """Apply the remembered mode and threshold; returns a notice ("" when they are the
    defaults). Values that make no sense are dropped."""
    mode = str(settings.value("mode", DEFAULTS.mode))
    try:
        threshold = check_threshold(settings.value("threshold", DEFAULTS.threshold))
    except ValueError:
        threshold = DEFAULTS.threshold
    state.update(mode=mode if mode in MODES else DEFAULTS.mode, threshold=threshold)
    changed = []
    if state.threshold != DEFAULTS.threshold:
        changed.append(f"threshold {state.threshold:.2f} (default {DEFAULTS.threshold:.2f})")
    if state.mode != DEFAULTS.mode:
        changed.append(f"mode {state.mode}")
    if not changed:
        return ""
    return ("View settings from the last session: " + ", ".join(changed)
            + " \u2014 View \u2192 Reset view settings to start fresh")


def save(state: ViewState, settings: QSettings, changed: frozenset[str]) -> None:
    """Remember what changed (connected to ``state.changed``)."""
    if "mode" in changed:
        settings.setValue("mode", state.mode)
    if "threshold" in changed:
        settings.setValue("threshold", state.threshold)
