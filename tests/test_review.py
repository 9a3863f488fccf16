"""The review app, driven offscreen with key events; its session and pictures without Qt."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest.importorskip("PySide6", reason="the review extra (part of the test extra) brings PySide6")

from PySide6 import QtCore, QtWidgets
from PySide6.QtTest import QTest

from hotpixel.cli.main import main
from hotpixel.errors import InputError, UsageError
from hotpixel.review import images
from hotpixel.review.qt import load_qt
from hotpixel.review.session import ReviewSession
from imagegen import dark_plate, write_sequence

Key = QtCore.Qt.Key


@pytest.fixture
def qc(tmp_path):
    """Four single-frame hot pixels, detected (classical: exact and fast)."""
    rng = np.random.default_rng(5)
    frames = [dark_plate(rng, 80, 60) for _ in range(7)]
    for i, (y, x) in {1: (10, 10), 2: (20, 40), 4: (30, 60), 5: (50, 20)}.items():
        frames[i][y, x] = (3.0, 3.0, 3.0)
    pattern = write_sequence(str(tmp_path / "plate"), frames)
    out = tmp_path / "qc"
    assert main(["detect", "--detector", "classical", pattern, "--out", str(out), "--quiet"]) == 0
    return out


@pytest.fixture(scope="module")
def app():
    return QtWidgets.QApplication.instance() or QtWidgets.QApplication([])


@pytest.fixture
def qt_errors(monkeypatch):
    """Exceptions raised in slots and event handlers: Qt only prints them, so collect them."""
    errors = []
    monkeypatch.setattr(sys, "excepthook", lambda kind, value, tb: errors.append(value))
    yield errors
    assert errors == []


def _labels(qc):
    return json.loads((qc / "labels.json").read_text())["labels"]


def _window(qc):
    from hotpixel.review.main_window import ReviewWindow

    window = ReviewWindow(ReviewSession(str(qc)))
    window.timer.stop()  # ticks are driven by hand
    return window


def test_keys_label_save_and_undo(qc, app, qt_errors):
    window = _window(qc)
    ids = window.session.ids
    assert ids == ["hot_1002_0", "hot_1003_0", "hot_1005_0", "hot_1006_0"]
    QTest.keyClick(window, Key.Key_A)
    first = _labels(qc)[ids[0]]
    assert first["label"] == "accept" and first["user"] and first["time"]
    assert (first["frame"], first["x"], first["y"]) == (1002, 10.5, 10.5)
    assert window.session.index == 1
    QTest.keyClick(window, Key.Key_R)
    QTest.keyClick(window, Key.Key_S)
    assert {k: v["label"] for k, v in _labels(qc).items()} == {
        ids[0]: "accept",
        ids[1]: "reject",
        ids[2]: "skip",
    }
    QTest.keyClick(window, Key.Key_U)  # undo the skip
    assert ids[2] not in _labels(qc) and window.session.index == 2
    QTest.keyClick(window, Key.Key_Z, QtCore.Qt.KeyboardModifier.ControlModifier)
    assert ids[1] not in _labels(qc) and window.session.index == 1
    QTest.keyClick(window, Key.Key_A)  # relabel: accept instead of reject
    assert _labels(qc)[ids[1]]["label"] == "accept"
    assert "accepted 2, rejected 0, skipped 0, open 2" in window.progress.text()
    window.close()


def test_second_session_resumes_at_the_first_open_detection(qc, app, qt_errors):
    window = _window(qc)
    QTest.keyClick(window, Key.Key_A)
    QTest.keyClick(window, Key.Key_R)
    window.close()  # a crash would lose nothing either: labels were saved on each key
    again = _window(qc)
    assert again.session.index == 2
    assert again.session.ids[again.session.index] == "hot_1005_0"
    assert "2 accepted" not in again.progress.text() and "3 / 4" in again.progress.text()
    QTest.keyClick(again, Key.Key_S)
    QTest.keyClick(again, Key.Key_S)
    assert again.session.done and "all detections have a verdict" in again.facts.text()
    again.close()


def test_flip_book_exposure_and_zoom_change_the_picture(qc, app, qt_errors):
    window = _window(qc)
    window.flip = 2

    def shown():
        return window.flipbook.pixmap().toImage()

    centre = shown()
    window.tick()
    assert window.flip == 3 and shown() != centre  # t+1 has no hot pixel
    for _ in range(4):
        window.tick()
    assert window.flip == 2 and shown() == centre
    before = shown()
    QTest.keyClick(window, Key.Key_BracketRight)
    assert window.stops == pytest.approx(window.auto_stops + 0.5, abs=0.01)  # 2 decimals
    brighter = shown()
    assert brighter != before and brighter.size() == before.size()
    QTest.keyClick(window, Key.Key_Plus)
    assert window.zoom == 14 and shown().width() == 21 * 14
    QTest.keyClick(window, Key.Key_Right)
    assert window.session.index == 1
    window.close()


def test_an_unreadable_frame_shows_grey_and_says_so(qc, app, qt_errors):
    centre = qc.parent / "plate" / "shot.1002.exr"
    centre.unlink()  # the plate moved or was damaged after detect
    window = _window(qc)
    assert window.locator.pixmap().isNull() and "1002 cannot be read" in window.locator.text()
    assert window.crops[2][1] is None and window.crops[1][1] is not None
    QTest.keyClick(window, Key.Key_Right)  # frame 1003 is there: its locator again
    assert not window.locator.pixmap().isNull()
    window.close()


def test_review_of_an_empty_report_opens_without_error(tmp_path, app, qt_errors):
    rng = np.random.default_rng(1)
    pattern = write_sequence(str(tmp_path / "p"), [dark_plate(rng) for _ in range(3)])
    out = tmp_path / "qc"
    assert main(["detect", "--detector", "classical", pattern, "--out", str(out), "--quiet"]) == 0
    window = _window(out)
    for key in (Key.Key_A, Key.Key_U, Key.Key_Right, Key.Key_Plus, Key.Key_BracketRight):
        QTest.keyClick(window, key)  # nothing to label or draw: no error, no file
    window.tick()
    assert not (out / "labels.json").exists()
    assert "No detections" in window.facts.text()
    window.close()


def test_pictures_without_qt():
    rgb = np.full((30, 40, 3), 0.02, np.float32)
    rgb[15, 20] = (5.0, 0.0, 0.0)
    stops = images.auto_stops(rgb)
    assert stops == pytest.approx(np.log2(0.18 / 0.02), rel=1e-3)
    toned = images.display8(rgb, stops)
    assert toned.dtype == np.uint8 and toned[15, 20, 0] > 240 and toned[0, 0, 0] < 140
    big = images.zoom(toned, 4)
    assert big.shape == (120, 160, 3) and (big[60:64, 80:84] == toned[15, 20]).all()
    det = {"frame": 3, "x": 20.5, "y": 15.5}
    crops = images.context(lambda f: rgb if f in (2, 3, 4) else None, det, radius=2)
    assert [f for f, _ in crops] == [1, 2, 3, 4, 5]
    assert crops[0][1] is None and crops[2][1] is not None and crops[2][1][2, 2, 0] == 5.0
    marked = images.locator(rgb, det, width=40)
    assert (marked[11, 16:25] == (255, 0, 0)).all()


def test_review_command_reports_a_missing_folder(tmp_path, capsys):
    assert main(["review", str(tmp_path)]) == 3
    assert "report.json" in capsys.readouterr().err


def test_review_command_opens_the_window_at_start(qc, app, capsys):
    from hotpixel.review.main_window import ReviewWindow

    seen = []

    def drive():
        try:
            window = next(
                w for w in app.topLevelWidgets() if isinstance(w, ReviewWindow) and w.isVisible()
            )
            seen.append(window.session.index)
            QTest.keyClick(window, Key.Key_R)
            window.close()
        finally:
            app.quit()  # never leave the test waiting in the event loop

    QtCore.QTimer.singleShot(0, drive)
    assert main(["review", str(qc), "--start", "hot_1005_0"]) == 0
    assert seen == [2]
    assert {k: v["label"] for k, v in _labels(qc).items()} == {"hot_1005_0": "reject"}
    assert "labels: 1 of 4 (accepted 0, rejected 1, skipped 0)" in capsys.readouterr().err


def test_review_command_runs_without_qt_until_the_window_opens(tmp_path):
    """``hotpixel --help`` and errors found before the window need no Qt (issue 6)."""
    code = (
        "import sys; from hotpixel.cli.main import build_parser, main; build_parser();"
        "rc = main(['review', sys.argv[1]]);"
        "print(rc, any(m.startswith('PySide') for m in sys.modules))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, check=False
    )
    assert proc.stdout.split() == ["3", "False"], proc.stderr
    assert "report.json" in proc.stderr


def test_missing_qt_is_a_usage_error_saying_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "PySide6", None)  # None in sys.modules: import fails
    monkeypatch.setitem(sys.modules, "PySide2", None)
    with pytest.raises(UsageError, match=r"pip install 'hotpixel\[review\]'"):
        load_qt()


# -- the session without Qt ---------------------------------------------------------------


def test_session_undo_restores_the_previous_verdict_exactly(qc):
    session = ReviewSession(str(qc))
    assert (session.index, session.done) == (0, False)
    session.label("accept")
    first = _labels(qc)["hot_1002_0"]
    session.move(-1)
    session.label("reject")  # relabel, then change our mind
    assert _labels(qc)["hot_1002_0"]["label"] == "reject"
    assert session.undo() and session.index == 0
    assert _labels(qc)["hot_1002_0"] == first  # who and when too, not a new accept
    assert session.undo() and _labels(qc) == {}
    assert not session.undo()


def test_session_resumes_at_the_first_open_detection_wrapping(qc):
    session = ReviewSession(str(qc), start="hot_1006_0")
    assert session.index == 3
    session.label("skip")  # the last: wrap to the first without a verdict
    assert session.index == 0
    for verdict in ("accept", "reject"):
        session.label(verdict)
    again = ReviewSession(str(qc))
    assert again.index == 2 and again.counts() == {"accept": 1, "reject": 1, "skip": 1}
    again.label("accept")
    assert again.done and again.index == 2  # all done: stays on the last one labelled
    assert ReviewSession(str(qc)).index == 3
    assert (
        "4 / 4  (accepted 2, rejected 1, skipped 1, open 0)"
        in ReviewSession(str(qc), start="hot_1006_0").progress_text()
    )


def test_session_errors_name_the_fix(qc):
    with pytest.raises(UsageError, match=r"'hot_9999_0' is not a detection.*hot_1002_0"):
        ReviewSession(str(qc), start="hot_9999_0")
    with pytest.raises(ValueError, match="verdict"):
        ReviewSession(str(qc)).label("maybe")
    session = ReviewSession(str(qc))
    session.label("accept")
    data = json.loads((qc / "labels.json").read_text())
    moved = {**data, "labels": {"hot_1002_0": {**data["labels"]["hot_1002_0"], "x": 40.5}}}
    (qc / "labels.json").write_text(json.dumps(moved))
    with pytest.raises(InputError, match=r"hot_1002_0 was labelled at .* Move labels.json aside"):
        ReviewSession(str(qc))
    (qc / "labels.json").write_text(json.dumps({**data, "pattern": "/elsewhere/p.####.exr"}))
    with pytest.raises(InputError, match=r"labels for '/elsewhere/p.####.exr'.*move it aside"):
        ReviewSession(str(qc))
    assert main(["review", str(qc)]) == 3  # the CLI says so before any window opens
