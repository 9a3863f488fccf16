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
from hotpixel.review.lock import STALE_S, Holder, ReviewLock, is_stale, lock_path, read_lock
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
    user = _labels(qc)["hot_1003_0"]["user"]
    assert again.notice.isVisibleTo(again) and again.notice.text().startswith(
        f"resumed at place {again.session.group_ids[2]} (3 of 4), hit hot_1005_0: 2 of 4 hits "
        f"have verdicts from before (the last by {user} at "
    )
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
    """``hotpixel --help`` and errors found before the window need no Qt."""
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


# -- groups by place, the labelled flip-book, quitting, Qt's system libraries ---------


@pytest.fixture
def lights(tmp_path):
    """One place flagged in three frames (a blinking pixel) and two single hot pixels."""
    rng = np.random.default_rng(8)
    frames = [dark_plate(rng, 80, 60) for _ in range(9)]
    for i in (1, 4, 7):
        frames[i][20, 30] = (3.0, 3.0, 3.0)
    frames[2][40, 60] = (3.0, 3.0, 3.0)
    frames[5][10, 10] = (3.0, 3.0, 3.0)
    pattern = write_sequence(str(tmp_path / "plate"), frames)
    out = tmp_path / "qc"
    assert main(["detect", "--detector", "classical", pattern, "--out", str(out), "--quiet"]) == 0
    return out


def test_a_verdict_on_a_group_labels_each_of_its_hits(lights, app, qt_errors):
    window = _window(lights)
    s = window.session
    assert len(s) == 5 and len(s.groups) == 3 and s.grouped
    place = next(g for g in range(3) if len(s.groups[g]) == 3)
    assert s.group == 0 == place  # the place is first: it starts in frame 1002
    assert "place g1: 3 hits" in window.facts.text()
    QTest.keyClick(window, Key.Key_R)  # one key rejects the light in every frame
    hits = [s.ids[k] for k in s.groups[place]]
    assert {i: v["label"] for i, v in _labels(lights).items()} == dict.fromkeys(hits, "reject")
    assert s.group == 1 and not s.done
    QTest.keyClick(window, Key.Key_U)  # undo takes back the whole group
    assert _labels(lights) == {} and s.group == place
    QTest.keyClick(window, Key.Key_Return)  # open the place: its hits one by one
    assert not s.grouped and s.index == s.groups[place][0]
    QTest.keyClick(window, Key.Key_A)
    QTest.keyClick(window, Key.Key_Right)
    assert s.index == s.groups[place][2]  # the next open hit, then the last
    QTest.keyClick(window, Key.Key_R)
    assert "mixed" in window.facts.text()
    QTest.keyClick(window, Key.Key_Escape)
    assert s.grouped and s.index == s.representative[place]
    QTest.keyClick(window, Key.Key_S)  # the rest of the place: every hit, skipped
    assert [v["label"] for v in _labels(lights).values()].count("skip") == 3
    window.close()


def test_flip_book_names_its_frame_and_shows_no_frame(qc, app, qt_errors):
    window = _window(qc)  # the first hit is in frame 1002: t-2 (1000) does not exist
    window.flip = 0
    window._draw_flip()
    assert window.flip_label.text() == "no frame: t-2 (1000)"
    grey = window.flipbook.pixmap().toImage()
    window.tick()
    assert window.flip_label.text() == "t-1 (1001)" and window.flipbook.pixmap().toImage() != grey
    window.tick()
    assert window.flip_label.text() == "t (1002)"
    assert window.strip_labels.text().startswith("no frame   |   t-1 (1001)")
    tile = images.missing_tile(84)
    assert tile.shape == (84, 84, 3) and tile.max() > 150  # the words are drawn on it
    window.close()


def test_flagged_pixel_is_outlined_outside_itself():
    tile = np.zeros((21 * 4, 21 * 4, 3), np.uint8)
    images.mark(tile, {"x": 10.5, "y": 10.5, "bbox": [10, 10, 11, 11]}, 10, 4)
    assert (tile[40:44, 40:44] == 0).all()  # the pixel itself is left as it is
    assert (tile[38, 38:46] == (25, 230, 255)).all() and (tile[38:46, 45] == (25, 230, 255)).all()
    assert (tile[39:45, 39] == 0).all() and (tile[39:45, 44] == 0).all()  # a gap all round


def test_missing_xcb_libraries_are_named_with_their_packages():
    from hotpixel.review.qt import check_system_libraries

    def load(name):
        if name in ("libxcb-icccm.so.4", "libxcb-keysyms.so.1"):
            raise OSError(name)

    env = {"DISPLAY": ":0"}
    with pytest.raises(UsageError, match=r"apt-get install libxcb-icccm4 libxcb-keysyms1"):
        check_system_libraries(env, "linux", load)
    check_system_libraries(env, "linux", lambda name: None)  # all there: no error
    check_system_libraries({**env, "QT_QPA_PLATFORM": "offscreen"}, "linux", load)
    check_system_libraries({**env, "WAYLAND_DISPLAY": "wayland-0"}, "linux", load)
    check_system_libraries(env, "darwin", load)
    with pytest.raises(UsageError, match="DISPLAY is not set"):
        check_system_libraries({}, "linux", lambda name: None)


@pytest.mark.parametrize("signum", ["SIGINT", "SIGTERM"])
def test_ctrl_c_and_sigterm_quit_cleanly_with_labels_saved(lights, signum):
    import signal
    import time

    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "hotpixel.cli.main", "review", str(lights)],
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        seen = []
        while not seen or not seen[-1].startswith("reviewing"):  # printed once the window is up
            seen.append(proc.stderr.readline())
            assert seen[-1] and len(seen) < 50, seen
        assert seen[-1].startswith("reviewing 5 hit(s) at 3 place(s)"), seen
        time.sleep(0.3)
        proc.send_signal(getattr(signal, signum))
        rc = proc.wait(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
    err = proc.stderr.read()
    assert rc == 0 and "Traceback" not in err, err
    assert f"stopped by {signum}; labels: 0 of 5" in err


def test_review_opens_a_folder_with_only_a_sensor_pass(tmp_path, app, qt_errors):
    """Sensor defects are reviewed like hits; their ids are sensor_<kind>_<id>."""
    from hotpixel.ml.synth.persistent import PersistentDefect, inject, shot_path
    from hotpixel.ml.synth.plates import load_plate, put_in_motion

    rng = np.random.default_rng(7)
    path = shot_path(rng, 20, "moving", speed=2.0)
    plate = put_in_motion(load_plate("city"), path - path.mean(axis=0), (128, 96), rng)
    dead = PersistentDefect("dead", "single", ((20, 20),), (1.0, 1.0, 1.0), 0.0005)
    pattern = write_sequence(str(tmp_path / "plate"), inject(plate, [dead], rng))
    out = tmp_path / "qc"
    assert main(["sensor", pattern, "--out", str(out), "--quiet"]) == 0
    window = _window(out)
    assert window.session.ids == ["sensor_dead_1"]
    assert window.frame_labels == ["1001", "1006", "1011", "1015", "1020"]
    assert "sensor defect, seen in 20 frames" in window.facts.text()
    QTest.keyClick(window, Key.Key_R)
    entry = _labels(out)["sensor_dead_1"]
    assert (entry["label"], entry["kind"], entry["x"], entry["y"]) == ("reject", "dead", 20.5, 20.5)
    window.close()


# -- how the window opens, and who else reviews the folder -----------------------------------------


def test_window_opens_paused_on_the_hits_frame_sized_to_the_screen(qc, app, qt_errors):
    from hotpixel.review.main_window import SCREEN_SHARE, ReviewWindow

    window = ReviewWindow(ReviewSession(str(qc)))
    assert not window.timer.isActive() and window.flip == window.own == 2
    assert window.flip_label.text() == "t (1002)"  # the hit, not blinking
    assert "paused" in window.flip_label.toolTip()
    assert window.notice.isHidden()  # a first review: nothing resumed, nobody else
    free = (window.screen() or app.primaryScreen()).availableGeometry()
    assert window.width() == int(free.width() * SCREEN_SHARE)
    assert window.height() == int(free.height() * SCREEN_SHARE)
    QTest.keyClick(window, Key.Key_Space)
    assert window.timer.isActive() and "playing" in window.flip_label.toolTip()
    window.close()


def _holder(**kw):
    fields = {"user": "anna", "host": "qc-03", "pid": 4242, "started": "then", "refreshed": 1e9}
    return Holder(**{**fields, **kw})


def test_a_lock_is_stale_when_its_process_is_gone_or_it_was_not_refreshed():
    now = 1e9 + 60
    assert not is_stale(_holder(), now, "qc-03", lambda pid: True)
    assert is_stale(_holder(), now, "qc-03", lambda pid: False)  # crashed on this machine
    assert not is_stale(_holder(), now, "other", lambda pid: False)  # theirs: refreshed
    assert is_stale(_holder(), 1e9 + STALE_S + 1, "other", lambda pid: True)
    assert not is_stale(_holder(), now, "qc-03", lambda pid: None)  # cannot ask: by age
    assert is_stale(_holder(), 1e9 + STALE_S + 1, "qc-03", lambda pid: None)


def test_lock_is_taken_released_and_left_to_a_live_holder(tmp_path):
    lock = ReviewLock(str(tmp_path))
    assert lock.acquire() is None and lock.stale is None
    mine = read_lock(str(tmp_path))
    assert mine is not None and mine.pid == os.getpid()
    second = ReviewLock(str(tmp_path))
    assert second.acquire() == mine  # told who holds it; the lock stays theirs
    second.release()
    assert read_lock(str(tmp_path)) == mine
    lock.refresh()
    refreshed = read_lock(str(tmp_path))
    assert refreshed is not None and refreshed.refreshed >= mine.refreshed
    lock.release()
    assert not os.path.exists(lock_path(str(tmp_path)))
    (tmp_path / "review.lock").write_text("{not json")
    assert ReviewLock(str(tmp_path)).acquire() is None  # a broken lock protects nothing


def _lock_of(out, pid):
    import socket
    import time

    held = {"user": "anna", "host": socket.gethostname(), "pid": pid, "started": "earlier",
            "refreshed": time.time()}  # fmt: skip
    (out / "review.lock").write_text(json.dumps(held))


def _run_review(app, out):
    from hotpixel.review.main_window import ReviewWindow

    seen = []

    def drive():
        try:
            window = next(
                w for w in app.topLevelWidgets() if isinstance(w, ReviewWindow) and w.isVisible()
            )
            seen.append(window.notice.text())
            window.close()
        finally:
            app.quit()

    QtCore.QTimer.singleShot(0, drive)
    assert main(["review", str(out)]) == 0
    return seen


def test_review_warns_when_another_review_holds_the_folder(qc, app, capsys):
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        _lock_of(qc, other.pid)
        (notice,) = _run_review(app, qc)
        assert "is being reviewed by anna on" in notice and f"process {other.pid}" in notice
        err = capsys.readouterr().err
        assert "warning:" in err and "is being reviewed by anna" in err
        assert read_lock(str(qc)).pid == other.pid  # still theirs
    finally:
        other.kill()
        other.wait()
    (notice,) = _run_review(app, qc)  # its process is gone: the lock is stale, taken over
    assert "being reviewed" not in notice
    assert "took over the stale lock of anna" in capsys.readouterr().err
    assert not (qc / "review.lock").exists()  # released when the window closed
