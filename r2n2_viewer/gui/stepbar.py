"""The step bar under the viewport: play / pause, the step slider and "k / n"."""

from __future__ import annotations

from PyQt6.QtCore import Qt, QTimer
from PyQt6.QtWidgets import QHBoxLayout, QLabel, QSlider, QStyle, QToolButton, QWidget

from .state import ViewState

PLAY_MS = 700  # one step per frame while playing (also the exported GIF's frame time)


class StepBar(QWidget):
    """Bound to ``state``: the slider writes ``step``; the play button ``playing``.

    While ``playing``, a timer advances one step every ``PLAY_MS`` and stops at the last."""

    def __init__(self, state: ViewState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.play_button = QToolButton(self)
        self.play_button.setToolTip("Play / pause the refinement (Space)")
        self.play_button.clicked.connect(self.toggle_play)
        self.slider = QSlider(Qt.Orientation.Horizontal, self)
        self.slider.setPageStep(1)
        self.slider.setTickPosition(QSlider.TickPosition.TicksBelow)
        self.slider.setToolTip("Scrub through the steps (\u2190 / \u2192)")
        self.slider.valueChanged.connect(state.set_step)
        self.label = QLabel("no steps", self)
        self.label.setFixedWidth(70)
        lay.addWidget(self.play_button)
        lay.addWidget(QLabel("Step", self))
        lay.addWidget(self.slider, 1)
        lay.addWidget(self.label)
        self.timer = QTimer(self)
        self.timer.setInterval(PLAY_MS)
        self.timer.timeout.connect(self._tick)
        state.changed.connect(self._on_state)
        self._on_state(frozenset(ViewState.FIELDS))

    def toggle_play(self) -> None:
        s = self.state
        if s.playing:
            s.update(playing=False)
        elif s.n_steps > 1:
            s.update(playing=True, **({"step": 1} if s.step >= s.n_steps else {}))

    def _tick(self) -> None:
        s = self.state
        if s.step >= s.n_steps:
            s.update(playing=False)
        else:
            s.set_step(s.step + 1)

    def _on_state(self, changed: frozenset[str]) -> None:
        s = self.state
        self.slider.blockSignals(True)
        self.slider.setRange(1 if s.n_steps else 0, s.n_steps)
        self.slider.setValue(s.step)
        self.slider.blockSignals(False)
        self.label.setText(f"{s.step} / {s.n_steps}" if s.n_steps else "no steps")
        if "playing" in changed:
            if s.playing:
                self.timer.start()
            else:
                self.timer.stop()
            icon = (QStyle.StandardPixmap.SP_MediaPause if s.playing
                    else QStyle.StandardPixmap.SP_MediaPlay)
            self.play_button.setIcon(self.style().standardIcon(icon))
