"""The review window: flip-book of t-2..t+2, locator, facts, progress, exposure and zoom.

Keys: A accept (real defect), R reject (false positive), S skip, U or Ctrl+Z undo, Left/Right
previous/next detection, Space pause/play the flip-book, Up/Down step its frame, + and - zoom,
[ and ] exposure down/up by half a stop, 0 automatic exposure.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from hotpixel.io.frames import FrameCache
from hotpixel.outputs.qc_page import display_loader, source_paths
from hotpixel.outputs.tone import display8
from hotpixel.review import images
from hotpixel.review.qt import load_qt
from hotpixel.review.session import ReviewSession

QtCore, QtGui, QtWidgets = load_qt()
KEYS = (
    "A accept (real defect) - R reject (false positive) - S skip - U / Ctrl+Z undo - "
    "Left/Right previous/next - Space play/pause - Up/Down step frames - +/- zoom - "
    "[ ] exposure - 0 auto exposure"
)
FLIP_MS = 350


def pixmap(image: np.ndarray) -> Any:
    """An 8-bit ``(h, w, 3)`` array as a QPixmap (copied: the array may go away)."""
    data = np.ascontiguousarray(image)
    h, w = data.shape[:2]
    qimage = QtGui.QImage(data.data, w, h, 3 * w, QtGui.QImage.Format.Format_RGB888)
    return QtGui.QPixmap.fromImage(qimage.copy())


def _frame(tile: np.ndarray, width: int, colour: tuple[int, int, int]) -> None:
    """Paint a ``width``-pixel border of ``colour`` round ``tile`` in place."""
    for edge in (tile[:width], tile[-width:], tile[:, :width], tile[:, -width:]):
        edge[...] = colour


class ReviewWindow(QtWidgets.QMainWindow):  # type: ignore[misc,name-defined]
    def __init__(self, session: ReviewSession) -> None:
        super().__init__()
        self.session = session
        self.load = FrameCache(display_loader(source_paths(session.report)), keep=12)
        self.zoom = 12
        self.stops: float | None = None  # None: automatic per detection
        self.flip = 2  # which of t-2..t+2 the flip-book shows
        self.setWindowTitle(f"hotpixel review - {session.out_dir}")
        self.flipbook = QtWidgets.QLabel()
        self.flipbook.setToolTip(KEYS)
        self.flipbook.setAlignment(QtCore.Qt.AlignmentFlag.AlignCenter)
        self.strip = QtWidgets.QLabel()
        self.strip.setToolTip("the same crop in frames t-2 .. t+2; the detection's frame in red")
        self.locator = QtWidgets.QLabel()
        self.locator.setToolTip("the whole frame; the red box is the detection")
        self.facts = QtWidgets.QLabel()
        self.progress = QtWidgets.QLabel()
        self.exposure = QtWidgets.QDoubleSpinBox()
        self.exposure.setRange(-4.0, 10.0)
        self.exposure.setSingleStep(0.5)
        self.exposure.setSuffix(" stops")
        self.exposure.setToolTip("exposure for scene-linear plates ([ and ] keys, 0 for auto)")
        self.exposure.valueChanged.connect(self._exposure_changed)
        self.zoom_box = QtWidgets.QSpinBox()
        self.zoom_box.setRange(2, 32)
        self.zoom_box.setValue(self.zoom)
        self.zoom_box.setSuffix("x")
        self.zoom_box.setToolTip("nearest-neighbour zoom (+ and - keys)")
        self.zoom_box.valueChanged.connect(self._zoom_changed)
        controls = QtWidgets.QHBoxLayout()
        for label, widget in (("Exposure", self.exposure), ("Zoom", self.zoom_box)):
            controls.addWidget(QtWidgets.QLabel(label))
            controls.addWidget(widget)
        controls.addStretch(1)
        controls.addWidget(self.progress)
        side = QtWidgets.QVBoxLayout()
        side.addWidget(self.locator)
        side.addWidget(self.facts)
        side.addStretch(1)
        top = QtWidgets.QHBoxLayout()
        top.addWidget(self.flipbook, 1)
        top.addLayout(side)
        layout = QtWidgets.QVBoxLayout()
        layout.addLayout(top, 1)
        layout.addWidget(self.strip)
        layout.addLayout(controls)
        keys = QtWidgets.QLabel(KEYS)
        keys.setWordWrap(True)
        layout.addWidget(keys)
        body = QtWidgets.QWidget()
        body.setLayout(layout)
        self.setCentralWidget(body)
        for widget in (self.exposure, self.zoom_box):  # keys belong to the window, not a box
            widget.setFocusPolicy(QtCore.Qt.FocusPolicy.ClickFocus)
        self.setFocusPolicy(QtCore.Qt.FocusPolicy.StrongFocus)
        self.timer = QtCore.QTimer(self)
        self.timer.setInterval(FLIP_MS)
        self.timer.timeout.connect(self.tick)
        self.timer.start()
        self.crops: list[tuple[int, np.ndarray | None]] = []
        self.auto_stops = 0.0  # set per detection; stays 0 when the report has none
        self.show_current()

    # -- drawing ---------------------------------------------------------------------------
    def show_current(self) -> None:
        det = self.session.current
        self.progress.setText(self.session.progress_text())
        if det is None:
            self.facts.setText("No detections in this report.")
            self.flipbook.clear()
            return
        self.crops = images.context(self.load, det)
        centre = self.crops[2][1]
        self.auto_stops = images.auto_stops(centre) if centre is not None else 0.0
        self.exposure.blockSignals(True)
        self.exposure.setValue(self.stops if self.stops is not None else self.auto_stops)
        self.exposure.blockSignals(False)
        image = self.load(int(det["frame"]))
        if image is not None:
            self.locator.setPixmap(pixmap(images.locator(image, det)))
        else:  # the frame is gone or damaged: not the previous detection's locator
            self.locator.setText(f"frame {det['frame']} cannot be read")
        verdict = self.session.verdict() or "open"
        done = "  -  all detections have a verdict" if self.session.done else ""
        self.facts.setText(
            f"{self.session.ids[self.session.index]}\nframe {det['frame']}\n"
            f"x {det['x']:.1f}  y {det['y']:.1f}\nNuke {det['nuke_x']:.1f}, {det['nuke_y']:.1f}\n"
            f"kind {det['kind']}\nscore {det['score']:.3f}\narea {det['area']} px\n"
            f"verdict: {verdict}{done}"
        )
        self._draw_strip()
        self._draw_flip()

    def current_stops(self) -> float:
        return self.stops if self.stops is not None else self.auto_stops

    def _tile(self, box: np.ndarray | None, zoom: int) -> np.ndarray:
        if box is None:
            size = 21 * zoom
            return np.full((size, size, 3), 60, np.uint8)
        return images.zoom(display8(box, self.current_stops()), zoom)

    def _draw_flip(self) -> None:
        if not self.crops:
            return
        frame, box = self.crops[self.flip]
        tile = self._tile(box, self.zoom)
        if self.flip == 2:
            _frame(tile, 3, (255, 255, 255))
        self.flipbook.setPixmap(pixmap(tile))
        self.flipbook.setToolTip(f"frame {frame} (t{self.flip - 2:+d})\n{KEYS}")

    def _draw_strip(self) -> None:
        if not self.crops:
            return
        small = max(self.zoom // 3, 2)
        tiles = []
        for i, (_, box) in enumerate(self.crops):
            tile = self._tile(box, small)
            if i == 2:
                _frame(tile, 2, (255, 0, 0))
            tiles.append(tile)
            tiles.append(np.zeros((tile.shape[0], 4, 3), np.uint8))
        self.strip.setPixmap(pixmap(np.concatenate(tiles[:-1], axis=1)))

    # -- events ----------------------------------------------------------------------------
    def tick(self) -> None:
        """Advance the flip-book one frame (the timer calls this)."""
        self.flip = (self.flip + 1) % 5
        self._draw_flip()

    def _exposure_changed(self, value: float) -> None:
        self.stops = float(value)
        self._draw_strip()
        self._draw_flip()

    def _zoom_changed(self, value: int) -> None:
        self.zoom = int(value)
        self._draw_strip()
        self._draw_flip()

    def keyPressEvent(self, event: Any) -> None:
        key = event.key()
        k = QtCore.Qt.Key
        ctrl = bool(event.modifiers() & QtCore.Qt.KeyboardModifier.ControlModifier)
        verdicts = {k.Key_A: "accept", k.Key_R: "reject", k.Key_S: "skip"}
        if key in verdicts and self.session.ids:
            self.session.label(verdicts[key])
            self.flip = 2
        elif key == k.Key_U or (ctrl and key == k.Key_Z):
            self.session.undo()
            self.flip = 2
        elif key in (k.Key_Right, k.Key_Left):
            self.session.move(1 if key == k.Key_Right else -1)
            self.flip = 2
        elif key == k.Key_Space:
            if self.timer.isActive():
                self.timer.stop()
            else:
                self.timer.start()
            return
        elif key in (k.Key_Up, k.Key_Down):
            self.flip = (self.flip + (1 if key == k.Key_Up else -1)) % 5
            self._draw_flip()
            return
        elif key in (k.Key_Plus, k.Key_Equal, k.Key_Minus):
            self.zoom_box.setValue(self.zoom + (2 if key != k.Key_Minus else -2))
            return
        elif key in (k.Key_BracketLeft, k.Key_BracketRight):
            step = 0.5 if key == k.Key_BracketRight else -0.5
            self.exposure.setValue(self.current_stops() + step)
            return
        elif key == k.Key_0:
            self.stops = None
        else:
            super().keyPressEvent(event)
            return
        self.show_current()
