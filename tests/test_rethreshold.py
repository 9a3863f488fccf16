"""A rerun that only raises the threshold re-derives each frame from its stored probability map
instead of running the detector again, and finds what a fresh run at that threshold finds; any
other change recomputes and the log says which setting changed.

Regression: raising ``--threshold`` recomputed the whole run ("made with other settings").
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from hotpixel.cli.main import main
from hotpixel.io.images import read_named_channel
from hotpixel.outputs.report import read_report
from hotpixel.params import DetectParams
from hotpixel.run.detect import run_detect
from imagegen import CLASSICAL, classical_job, dark_plate, write_sequence

# hot pixels from faint to strong (the faint one scores about 0.46 with the classical
# detector), so that 0.3 and 0.9 find different sets
HOT = [(1003, 30, 40, 0.1), (1004, 20, 50, 0.2), (1006, 35, 8, 4.0)]


@pytest.fixture(scope="module")
def plate(tmp_path_factory):
    rng = np.random.default_rng(31)
    frames = [dark_plate(rng, 64, 48) for _ in range(8)]
    for frame, y, x, value in HOT:
        frames[frame - 1001][y, x] = (value, value * 0.9, value)
    return write_sequence(str(tmp_path_factory.mktemp("rethreshold") / "plate"), frames)


def _detect(plate, out, *extra):
    return main(["detect", *CLASSICAL, plate, "--out", str(out), *extra])


def _found(out):
    report = read_report(str(out))
    return report, [(d["frame"], d["kind"], d["id"]) for d in report["detections"]]


def _no_judge(*args, **kwargs):
    raise AssertionError("the detector ran: the frame was recomputed")


def _mask(out, frame):
    return read_named_channel(
        str(out / "masks" / f"shot.hotpixel.{frame}.exr"), "hotpixel.mask", (0, 0, 64, 48)
    )


def test_a_higher_threshold_reruns_from_the_stored_maps_as_a_fresh_run(plate, tmp_path, capsys):
    rerun, fresh = tmp_path / "rerun", tmp_path / "fresh"
    assert _detect(plate, rerun, "--threshold", "0.3", "--quiet") == 0
    _, low_found = _found(rerun)
    capsys.readouterr()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("hotpixel.run.frames.judge", _no_judge)
        assert _detect(plate, rerun, "--threshold", "0.9") == 0
    err = capsys.readouterr().err
    assert "re-thresholding 8 frame(s) at 0.9" in err and "recomputing" not in err
    assert _detect(plate, fresh, "--threshold", "0.9", "--quiet") == 0
    again, again_found = _found(rerun)
    new, new_found = _found(fresh)
    assert again_found == new_found and len(new_found) < len(low_found)
    assert again["threshold"] == new["threshold"] == 0.9
    for a, b in zip(again["detections"], new["detections"], strict=True):
        assert (a["x"], a["y"]) == pytest.approx((b["x"], b["y"]), abs=0.01)
        assert a["score"] == pytest.approx(b["score"], abs=1e-3)  # the map is stored as half
        assert a["area"] == b["area"] and a["bbox"] == b["bbox"]
    for frame in range(1001, 1009):
        np.testing.assert_allclose(_mask(rerun, frame), _mask(fresh, frame), atol=1e-3)


def test_a_lower_threshold_recomputes_and_says_why(plate, tmp_path, capsys):
    out = tmp_path / "qc"
    assert _detect(plate, out, "--threshold", "0.8", "--quiet") == 0
    capsys.readouterr()
    assert _detect(plate, out, "--threshold", "0.4", "--progress", "json") == 0
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    [recompute] = [e for e in events if e["event"] == "recompute"]
    assert recompute["count"] == 8
    assert "threshold 0.4 is below the 0.8 its stored probability map covers" in recompute["text"]
    fresh = tmp_path / "fresh"
    assert _detect(plate, fresh, "--threshold", "0.4", "--quiet") == 0
    assert _found(out)[1] == _found(fresh)[1]


def test_another_setting_recomputes_naming_it(plate, tmp_path, capsys):
    out = tmp_path / "qc"
    assert _detect(plate, out, "--quiet") == 0
    capsys.readouterr()
    assert _detect(plate, out, "--threshold", "0.9", "--max-area", "9") == 0
    err = capsys.readouterr().err
    assert "recomputing 8 frame(s)" in err
    assert "made with other settings: max_area, threshold)" in err  # both named


def test_the_run_result_counts_re_thresholded_frames_as_processed(plate, tmp_path):
    out = str(tmp_path / "qc")
    run_detect(classical_job(plate, out))
    result = run_detect(classical_job(plate, out, params=DetectParams(threshold=0.9)))
    assert (result.processed, result.rethresholded, result.skipped) == (8, 8, 0)
    assert result.recomputed == {}
