"""The viewer's heavy imports (torch, PyVista/VTK, matplotlib, scikit-image), done
once and by one thread at a time.

The window appears before any of them; the worker's thread then imports them all while
the window is up. Two threads importing the same package at once can see it half
initialised (matplotlib's circular imports fail so), so every such import goes
through :func:`import_heavy`; the UI thread uses :func:`try_import_heavy`, which never
waits.
"""

from __future__ import annotations

import threading

_lock = threading.Lock()
_done = threading.Event()


def _import_all() -> None:
    import matplotlib.backends.backend_agg  # noqa: F401  (the IoU plot)
    import matplotlib.colors  # noqa: F401
    import matplotlib.figure  # noqa: F401
    import pyvista  # noqa: F401
    import pyvista.plotting  # noqa: F401
    import skimage.measure  # noqa: F401  (marching cubes)
    import torch  # noqa: F401
    import vtkmodules.qt.QVTKRenderWindowInteractor  # noqa: F401  (the viewport)

    from .. import images, render, scene, session  # noqa: F401


def ready() -> bool:
    return _done.is_set()


def import_heavy() -> None:
    """Import everything (blocking; a no-op once done)."""
    with _lock:
        if not _done.is_set():
            _import_all()
            _done.set()


def try_import_heavy() -> bool:
    """Import everything unless another thread is at it (then False at once)."""
    if _done.is_set():
        return True
    if not _lock.acquire(blocking=False):
        return False
    try:
        if not _done.is_set():
            _import_all()
            _done.set()
    finally:
        _lock.release()
    return True
