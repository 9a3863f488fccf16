"""hotpixel fix repairs the sensor pass's dead, stuck and persistent positions.

``sensor/sensor.json`` is written here by hand, in its documented schema (docs/sensor.md), so
these tests hold the fix to the contract whatever the sensor pass finds on a given plate.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import OpenImageIO as oiio
import pytest

from hotpixel.cli.main import main
from hotpixel.outputs.schema import LABELS_SCHEMA, LABELS_VERSION, SENSOR_SCHEMA, SENSOR_VERSION
from imagegen import CLASSICAL, dark_plate, write_sequence

# (y, x) of each defective photosite, and its value on every frame
DEAD, STUCK, PERSISTENT = (8, 10), (20, 30), (40, 50)
VALUES = {DEAD: (0.0, 0.0, 0.0), STUCK: (0.5, 0.1, 0.9), PERSISTENT: (3.0, 2.5, 2.8)}
SENSOR_FRAMES = range(1001, 1006)  # the sensor pass covers 1001-1005 of 1001-1006


def _plate(folder, hot_frame=None, seed=19):
    rng = np.random.default_rng(seed)
    frames = [dark_plate(rng) for _ in range(6)]
    for rgb in frames:
        for (y, x), value in VALUES.items():
            rgb[y, x] = value
    if hot_frame is not None:
        frames[hot_frame - 1001][30, 12] = (4.0, 3.5, 3.0)  # a one-frame hot pixel
    return write_sequence(str(folder), frames)


def _defect(ident, kind, yx):
    y, x = yx
    return {
        "id": ident,
        "kind": kind,
        "x": x + 0.5,
        "y": y + 0.5,
        "area": 1,
        "members": [[x + 0.5, y + 0.5]],
        "bbox": [x, y, x + 1, y + 1],
        "frames_seen": "1002-1004",  # seen on some frames; repaired on all the pass covered
        "seen_count": 3,
        "confidence": 0.9,
        "track": f"sensor_{kind}_{ident}.txt",
    }


def _sensor_pass(qc, pattern, frames="1001-1005"):
    os.makedirs(os.path.join(qc, "sensor"), exist_ok=True)
    doc = {
        "schema": SENSOR_SCHEMA,
        "schema_version": SENSOR_VERSION,
        "source": {"pattern": pattern, "frames": frames, "width": 64, "height": 48},
        "defects": [
            _defect(1, "dead", DEAD),
            _defect(2, "stuck", STUCK),
            _defect(3, "hot", PERSISTENT),
        ],
    }
    with open(os.path.join(qc, "sensor", "sensor.json"), "w") as fh:
        json.dump(doc, fh)


def _labels(qc, verdicts, fingerprint=""):
    doc = {
        "schema": LABELS_SCHEMA,
        "schema_version": LABELS_VERSION,
        "fingerprint": fingerprint,
        "labels": {k: {"label": v} for k, v in verdicts.items()},
    }
    with open(os.path.join(qc, "labels.json"), "w") as fh:
        json.dump(doc, fh)


def _rgb(path):
    buf = oiio.ImageBuf(str(path))
    return np.asarray(buf.get_pixels(oiio.FLOAT))[..., :3]


def _changed(tmp_path, fixed, frame):
    a = _rgb(tmp_path / "plate" / f"shot.{frame}.exr")
    b = _rgb(fixed / f"shot.{frame}.exr")
    return {tuple(p) for p in np.argwhere((a != b).any(axis=-1)).tolist()}


@pytest.fixture
def sensor_only(tmp_path):
    pattern = _plate(tmp_path / "plate")
    qc = str(tmp_path / "qc")
    _sensor_pass(qc, pattern)
    return pattern, qc


def test_sensor_positions_are_repaired_on_every_frame_of_the_pass(sensor_only, tmp_path, capsys):
    pattern, qc = sensor_only
    fixed = tmp_path / "fixed"
    assert main(["fix", pattern, "--qc", qc, "--out", str(fixed), "--grow", "0"]) == 0
    assert sorted(os.listdir(fixed)) == [f"shot.{f}.exr" for f in SENSOR_FRAMES]
    for f in SENSOR_FRAMES:  # seen on 1002-1004 only, repaired on all of 1001-1005
        assert _changed(tmp_path, fixed, f) == {DEAD, STUCK, PERSISTENT}
        out = _rgb(fixed / f"shot.{f}.exr")
        for y, x in VALUES:  # now like the dark plate around them
            assert out[y, x].min() > 0.005 and out[y, x].max() < 0.1
    err = capsys.readouterr().err
    assert "3 sensor position(s) repaired on every frame of the sensor pass (1001-1005)" in err
    assert "frames 1006 are not in the QC folder and were not written" in err


def test_review_rejections_keep_a_sensor_position(sensor_only, tmp_path, capsys):
    pattern, qc = sensor_only
    _labels(qc, {"sensor_dead_1": "reject", "sensor_stuck_2": "accept"})
    fixed = tmp_path / "unrejected"
    assert main(["fix", pattern, "--qc", qc, "--out", str(fixed), "--verdicts", "unrejected"]) == 0
    assert "1 sensor position(s) skipped by review verdicts" in capsys.readouterr().err
    assert _changed(tmp_path, fixed, 1003) >= {STUCK, PERSISTENT}
    assert DEAD not in _changed(tmp_path, fixed, 1003)
    fixed = tmp_path / "accepted"  # the default with labels: only what a reviewer accepted
    assert main(["fix", pattern, "--qc", qc, "--out", str(fixed), "--grow", "0"]) == 0
    err = capsys.readouterr().err
    assert "2 sensor position(s) skipped by review verdicts (--verdicts accepted)" in err
    assert "1 reject, 1 unlabelled" in err
    assert _changed(tmp_path, fixed, 1003) == {STUCK}


def test_sensor_positions_and_hot_pixels_are_repaired_together(tmp_path):
    pattern = _plate(tmp_path / "plate", hot_frame=1006)
    qc, fixed = str(tmp_path / "qc"), tmp_path / "fixed"
    assert main(["detect", *CLASSICAL, pattern, "--out", qc, "--quiet"]) == 0
    _sensor_pass(qc, pattern)
    assert main(["fix", pattern, "--qc", qc, "--out", str(fixed), "--grow", "0", "--quiet"]) == 0
    assert sorted(os.listdir(fixed)) == [f"shot.{f}.exr" for f in range(1001, 1007)]
    assert {DEAD, STUCK, PERSISTENT} <= _changed(tmp_path, fixed, 1003)
    assert (30, 12) in _changed(tmp_path, fixed, 1006)  # outside the sensor pass: hot pixel only
    assert DEAD not in _changed(tmp_path, fixed, 1006)


def test_a_sensor_pass_of_another_plate_is_refused(tmp_path, capsys):
    pattern = _plate(tmp_path / "plate")
    other = _plate(tmp_path / "other", seed=3)
    qc = str(tmp_path / "qc")
    _sensor_pass(qc, other)
    fixed = tmp_path / "fixed"
    assert main(["fix", pattern, "--qc", qc, "--out", str(fixed)]) == 3
    err = capsys.readouterr().err
    assert "sensor.json' was made from a different plate" in err and "--force" in err
    assert not fixed.exists()
    assert main(["fix", pattern, "--qc", qc, "--out", str(fixed), "--force", "--quiet"]) == 0


def test_fix_of_a_sensor_only_folder_as_a_subprocess(sensor_only, tmp_path):
    pattern, qc = sensor_only
    fixed = tmp_path / "fixed"
    cmd = [sys.executable, "-m", "hotpixel", "fix", pattern, "--qc", qc, "--out", str(fixed)]
    run = subprocess.run(cmd, capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr
    assert "5 frame(s) written" in run.stderr
