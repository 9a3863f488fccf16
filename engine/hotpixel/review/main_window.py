"""The review window: groups by place, a labelled flip-book, locator, facts, exposure, zoom.

It shows one place at a time (a group of hits, :mod:`hotpixel.review.session`), with its best
hit's crops; a verdict there is given to every hit of the group. Enter opens the group to its
hits one by one, Escape goes back. It opens paused on the hit's own frame (Space plays the
flip-book), sized to the screen, with a note above saying where it resumed and, when given, a
warning (another review holds the folder: :mod:`hotpixel.review.lock`). The flip-book says
which frame is on screen (``t-1 (1004)``) and shows "no frame" where there is none; the
flagged pixels are outlined in cyan.

Keys: A accept (real defect), R reject (false positive), S skip, U or Ctrl+Z undo, Left/Right
previous/next place (or hit, in an open group), Enter open the group, Escape back to the
groups, Space pause/play the flip-book, Up/Down step its frame, + and - zoom, [ and ] exposure
down/up by half a stop, 0 automatic exposure.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from hotpixel.outputs.hit_sheet import context_frames
from hotpixel.outputs.qc_page import frame_loader
from hotpixel.outputs.tone import display8
from hotpixel.review import images
from hotpixel.review.qt import load_qt
from hotpixel.review.session import ReviewSession

QtCore, QtGui, QtWidgets = load_qt()
KEYS = (
    "A accept (real defect) - R reject (false positive) - S skip: for the whole place, or the "
    "hit in an open group - U / Ctrl+Z undo - Left/Right previous/next - Enter open the group - "
    "Esc back to groups - Space play/pause - Up/Down step frames - +/- zoom - [ ] exposure - "
    "0 auto exposure"
)
FLIP_MS = 350
RADIUS = 10  # crops are 21x21 pixels
SCREEN_SHARE = 0.9  # of the screen's free width and height the window opens at


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
    def __init__(self, session: ReviewSession, warning: str = "") -> None:
        super().__init__()
        self.session = session
        self.load = frame_loader(session.report, keep=12)
        self.zoom = 12
        self.stops: float | None = None  # None: automatic per detection
        self.flip = 2  # which of t-2..t+2 the flip-book shows
        self.setWindowTitle(f"hotpixel review - {session.out_dir}")
        self.notice = QtWidgets.QLabel("\n".join(t for t in (warning, session.resumed_text()) if t))
        self.notice.setWordWrap(True)
        self.notice.setHidden(not self.notice.text())
        if warning:
            self.notice.setStyleSheet("background: #5a1e14; color: #ffd0c0; padding: 4px")
        self.flip_label = QtWidgets.QLabel()
        self.flip_label.setAlignment(QtCore.Qt.AlignmentFlag.AlignCenter)
        self.flipbook = QtWidgets.QLabel()
        self.flipbook.setToolTip(KEYS)
        self.flipbook.setAlignment(QtCore.Qt.AlignmentFlag.AlignCenter)
        self.strip = QtWidgets.QLabel()
        self.strip.setToolTip("the same crop in frames t-2 .. t+2; the detection's frame in red")
        self.strip_labels = QtWidgets.QLabel()
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
        book = QtWidgets.QVBoxLayout()
        book.addWidget(self.flip_label)
        book.addWidget(self.flipbook, 1)
        top = QtWidgets.QHBoxLayout()
        top.addLayout(book, 1)
        top.addLayout(side)
        layout = QtWidgets.QVBoxLayout()
        layout.addWidget(self.notice)
        layout.addLayout(top, 1)
        layout.addWidget(self.strip_labels)
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
        self.timer.timeout.connect(self.tick)  # not started: the window opens paused
        self.crops: list[tuple[int, np.ndarray | None]] = []
        self.own = 2  # which crop is the hit's own frame
        self.frame_labels: list[str] = []
        self.auto_stops = 0.0  # set per detection; stays 0 when the report has none
        self.show_current()
        self.flip = self.own  # paused on the hit's own frame
        self._draw_flip()
        self.fit_to_screen()

    def fit_to_screen(self) -> None:
        """Open at SCREEN_SHARE of the screen's free area, centred on it."""
        screen = getattr(self, "screen", lambda: None)() or QtGui.QGuiApplication.primaryScreen()
        if screen is None:
            return
        free = screen.availableGeometry()
        self.resize(int(free.width() * SCREEN_SHARE), int(free.height() * SCREEN_SHARE))
        self.move(
            free.x() + (free.width() - self.width()) // 2,
            free.y() + (free.height() - self.height()) // 2,
        )

    # -- drawing ---------------------------------------------------------------------------
    def show_current(self) -> None:
        det = self.session.current
        self.progress.setText(self.session.progress_text())
        if det is None:
            self.facts.setText("No detections in this report.")
            self.flipbook.clear()
            return
        self.crops = images.context(self.load, det, RADIUS)
        _, self.own, self.frame_labels = context_frames(det)
        self.flip = min(self.flip, len(self.crops) - 1) if self.crops else 0
        centre = self.crops[self.own][1] if self.crops else None
        self.auto_stops = images.auto_stops(centre) if centre is not None else 0.0
        self.exposure.blockSignals(True)
        self.exposure.setValue(self.stops if self.stops is not None else self.auto_stops)
        self.exposure.blockSignals(False)
        image = self.load(int(det["frame"]))
        if image is not None:
            self.locator.setPixmap(pixmap(images.locator(image, det)))
        else:  # the frame is gone or damaged: not the previous detection's locator
            self.locator.setText(f"frame {det['frame']} cannot be read")
        self.facts.setText(self._facts(det))
        self._draw_strip()
        self._draw_flip()

    def _facts(self, det: dict[str, Any]) -> str:
        s = self.session
        done = "  -  all detections have a verdict" if s.done else ""
        place = ""
        if len(s.members) > 1:
            frames = sorted({int(s.items[k]["frame"]) for k in s.members})
            view = "the whole place" if s.grouped else "this hit (Esc: the whole place)"
            place = (
                f"place {s.group_ids[s.group]}: {len(s.members)} hits in frames "
                f"{frames[0]}-{frames[-1]}\nverdict keys label {view}\n"
                f"place verdict: {s.group_verdict()}\n\n"
            )
        where = f"frame {det['frame']}"
        if "frames_seen" in det:
            where = f"sensor defect, seen in {det.get('seen_count')} frames: {det['frames_seen']}"
        return (
            f"{place}{s.ids[s.index]}\n{where}\n"
            f"x {det['x']:.1f}  y {det['y']:.1f}\nNuke {det['nuke_x']:.1f}, {det['nuke_y']:.1f}\n"
            f"kind {det['kind']}\nscore {det['score']:.3f}\narea {det['area']} px\n"
            f"verdict: {s.verdict() or 'open'}{done}"
        )

    def current_stops(self) -> float:
        return self.stops if self.stops is not None else self.auto_stops

    def _tile(self, box: np.ndarray | None, zoom: int) -> np.ndarray:
        if box is None:
            return images.missing_tile((2 * RADIUS + 1) * zoom)
        tile = images.zoom(display8(box, self.current_stops()), zoom)
        det = self.session.current
        if det is not None:
            images.mark(tile, det, RADIUS, zoom)
        return tile

    def flip_text(self) -> str:
        """Which frame the flip-book shows: ``t-1 (1004)``, or ``no frame: ...``."""
        if not self.crops:
            return ""
        label = self.frame_labels[self.flip] if self.flip < len(self.frame_labels) else ""
        return label if self.crops[self.flip][1] is not None else f"no frame: {label}"

    def _draw_flip(self) -> None:
        if not self.crops:
            return
        frame, box = self.crops[self.flip]
        tile = self._tile(box, self.zoom)
        if self.flip == self.own:
            _frame(tile, 3, (255, 255, 255))
        self.flipbook.setPixmap(pixmap(tile))
        self.flip_label.setText(self.flip_text())
        playing = "playing (Space pauses)" if self.timer.isActive() else "paused (Space plays)"
        self.flip_label.setToolTip(f"the frame on screen, its offset from the hit's; {playing}")
        self.flipbook.setToolTip(f"frame {frame}\n{KEYS}")

    def _draw_strip(self) -> None:
        if not self.crops:
            return
        small = max(self.zoom // 3, 2)
        tiles = []
        for i, (_, box) in enumerate(self.crops):
            tile = self._tile(box, small)
            if i == self.own:
                _frame(tile, 2, (255, 0, 0))
            tiles.append(tile)
            tiles.append(np.zeros((tile.shape[0], 4, 3), np.uint8))
        self.strip.setPixmap(pixmap(np.concatenate(tiles[:-1], axis=1)))
        names = [
            lab if box is not None else "no frame"
            for lab, (_, box) in zip(self.frame_labels, self.crops, strict=False)
        ]
        self.strip_labels.setText("   |   ".join(names))

    # -- events ----------------------------------------------------------------------------
    def tick(self) -> None:
        """Advance the flip-book one frame (the timer calls this)."""
        self.flip = (self.flip + 1) % max(len(self.crops), 1)
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
            self.flip = self.own
        elif key == k.Key_U or (ctrl and key == k.Key_Z):
            self.session.undo()
            self.flip = self.own
        elif key in (k.Key_Right, k.Key_Left):
            self.session.move(1 if key == k.Key_Right else -1)
            self.flip = self.own
        elif key in (k.Key_Return, k.Key_Enter):
            self.session.open_group()
        elif key == k.Key_Escape:
            self.session.close_group()
        elif key == k.Key_Space:
            if self.timer.isActive():
                self.timer.stop()
            else:
                self.timer.start()
            self._draw_flip()  # its tooltip says playing or paused
            return
        elif key in (k.Key_Up, k.Key_Down):
            self.flip = (self.flip + (1 if key == k.Key_Up else -1)) % max(len(self.crops), 1)
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
