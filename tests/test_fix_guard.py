"""hotpixel fix matches its QC: the same plate, and only what review let through."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from hotpixel.cli.main import main
from hotpixel.outputs.labels import detection_ids, new_labels, save_labels, set_label
from hotpixel.outputs.report import read_report
from imagegen import CLASSICAL, dark_plate, write_image, write_sequence

HOT = {1002: (10, 20), 1003: (30, 40), 1004: (12, 50)}


def _plate(folder, seed=1, size=(64, 48)):
    rng = np.random.default_rng(seed)
    frames = [dark_plate(rng, *size) for _ in range(6)]
    for frame, (y, x) in HOT.items():
        frames[frame - 1001][y, x] = (4.0, 3.5, 3.0)
    return write_sequence(str(folder), frames)


@pytest.fixture
def qc(tmp_path):
    pattern = _plate(tmp_path / "plate")
    out = str(tmp_path / "qc")
    assert main(["detect", *CLASSICAL, pattern, "--out", out, "--quiet"]) == 0
    assert sorted(d["frame"] for d in read_report(out)["detections"]) == [1002, 1003, 1004]
    return pattern, out


def _fix(pattern, qc, out, *extra):
    return main(["fix", pattern, "--qc", qc, "--out", str(out), *extra])


def _changed(tmp_path, fixed, frame):
    a = (tmp_path / "plate" / f"shot.{frame}.exr").read_bytes()
    return a != (fixed / f"shot.{frame}.exr").read_bytes()


def test_fix_refuses_another_plate_with_the_same_frame_numbers(qc, tmp_path, capsys):
    _, out = qc
    other = _plate(tmp_path / "other", seed=7)
    fixed = tmp_path / "fixed"
    assert _fix(other, out, fixed) == 3
    err = capsys.readouterr().err
    assert "was made from a different plate" in err
    assert f"source: the QC was made from {tmp_path / 'plate' / 'shot.####.exr'}" in err
    assert "pass --force" in err and not fixed.exists()  # nothing written
    assert _fix(other, out, fixed, "--force", "--quiet") == 0


def test_fix_refuses_a_redelivered_frame_and_another_size(qc, tmp_path, capsys):
    pattern, out = qc
    path = str(tmp_path / "plate" / "shot.1003.exr")
    stamp = os.stat(path).st_mtime_ns
    write_image(path, dark_plate(np.random.default_rng(9)))  # new content, same name
    os.utime(path, ns=(stamp + 10**9, stamp + 10**9))
    assert _fix(pattern, out, tmp_path / "fixed") == 3
    err = capsys.readouterr().err
    assert "input fingerprint: frames 1003 differ from the files the QC read" in err
    assert "source:" not in err
    _plate(tmp_path / "big", size=(80, 60))
    os.rename(tmp_path / "plate", tmp_path / "old")
    os.rename(tmp_path / "big", tmp_path / "plate")  # same path, other size
    assert _fix(pattern, out, tmp_path / "fixed2") == 3
    assert "size: the QC is 64x48, this plate 80x60" in capsys.readouterr().err


def _review(out, verdicts):
    report = read_report(out)
    labels = new_labels(report)
    for det_id, d in zip(detection_ids(report["detections"]), report["detections"], strict=True):
        if d["frame"] in verdicts:
            set_label(labels, det_id, d, verdicts[d["frame"]])
    save_labels(out, labels)


def test_fix_repairs_only_accepted_hits_when_labels_exist(qc, tmp_path, capsys):
    pattern, out = qc
    _review(out, {1002: "accept", 1003: "reject"})  # 1004 left unlabelled
    fixed = tmp_path / "fixed"
    assert _fix(pattern, out, fixed) == 0
    err = capsys.readouterr().err
    assert (
        "2 detection(s) skipped by review verdicts (--verdicts accepted): 1 reject, 1 unlabelled"
        in err
    )
    assert [_changed(tmp_path, fixed, f) for f in (1002, 1003, 1004)] == [True, False, False]


def test_fix_unrejected_and_all_verdicts(qc, tmp_path, capsys):
    pattern, out = qc
    _review(out, {1002: "accept", 1003: "reject"})
    fixed = tmp_path / "unrejected"
    assert _fix(pattern, out, fixed, "--verdicts", "unrejected") == 0
    assert "1 detection(s) skipped by review verdicts" in capsys.readouterr().err
    assert [_changed(tmp_path, fixed, f) for f in (1002, 1003, 1004)] == [True, False, True]
    every = tmp_path / "all"
    assert _fix(pattern, out, every, "--verdicts", "all") == 0
    assert "skipped" not in capsys.readouterr().err
    assert [_changed(tmp_path, every, f) for f in (1002, 1003, 1004)] == [True, True, True]


def test_fix_without_labels_repairs_all_and_refuses_accepted(qc, tmp_path, capsys):
    pattern, out = qc
    fixed = tmp_path / "fixed"
    assert _fix(pattern, out, fixed, "--quiet") == 0
    assert [_changed(tmp_path, fixed, f) for f in (1002, 1003, 1004)] == [True, True, True]
    assert _fix(pattern, out, tmp_path / "f2", "--verdicts", "accepted") == 2
    assert "has no labels.json; review it first" in capsys.readouterr().err


def test_fix_refuses_labels_of_another_run(qc, tmp_path, capsys):
    pattern, out = qc
    _review(out, {1003: "reject"})
    assert main(["detect", *CLASSICAL, pattern, "--out", out, "--quiet", "--threshold", "0.6"]) == 0
    assert _fix(pattern, out, tmp_path / "fixed") == 3
    assert "was reviewed on another run" in capsys.readouterr().err


def test_fix_says_which_frames_it_did_not_write(qc, tmp_path, capsys):
    pattern, out = qc
    fixed = tmp_path / "fixed"
    assert _fix(pattern, out, fixed, "--frames", "1002-1003") == 0
    assert sorted(os.listdir(fixed)) == ["shot.1002.exr", "shot.1003.exr"]
    write_sequence(str(tmp_path / "plate"), [dark_plate(np.random.default_rng(3))], first=1007)
    capsys.readouterr()
    assert _fix(pattern, out, tmp_path / "all") == 0  # 1007 arrived after the QC
    assert "frames 1007 are not in the QC folder and were not written" in capsys.readouterr().err


def test_fix_refusal_as_a_subprocess(qc, tmp_path):
    _, out = qc
    other = _plate(tmp_path / "other", seed=7)
    cmd = [
        sys.executable,
        "-m",
        "hotpixel",
        "fix",
        other,
        "--qc",
        out,
        "--out",
        str(tmp_path / "f"),
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 3 and "different plate" in done.stderr
