"""Which layers of a step's scene are drawn for a display mode and the overlays, and
what their colours mean (the colour bars).

Kept apart from :mod:`r2n2_viewer.render` (which imports PyVista) so that the viewer's
state can answer without loading VTK.
"""

from __future__ import annotations

from dataclasses import dataclass

MODES = ("cubes", "smooth", "points", "uncertainty", "errors", "seen")
NEEDS_TRUTH = ("errors",)  # modes drawn as plain cubes while no ground truth is known

PROBABILITY_CMAP = "viridis"
ENTROPY_CMAP = "coolwarm"
GATES_CMAP = "magma_r"
# errors mode: correct, false positive, false negative (RGB 0..255)
ERROR_RGB = ((200, 200, 205), (240, 120, 20), (40, 110, 230))
ERROR_LABELS = ("correct", "false positive", "false negative")
# seen mode: seen by a view so far, inferred (never seen)
SEEN_RGB = ((245, 185, 30), (125, 95, 205))
SEEN_LABELS = ("seen", "inferred")


@dataclass(frozen=True)
class ColourScale:
    """What the colours of one layer mean: a continuous map from ``low`` to ``high``, or
    (with ``categories``) one colour per named class."""

    title: str
    cmap: str = ""
    low: float = 0.0
    high: float = 1.0
    categories: tuple[tuple[str, tuple[int, int, int]], ...] = ()


SCALES = {
    "cubes": ColourScale("P(occupied)", PROBABILITY_CMAP),
    "points": ColourScale("P(occupied)", PROBABILITY_CMAP),
    "uncertainty": ColourScale("entropy (bits)", ENTROPY_CMAP),
    "band": ColourScale("entropy (bits)", ENTROPY_CMAP),
    "errors": ColourScale("vs. truth", categories=tuple(zip(ERROR_LABELS, ERROR_RGB,
                                                           strict=True))),
    "seen": ColourScale("by views so far", categories=tuple(zip(SEEN_LABELS, SEEN_RGB,
                                                               strict=True))),
    "changed": ColourScale("since last step", categories=(
        ("kept", (200, 200, 205)), ("appeared", (40, 170, 90)),
        ("disappeared", (220, 60, 60)))),
    "gates": ColourScale("update gate", GATES_CMAP),
    "slice": ColourScale("P(occupied)", PROBABILITY_CMAP),  # the slice plane of P
}


def colour_scales(layers: list[str]) -> list[ColourScale]:
    """The colour bars that explain ``layers`` (one per coloured layer, in order)."""
    out: list[ColourScale] = []
    for layer in layers:
        scale = SCALES.get(layer)
        if scale is not None and scale not in out:
            out.append(scale)
    return out


def layers_for(mode: str, changes: bool, gates: bool, truth: bool, band_only: bool = False,
               truth_known: bool | None = None) -> list[str]:
    """The layers shown for a display mode and the overlay toggles.

    ``band_only``: the uncertainty mode shows only the uncertain band. ``truth_known``
    (default: ``truth``): without it the errors mode falls back to cubes."""
    if mode not in MODES:
        raise ValueError(f"unknown display mode {mode!r} ({', '.join(MODES)})")
    known = truth if truth_known is None else truth_known
    if changes:
        out = ["changed", "ghosts"]
    elif mode == "uncertainty":
        out = ["band" if band_only else "uncertainty"]
    elif mode in NEEDS_TRUTH and not known:
        out = ["cubes"]
    else:
        out = [mode]
    if gates:
        out.append("gates")
    if truth and out[0] != "errors":
        out.append("truth")
    return out
