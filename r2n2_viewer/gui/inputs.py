"""Where views come from: files, dropped or pasted images, demos, dataset models (and
the file dialogs that pick them, and weights).

Every image becomes an :class:`~r2n2_viewer.gui.worker.ImageSource` sent to the worker
(which decodes it once, off the UI thread). A photo added while a demo or a dataset
model is shown asks first whether it starts a new sequence (without that ground truth
and IoU) or joins the one shown. Problems found here — a folder, a missing
file, a remote URL, a ground truth of the wrong size — are reported and skipped; the
rest still arrive.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
from PyQt6.QtCore import QUrl
from PyQt6.QtGui import QImage

from .worker import ImageSource, check_ground_truth

DATASET_VIEWS = 5  # views taken from a dataset model's renderings
IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.bmp *.webp *.tif *.tiff *.gif);;All files (*)"


def qimage_to_pil(image: QImage) -> Any:
    """A QImage -> PIL image (RGBA if it has an alpha channel, else RGB)."""
    from PIL import Image

    has_alpha = image.hasAlphaChannel()
    fmt = QImage.Format.Format_RGBA8888 if has_alpha else QImage.Format.Format_RGB888
    img = image.convertToFormat(fmt)
    w, h, ch = img.width(), img.height(), 4 if has_alpha else 3
    ptr = img.constBits()
    ptr.setsize(img.sizeInBytes())
    arr = np.frombuffer(ptr, np.uint8).reshape(h, img.bytesPerLine())[:, : w * ch]
    arr = arr.reshape(h, w, ch).copy()
    return Image.fromarray(arr, "RGBA" if has_alpha else "RGB")


class Inputs:
    """Sends views to ``window.worker``; reports problems through ``window.errors``."""

    def __init__(self, window: Any) -> None:
        from .sequences import ask_new_sequence

        self.window = window
        self.paste_count = 0
        self.origin: str | None = None  # the demo or dataset model shown (not own photos)
        # candidates for the next view: a demo's spare renderings, the rest of a dataset
        # model's renderings, removed views, pictures of a folder (see next_view_box)
        self.unused: list[ImageSource] = []
        self.ask = lambda origin: ask_new_sequence(window, origin)  # -> new / add / cancel

    def start_new_sequence(self) -> None:
        """Drop the views and the ground truth (and so the IoU): a sequence of one's own."""
        w = self.window
        w.state.update(playing=False)
        w.play_when_idle = False
        w.worker.reset()
        w.errors.resolve("ground-truth")
        self.origin = None
        self.unused = []

    def _own_views_may_join(self) -> bool:
        """Before own views are added: when a demo or dataset model is shown, ask whether
        they start a new sequence; False when the user cancels."""
        from .sequences import CANCEL, NEW

        w = self.window
        if self.origin is None or not (w.snapshot and w.snapshot.views):
            return True
        choice = self.ask(self.origin)
        if choice == CANCEL:
            return False
        if choice == NEW:
            self.start_new_sequence()
        self.origin = None  # asked once: the sequence is now the user's
        return True

    def add_urls(self, urls: list[QUrl]) -> None:
        """Add dropped/pasted URLs, one step each; refuse non-local ones and folders."""
        paths = []
        for url in urls:
            if not url.isLocalFile():
                self.window.errors.show(
                    "Cannot add image", f"{url.toDisplayString()}: only local files can be added")
                continue
            paths.append(url.toLocalFile())
        if paths:
            self.add_paths(paths)

    def add_paths(self, paths: list[str | os.PathLike]) -> None:
        """Add image files in order (bad ones are reported and skipped); asks first when
        a demo or dataset model is shown."""
        if self._own_views_may_join():
            self._send_paths(paths)

    def _send_paths(self, paths: list[str | os.PathLike]) -> None:
        w = self.window
        from ..cameras import view_cameras

        sources = []
        cameras = view_cameras(paths)
        for p, camera in zip(paths, cameras, strict=True):
            path = Path(p)
            if path.is_dir():
                w.errors.show("Cannot add image",
                              f"{path.name}: is a folder \u2014 drop image files instead")
            elif not path.exists():
                w.errors.show("Cannot add image", f"{path}: no such file")
            else:
                sources.append(ImageSource(str(path), path.name, camera=camera))
        if sources:
            w.settings.setValue("last_image_dir", str(Path(sources[-1].source).parent))
            w.state.update(follow=True)
            w.worker.add_images(sources)

    def add_image(self, image: QImage, what: str = "pasted") -> None:
        """Add an in-memory image (pasted or dropped)."""
        if not self._own_views_may_join():
            return
        self.paste_count += 1
        self.window.state.update(follow=True)
        self.window.worker.add_images([ImageSource(qimage_to_pil(image),
                                                   f"{what} {self.paste_count}")])

    def paste(self) -> None:
        """Add the clipboard's image (or the image files it names)."""
        from PyQt6.QtWidgets import QApplication

        mime = QApplication.clipboard().mimeData()
        if mime is not None and mime.hasUrls():
            self.add_urls(list(mime.urls()))
        elif mime is not None and mime.hasImage():
            self.add_image(QImage(mime.imageData()))
        elif mime is not None and mime.hasText() and mime.text().strip():
            self.add_urls([QUrl.fromUserInput(mime.text().strip().splitlines()[0])])
        else:
            self.window.errors.show("Cannot paste", "the clipboard holds no image")

    def open_demo(self, name: str) -> None:
        """Replace the views with a bundled demo sequence (with its ground truth)."""
        from ..demo import list_demos

        demo = next((d for d in list_demos() if d.name == name), None)
        if demo is None:
            self.window.errors.show("No such demo", f"{name}: not among the bundled demos")
            return
        self.load_sequence([str(p) for p in demo.images], demo.voxels_path,
                           f"the demo \u201c{demo.name}\u201d")
        if demo.candidates:  # its spare renderings: candidates for the next view
            self.unused = self._sources([str(p) for p in demo.candidates])
            self.window.next_view.refresh()

    @staticmethod
    def _sources(paths: list[str]) -> list[ImageSource]:
        """Image files as views to offer, each with its camera where known."""
        from ..cameras import view_cameras

        return [ImageSource(p, Path(p).name, camera=camera)
                for p, camera in zip(paths, view_cameras(paths), strict=True)]

    def load_sequence(self, paths: list[str], truth: np.ndarray | Path | None,
                      origin: str | None = None) -> None:
        """Start over with ``paths`` as the views and ``truth`` (an array or a binvox
        file) as the ground truth; play the steps once they are ready. ``origin`` names
        a demo or dataset model: own photos added later ask first."""
        w = self.window
        w.state.update(playing=False)
        w.worker.reset()
        w.errors.resolve("ground-truth")
        w.worker.set_ground_truth(self._ground_truth(truth))
        w.play_when_idle = True
        self.origin = origin
        self.unused = []
        self._send_paths(paths)

    def _ground_truth(self, truth: np.ndarray | Path | None) -> np.ndarray | None:
        from ..models.voxels import read_binvox

        if truth is None:
            return None
        name = truth.name if isinstance(truth, Path) else "ground truth"
        try:
            return check_ground_truth(read_binvox(truth) if isinstance(truth, Path) else truth)
        except (OSError, ValueError) as exc:
            self.window.errors.show("Cannot use the ground truth", f"{name}: {exc}",
                                    problem="ground-truth")
            return None

    def open_dataset_model(self, folder: str | os.PathLike) -> None:
        """Views and ground truth of a ShapeNet-format model folder."""
        from ..models.data.shapenet import model_files

        w = self.window
        try:
            found = model_files(folder)
        except (OSError, ValueError) as exc:
            w.errors.show("Not a dataset model", str(exc))
            return
        if found.voxel_path is None:
            w.statusBar().showMessage(f"{found.model_id}: no ground truth (model.binvox) "
                                      "found", 10000)
        w.settings.setValue("last_dataset_dir", str(found.views[0].parent.parent.parent))
        self.load_sequence([str(p) for p in found.views[:DATASET_VIEWS]], found.voxel_path,
                           f"the dataset model {found.model_id}")
        self.unused = self._sources([str(p) for p in found.views[DATASET_VIEWS:]])

    # --- dialogs ------------------------------------------------------------------------
    def add_dialog(self) -> None:
        from PyQt6.QtWidgets import QFileDialog

        w = self.window
        files, _ = QFileDialog.getOpenFileNames(
            w, "Add images (one step each, in order)", w.last_dir("last_image_dir"),
            IMAGE_FILTER)
        if files:
            self.add_paths(files)

    def replace_dialog(self, i: int) -> None:
        from PyQt6.QtWidgets import QFileDialog

        w = self.window
        path, _ = QFileDialog.getOpenFileName(w, f"Replace view {i + 1}",
                                              w.last_dir("last_image_dir"), IMAGE_FILTER)
        if path:
            w.worker.replace_view(i, ImageSource(path, Path(path).name))

    def weights_dialog(self) -> None:
        path = choose_weights_file(self.window, "Open weights")
        if path:
            self.window.load_weights(path)

    def dataset_dialog(self) -> None:
        from PyQt6.QtWidgets import QFileDialog

        w = self.window
        folder = QFileDialog.getExistingDirectory(
            w, "Open dataset model (<root>/ShapeNetRendering/<synset>/<model>)",
            w.last_dir("last_dataset_dir"))
        if folder:
            self.open_dataset_model(folder)

    def fill_demo_menu(self, menu: Any) -> None:
        from ..demo import list_demos

        menu.clear()
        demos = list_demos()
        if not demos:
            menu.addAction("(no demos installed)").setEnabled(False)
        for d in demos:
            act = menu.addAction(f"{d.name} ({d.category})" if d.category else d.name)
            act.triggered.connect(lambda _=False, n=d.name: self.open_demo(n))


def choose_weights_file(window: Any, title: str) -> str:
    """A weights file picked in a file dialog (starting in the last weights folder), or
    "" when cancelled."""
    from PyQt6.QtWidgets import QFileDialog

    path, _ = QFileDialog.getOpenFileName(
        window, title, window.last_dir("last_weights_dir"),
        "3D-R2N2 weights (*.safetensors *.npy);;All files (*)")
    return path
