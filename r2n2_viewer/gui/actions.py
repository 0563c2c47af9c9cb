"""Every menu entry and keyboard shortcut of the viewer, in one table.

Each :class:`ActionSpec` names a handler; :func:`build_actions` puts the actions in the
menus (their shortcuts work anywhere in the window, Space and the arrow keys included)
and returns them by name. Adding a command is one row here and one handler.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from PyQt6.QtCore import Qt
from PyQt6.QtGui import QAction, QKeySequence
from PyQt6.QtWidgets import QMainWindow, QMenu

from ..cameras import PRESET_LABELS, PRESETS
from ..slices import AXES
from .state import MODE_LABELS, MODES

Shortcut = str | QKeySequence.StandardKey | None


@dataclass(frozen=True)
class ActionSpec:
    menu: str  # menu title ("&File")
    name: str  # handler key; "-" = a separator
    text: str = ""
    shortcut: Shortcut = None
    submenu: bool = False  # the handler fills a QMenu each time it opens
    checkable: bool = False  # an on/off entry; the window keeps its tick in step (sync_checks)


SEPARATOR = "-"
ACTIONS: tuple[ActionSpec, ...] = (
    ActionSpec("&File", "add_images", "&Add images\u2026", QKeySequence.StandardKey.Open),
    ActionSpec("&File", "paste", "&Paste image", QKeySequence.StandardKey.Paste),
    ActionSpec("&File", "open_dataset_model", "Open &dataset model\u2026"),
    ActionSpec("&File", "demos", "Open d&emo", submenu=True),
    ActionSpec("&File", SEPARATOR),
    ActionSpec("&File", "open_sequence", "Open se&quence\u2026"),
    ActionSpec("&File", "save_sequence", "&Save sequence\u2026", QKeySequence.StandardKey.Save),
    ActionSpec("&File", SEPARATOR),
    ActionSpec("&File", "open_weights", "Open &weights\u2026", "Ctrl+Shift+O"),
    ActionSpec("&File", "use_bundled_model", "Use the &bundled model"),
    ActionSpec("&File", "compare_weights", "&Compare with weights\u2026"),
    ActionSpec("&File", "close_comparison", "C&lose comparison"),
    ActionSpec("&File", SEPARATOR),
    ActionSpec("&File", "export_step", "&Export step\u2026", "Ctrl+E"),
    ActionSpec("&File", "export_all", "Export &all steps\u2026", "Ctrl+Shift+E"),
    ActionSpec("&File", "export_npz", "Export probabilities of every step (.np&z)\u2026"),
    ActionSpec("&File", SEPARATOR),
    ActionSpec("&File", "new", "&New (remove all views)", QKeySequence.StandardKey.New),
    ActionSpec("&File", "quit", "&Quit", QKeySequence.StandardKey.Quit),
    ActionSpec("&View", "reset_camera", "&Reset camera", "Ctrl+R"),
    *(ActionSpec("&View", f"camera:{c}", f"Camera: {PRESET_LABELS[c]}", f"Alt+{k + 1}")
      for k, c in enumerate(PRESETS)),
    ActionSpec("&View", "look_from_step_view", "&Look from this step's view", "Alt+0"),
    ActionSpec("&View", "look_from_view", "Look from &view", submenu=True),
    ActionSpec("&View", SEPARATOR),
    *(ActionSpec("&View", f"mode:{m}", MODE_LABELS[m], f"Ctrl+{k + 1}")
      for k, m in enumerate(MODES)),
    ActionSpec("&View", "reset_view_settings", "Reset &view settings"),
    ActionSpec("&View", SEPARATOR),
    ActionSpec("&View", "slice_on", "&Slice plane of P", "Ctrl+L", checkable=True),
    *(ActionSpec("&View", f"slice_axis:{a}", f"Slice across &{a}", f"Alt+{a.upper()}",
                 checkable=True) for a in AXES),
    ActionSpec("&View", "slice_up", "Move the slice +1", "Ctrl+Up"),
    ActionSpec("&View", "slice_down", "Move the slice \u22121", "Ctrl+Down"),
    ActionSpec("&View", SEPARATOR),
    ActionSpec("&View", "play", "&Play / pause", "Space"),
    ActionSpec("&View", "next_step", "&Next step", "Right"),
    ActionSpec("&View", "previous_step", "P&revious step", "Left"),
    ActionSpec("&View", SEPARATOR),
    ActionSpec("&View", "cancel", "&Cancel the running job", "Esc"),
    ActionSpec("&Tools", "probing", "&Probe: click a voxel in the 3D view", "Ctrl+P",
               checkable=True),
    ActionSpec("&Tools", "probe_dialog", "Probe &voxel\u2026", "Ctrl+Shift+P"),
    ActionSpec("&Tools", "clear_probe", "&Clear probe"),
)


def build_actions(
    window: QMainWindow,
    handlers: Mapping[str, Callable[..., None]],
    specs: tuple[ActionSpec, ...] = ACTIONS,
) -> dict[str, QAction | QMenu]:
    """Create the menus of ``specs`` in ``window``'s menu bar, each action connected to
    ``handlers[name]`` (a missing handler is a KeyError: every row must work)."""
    menus: dict[str, QMenu] = {}
    out: dict[str, QAction | QMenu] = {}
    for spec in specs:
        if spec.menu not in menus:
            menus[spec.menu] = window.menuBar().addMenu(spec.menu)
        menu = menus[spec.menu]
        if spec.name == SEPARATOR:
            menu.addSeparator()
            continue
        handler = handlers[spec.name]
        if spec.submenu:
            sub = menu.addMenu(spec.text)
            sub.aboutToShow.connect(lambda sub=sub, h=handler: h(sub))
            out[spec.name] = sub
            continue
        act = QAction(spec.text, window)
        act.setCheckable(spec.checkable)
        if spec.shortcut is not None:
            act.setShortcut(QKeySequence(spec.shortcut))
            act.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        act.triggered.connect(lambda _=False, h=handler: h())
        menu.addAction(act)
        out[spec.name] = act
    return out
