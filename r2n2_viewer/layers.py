"""Which layers of a step's scene are drawn for a display mode and the overlays.

Kept apart from :mod:`r2n2_viewer.render` (which imports PyVista) so that the viewer's
state can answer without loading VTK.
"""

from __future__ import annotations

MODES = ("cubes", "smooth", "points")


def layers_for(mode: str, changes: bool, gates: bool, truth: bool) -> list[str]:
    """The layers shown for a display mode and the overlay toggles."""
    if changes:
        out = ["changed", "ghosts"]
    elif mode in MODES:
        out = [mode]
    else:
        raise ValueError(f"unknown display mode {mode!r} (cubes, smooth or points)")
    if gates:
        out.append("gates")
    if truth:
        out.append("truth")
    return out
