"""Contracts other tools rely on: coordinates, the Nuke flip, masks, report, CSV, tracks."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

from hotpixel.io.exr_writer import MASK_CHANNEL
from hotpixel.run.detect import run_detect
from imagegen import classical_job, dark_plate, read_channel, write_sequence


def _shot(tmp_path, rng, n=7, hot=((1004, 20, 11),), **kwargs):
    frames = [dark_plate(rng) for _ in range(n)]
    for frame, x, y in hot:
        frames[frame - 1001][y, x] = (4.0, 3.5, 3.0)
    return write_sequence(str(tmp_path / "plate"), frames, **kwargs)


def test_single_pixel_centroid_and_nuke_flip(tmp_path):
    pattern = _shot(tmp_path, np.random.default_rng(1))
    report = run_detect(classical_job(pattern, str(tmp_path / "out"))).report
    (d,) = report["detections"]
    assert (d["frame"], d["kind"], d["area"]) == (1004, "hot", 1)
    assert (d["x"], d["y"]) == (20.5, 11.5)
    assert (d["nuke_x"], d["nuke_y"]) == (20.5, 48 - 11.5)
    assert d["bbox"] == [20, 11, 21, 12]
    assert d["peak_rgb"] == pytest.approx([4.0, 3.5, 3.0], rel=1e-3)
    assert 0.5 <= d["score"] <= 1.0


def test_data_window_offset_is_honoured(tmp_path):
    """A 64x48 data window at (10, 6) inside a 100x80 display: x, y count from the display."""
    pattern = _shot(tmp_path, np.random.default_rng(2), data_window=(10, 6), display=(100, 80))
    out = tmp_path / "out"
    report = run_detect(classical_job(pattern, str(out))).report
    (d,) = report["detections"]
    assert (d["x"], d["y"]) == (30.5, 17.5)
    assert (d["nuke_x"], d["nuke_y"]) == (30.5, 80 - 17.5)
    assert report["source"]["width"] == 100 and report["source"]["height"] == 80
    mask, spec = read_channel(str(out / "masks" / "shot.hotpixel.1004.exr"), MASK_CHANNEL)
    assert (spec.x, spec.y, spec.width, spec.height) == (10, 6, 64, 48)
    assert (spec.full_width, spec.full_height) == (100, 80)
    assert mask[11, 20] >= 0.5
    assert np.count_nonzero(mask >= 0.5) == 1


def test_mask_file_channel_type_and_metadata(tmp_path):
    pattern = _shot(tmp_path, np.random.default_rng(3))
    out = tmp_path / "out"
    run_detect(classical_job(pattern, str(out)))
    masks = sorted(os.listdir(out / "masks"))
    assert masks == [f"shot.hotpixel.{f}.exr" for f in range(1001, 1008)]
    mask, spec = read_channel(str(out / "masks" / "shot.hotpixel.1004.exr"), MASK_CHANNEL)
    assert tuple(spec.channelnames) == (MASK_CHANNEL,)
    assert str(spec.format) == "half"
    assert spec.getattribute("hotpixel:detector") == "classical"
    assert spec.getattribute("hotpixel:threshold") == pytest.approx(0.5)
    assert spec.getattribute("hotpixel:source").endswith("shot.1004.exr")
    assert np.all((mask >= 0) & (mask <= 1))
    clean, _ = read_channel(str(out / "masks" / "shot.hotpixel.1003.exr"), MASK_CHANNEL)
    assert clean.max() < 0.5


def test_with_plate_keeps_rgb_and_adds_mask(tmp_path):
    rng = np.random.default_rng(4)
    pattern = _shot(tmp_path, rng, fmt="float")
    out = tmp_path / "out"
    run_detect(classical_job(pattern, str(out), with_plate=True))
    path = str(out / "plate" / "shot.hotpixel.1004.exr")
    red, spec = read_channel(path, "R")
    mask, _ = read_channel(path, MASK_CHANNEL)
    source, _ = read_channel(str(tmp_path / "plate" / "shot.1004.exr"), "R")
    np.testing.assert_allclose(red, source, rtol=0, atol=0)  # float plate kept at float
    assert set(spec.channelnames) == {"R", "G", "B", MASK_CHANNEL}
    formats = dict(zip(spec.channelnames, map(str, spec.channelformats), strict=True))
    assert formats == {"R": "float", "G": "float", "B": "float", MASK_CHANNEL: "half"}
    assert mask[11, 20] >= 0.5


def test_report_schema_csv_and_tracks(tmp_path):
    pattern = _shot(tmp_path, np.random.default_rng(5), hot=((1002, 5, 5), (1006, 40, 30)))
    out = tmp_path / "out"
    run_detect(classical_job(pattern, str(out)))
    report = json.loads((out / "report.json").read_text())
    assert report["schema"] == "hotpixel-report" and report["schema_version"] == 1
    assert report["source"]["frames"] == "1001-1007"
    assert report["detector"]["name"] == "classical"
    assert report["threshold"] == 0.5
    assert report["mask"]["channel"] == MASK_CHANNEL
    assert report["mask"]["pattern"] == "masks/shot.hotpixel.####.exr"
    assert report["summary"]["detections"] == 2
    required = {"frame", "x", "y", "nuke_x", "nuke_y", "score", "area", "kind"}
    assert all(required <= set(d) for d in report["detections"])
    with open(out / "detections.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [(int(r["frame"]), float(r["x"]), float(r["y"])) for r in rows] == [
        (1002, 5.5, 5.5),
        (1006, 40.5, 30.5),
    ]
    tracks = sorted(os.listdir(out / "tracks"))
    assert tracks == ["hot_1002_0.txt", "hot_1006_0.txt"]
    assert (out / "tracks" / "hot_1006_0.txt").read_text() == "1006 40.5 17.5\n"


def test_nonfinite_pixels_reported_and_masked(tmp_path):
    rng = np.random.default_rng(6)
    frames = [dark_plate(rng) for _ in range(5)]
    frames[2][7, 9, 1] = np.nan
    frames[2][30, 50] = np.inf
    frames[2][20, 20] = (3.0, 3.0, 3.0)  # a hot pixel in the same frame still found
    pattern = write_sequence(str(tmp_path / "p"), frames, fmt="float")
    out = tmp_path / "out"
    report = run_detect(classical_job(pattern, str(out))).report
    got = sorted((d["kind"], d["x"], d["y"]) for d in report["detections"])
    assert got == [("hot", 20.5, 20.5), ("nonfinite", 9.5, 7.5), ("nonfinite", 50.5, 30.5)]
    nan_det = next(d for d in report["detections"] if d["x"] == 9.5)
    assert nan_det["peak_rgb"][1] is None and nan_det["peak_rgb"][0] is not None
    mask, _ = read_channel(str(out / "masks" / "shot.hotpixel.1003.exr"), MASK_CHANNEL)
    assert mask[7, 9] == 1.0 and mask[30, 50] == 1.0
    assert np.isfinite(mask).all()


def test_oiiotool_sees_a_valid_half_mask(tmp_path):
    """The check a pipeline TD would run by hand: oiiotool --info -v on a mask."""
    oiiotool = shutil.which("oiiotool", path=os.path.dirname(sys.executable))
    if oiiotool is None:
        pytest.skip("oiiotool is not installed beside this Python")
    pattern = _shot(tmp_path, np.random.default_rng(7))
    out = tmp_path / "out"
    run_detect(classical_job(pattern, str(out)))
    mask = str(out / "masks" / "shot.hotpixel.1004.exr")
    info = subprocess.run([oiiotool, "--info", "-v", mask], capture_output=True, text=True)
    assert info.returncode == 0, info.stderr
    assert "1 channel, half openexr" in info.stdout
    assert "channel list: hotpixel.mask" in info.stdout


def test_centroid_weights_at_flagged_pixels_equal_the_dense_formula():
    """The sparse weights give exactly what the whole-frame 5x5 minimum filter gave."""
    from scipy import ndimage

    from hotpixel.detect.grouping import find_detections
    from hotpixel.io.geometry import Geometry
    from hotpixel.run.frames import excess_weight

    rng = np.random.default_rng(3)
    h, w = 37, 41
    rgb = (rng.uniform(0, 1, (h, w, 3)) ** 4 * 50).astype(np.float32)
    prob = rng.uniform(0, 1, (h, w)).astype(np.float32)
    m = np.clip(rgb.max(axis=-1), 0.0, 1e30)
    tone = m / (1.0 + m)
    dense = prob * np.maximum(tone - ndimage.minimum_filter(tone, size=5), 0.0)
    ys, xs = np.nonzero(prob >= 0.3)  # every edge and corner is among them
    assert {0, h - 1} <= set(ys) and {0, w - 1} <= set(xs)
    np.testing.assert_array_equal(excess_weight(prob, rgb)(ys, xs), dense[ys, xs])
    g = Geometry.simple(w, h)
    sparse = find_detections(prob, excess_weight(prob, rgb), rgb, g, 1, 0.3, 10**6)
    assert sparse == find_detections(prob, dense, rgb, g, 1, 0.3, 10**6)
    assert sparse.detections


def test_groups_grow_below_the_threshold_so_one_defect_is_one_detection():
    from hotpixel.detect.grouping import find_detections
    from hotpixel.io.geometry import Geometry

    prob = np.zeros((20, 30), np.float32)
    prob[5, 5:10] = [0.95, 0.6, 0.5, 0.6, 0.92]  # one curve, two peaks over 0.9, a 0.5 saddle
    prob[15, 20] = 0.7  # reaches half the threshold but never the threshold: not a detection
    # a dip below half the threshold, wider than the merge gap: two detections
    prob[15, 22:27] = [0.95, 0.3, 0.3, 0.3, 0.95]
    rgb = np.ones((20, 30, 3), np.float32)
    g = Geometry.simple(30, 20)
    found = find_detections(prob, prob, rgb, g, 1, 0.9, 64)
    assert [(d.area, d.bbox) for d in found.detections] == [
        (5, (5, 5, 10, 6)),
        (1, (22, 15, 23, 16)),
        (1, (26, 15, 27, 16)),
    ]
    plain = find_detections(prob, prob, rgb, g, 1, 0.9, 64, group_share=1.0)
    assert len(plain.detections) == 4  # the curve breaks into two pieces at 0.9
