"""Plates of any shape: thumbnails, strips and crops too small for optical flow run (the
cascade falls back to the classical temporal test and says so) and never crash; library
warnings reach the user as one formatted line."""

from __future__ import annotations

import json
import subprocess
import sys
import warnings

import numpy as np
import pytest

from hotpixel.cli import info
from hotpixel.cli.main import main
from hotpixel.detect.detectors.classical import ring_max
from hotpixel.detect.motion import MIN_FLOW_SIZE, MotionCache, fitting_scale, flow_fits
from hotpixel.outputs.hit_sheet import build_strip
from imagegen import dark_plate, write_sequence

NO_FLOW = "too small for optical flow"  # the sensor's words
NO_ALIGN = "the cascade cannot align the neighbouring frames"


def _plate(folder, w: int, h: int, hot: tuple[int, int] | None = None) -> str:
    """Five dark frames ``w`` x ``h`` from 1001, a hot pixel at ``hot`` (x, y) in 1003."""
    rng = np.random.default_rng(4)
    frames = [dark_plate(rng, w, h) for _ in range(5)]
    if hot is not None:
        frames[2][hot[1], hot[0]] = (3.0, 2.5, 2.0)
    return write_sequence(str(folder), frames)


def _found(out) -> list[tuple[int, float, float]]:
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    return [(d["frame"], d["x"], d["y"]) for d in report["detections"]]


@pytest.mark.parametrize(("w", "h"), [(8, 8), (400, 1), (1, 400), (40, 13), (1, 1)])
def test_plate_too_small_for_flow_runs_the_cascade_fallback_and_says_so(tmp_path, capsys, w, h):
    hot = (w // 2, h // 2)
    pattern = _plate(tmp_path / "plate", w, h, hot if w * h > 1 else None)
    out = tmp_path / "qc"
    assert main(["detect", pattern, "--out", str(out), "--quiet"]) == 0  # the cascade
    err = capsys.readouterr().err
    assert f"picture is {w}x{h} px" in err and NO_ALIGN in err
    assert "Traceback" not in err and "cv2.error" not in err
    assert len(list((out / "masks").iterdir())) == 5
    if w * h > 1:  # the planted pixel is found, once, where it is
        assert _found(out) == [(1003, hot[0] + 0.5, hot[1] + 0.5)]
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert [x["code"] for x in report["warnings"]] == ["no_motion_compensation"]


def test_plate_that_fits_flow_gives_no_fallback_warning(tmp_path, capsys):
    w, h = MIN_FLOW_SIZE[1], MIN_FLOW_SIZE[0]
    pattern = _plate(tmp_path / "plate", w, h)
    assert main(["detect", pattern, "--out", str(tmp_path / "qc"), "--quiet"]) == 0
    assert NO_ALIGN not in capsys.readouterr().err


def test_tiny_plate_as_a_real_process_exits_0_with_one_warning_line(tmp_path):
    pattern = _plate(tmp_path / "plate", 8, 8, (4, 4))
    cmd = [sys.executable, "-m", "hotpixel", "detect", pattern, "--out", str(tmp_path / "qc")]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stderr.splitlines() if NO_ALIGN in line]
    assert len(lines) == 1 and lines[0].startswith("hotpixel: warning: ")
    assert "Warning:" not in done.stderr  # no Python warning in its raw form


def test_flow_scale_is_raised_until_the_picture_fits_flow():
    assert fitting_scale(0.25, 40, 4000) == 1.0  # 10 and 20 rows would be too few
    assert fitting_scale(0.25, 128, 4000) == 0.25
    assert fitting_scale(0.5, 64, 64) == 0.5
    assert fitting_scale(1.0, 31, 4000) is None
    assert fitting_scale(0.125, 8, 8) is None
    assert flow_fits(*MIN_FLOW_SIZE) and not flow_fits(MIN_FLOW_SIZE[0] - 1, 4000)


def test_flow_on_a_picture_dis_would_crash_on_is_refused_before_the_call():
    # 13 rows by 40 columns made DIS crash the whole process; the guard must stop it first
    frame = np.full((13, 40, 3), 0.1, np.float32)
    with pytest.raises(ValueError, match="too small for DIS flow"):
        MotionCache().flow(1, frame, 2, frame)


def test_sensor_on_a_tiny_plate_runs_and_says_why_no_motion_is_seen(tmp_path, capsys):
    pattern = _plate(tmp_path / "plate", 400, 1)
    assert main(["sensor", pattern, "--out", str(tmp_path / "qc")]) == 0
    err = capsys.readouterr().err
    assert "400x1 px, is too small for optical flow" in err and "Traceback" not in err


def test_strip_ring_compares_with_neighbours_along_it_not_itself():
    m = np.zeros((1, 9), np.float32)
    m[0, 4] = 1.0
    assert ring_max(m)[0, 4] == 0.0
    m[0, 6] = 0.4  # two pixels along the strip
    assert ring_max(m)[0, 4] == pytest.approx(0.4)
    assert ring_max(m.T)[4, 0] == pytest.approx(0.4)


def test_hit_strip_of_an_all_nan_frame_warns_nothing_and_is_finite():
    nan = np.full((40, 48, 3), np.nan, np.float32)
    item = {"frame": 1003, "x": 20.5, "y": 11.5}
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an All-NaN RuntimeWarning fails the test
        strip, present = build_strip(item, lambda f: nan)
    assert all(present) and np.isfinite(strip).all()


def test_library_warning_is_one_formatted_line(monkeypatch, capsys):
    def run(args: object) -> int:
        warnings.warn("All-NaN slice encountered", RuntimeWarning, stacklevel=1)
        return 0

    monkeypatch.setattr(info, "run", run)  # a command a library warns in
    assert main(["info", "x"]) == 0
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1
    assert err[0].startswith("hotpixel: warning: All-NaN slice encountered (RuntimeWarning in ")
