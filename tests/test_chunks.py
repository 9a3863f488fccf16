"""Chunked runs equal one run: separate processes, any order, reruns, --workers, merge."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys

import numpy as np
import pytest

from hotpixel.cli.detect import add_param_flags, params_from_args
from hotpixel.cli.main import main
from hotpixel.errors import InputError, UsageError
from hotpixel.outputs.merge import merge_report
from hotpixel.params import DetectParams, to_flags
from hotpixel.progress import Progress
from hotpixel.run.chunks import split_chunks
from hotpixel.run.detect import run_detect
from hotpixel.run.job import DetectJob
from imagegen import dark_plate, read_channel, write_sequence

FRAMES = range(1001, 1013)
CHUNKS = ("1001-1003", "1004", "1005-1009", "1010-1012")  # uneven on purpose


@pytest.fixture(scope="module")
def shot(tmp_path_factory):
    """12 frames: a drifting bright dot (scene content) and hot pixels on single frames."""
    rng = np.random.default_rng(5)
    frames = []
    for i in range(len(FRAMES)):
        rgb = dark_plate(rng, 72, 56)
        rgb[30, 10 + i] = (1.5, 1.4, 1.2)  # moves one pixel a frame: not a defect
        frames.append(rgb)
    for i, (y, x) in {1: (8, 20), 4: (40, 60), 9: (12, 50), 11: (50, 5)}.items():
        frames[i][y, x] = (3.0, 0.2, 0.2)
    folder = tmp_path_factory.mktemp("plate")
    return write_sequence(str(folder), frames)


@pytest.fixture(scope="module")
def whole(shot, tmp_path_factory):
    out = str(tmp_path_factory.mktemp("whole"))
    run_detect(DetectJob(shot, out))
    return out


def _cli(*args: str) -> subprocess.Popen[str]:
    cmd = [sys.executable, "-m", "hotpixel", *args]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _report(out) -> dict:
    with open(os.path.join(out, "report.json"), encoding="utf-8") as fh:
        return json.load(fh)


def _same_results(a, b) -> None:
    """Masks bit for bit, and every field of the reports but their creation time."""
    ra, rb = _report(a), _report(b)
    for r in (ra, rb):
        r.pop("created")
    assert ra == rb
    assert ra["summary"]["frames_processed"] == len(FRAMES)
    for name in sorted(os.listdir(os.path.join(a, "masks"))):
        ma, _ = read_channel(os.path.join(a, "masks", name), "hotpixel.mask")
        mb, _ = read_channel(os.path.join(b, "masks", name), "hotpixel.mask")
        np.testing.assert_array_equal(ma, mb, err_msg=name)
    assert sorted(os.listdir(os.path.join(a, "masks"))) == sorted(
        os.listdir(os.path.join(b, "masks"))
    )
    for f in ("detections.csv",):
        with open(os.path.join(a, f)) as fa, open(os.path.join(b, f)) as fb:
            assert fa.read() == fb.read()
    assert sorted(os.listdir(os.path.join(a, "tracks"))) == sorted(
        os.listdir(os.path.join(b, "tracks"))
    )


def test_the_shot_has_something_to_compare(whole):
    found = {(d["frame"], d["x"], d["y"]) for d in _report(whole)["detections"]}
    assert {(1002, 20.5, 8.5), (1005, 60.5, 40.5), (1010, 50.5, 12.5)} <= found


def test_chunks_as_separate_processes_in_any_order_equal_one_run(shot, whole, tmp_path):
    out = str(tmp_path / "chunked")
    order = list(CHUNKS)
    random.Random(3).shuffle(order)
    procs = [_cli("detect", shot, "--out", out, "--frames", c, "--quiet") for c in order]
    for p in procs:  # all four run at once, into one folder
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
    # the lock makes whichever chunk finished last leave the whole shot's report
    _same_results(whole, out)

    # a rerun of one chunk (e.g. a farm retry) changes nothing
    rerun = _cli("detect", shot, "--out", out, "--frames", "1005-1009", "--force", "--quiet")
    assert rerun.wait(timeout=300) == 0
    _same_results(whole, out)

    assert main(["merge", out, "--expect", "1001-1012", "--quiet"]) == 0
    _same_results(whole, out)


def test_workers_equal_one_run(shot, whole, tmp_path):
    out = str(tmp_path / "parallel")
    assert main(["detect", shot, "--out", out, "--workers", "3", "--quiet"]) == 0
    _same_results(whole, out)
    # a rerun resumes: every frame is done already
    assert main(["detect", shot, "--out", out, "--workers", "3", "--quiet"]) == 0
    _same_results(whole, out)


def test_workers_keep_a_stepped_over_frame_out_of_every_chunk(shot, tmp_path):
    """--frames with a hole: no chunk may read the left-out frame as context."""
    frames = "1001-1006,1008-1012"
    one, many = str(tmp_path / "one"), str(tmp_path / "many")
    assert main(["detect", shot, "--out", one, "--frames", frames, "--quiet"]) == 0
    assert main(["detect", shot, "--out", many, "--frames", frames, "--workers", "4"]) == 0
    ra, rb = _report(one), _report(many)
    assert ra["source"]["missing_frames"] == [1007]
    assert ra["detections"] == rb["detections"]
    for f in (1006, 1008):  # the frames whose windows would reach 1007
        name = f"shot.hotpixel.{f}.exr"
        ma, _ = read_channel(os.path.join(one, "masks", name), "hotpixel.mask")
        mb, _ = read_channel(os.path.join(many, "masks", name), "hotpixel.mask")
        np.testing.assert_array_equal(ma, mb)


def test_exclude_equals_a_frame_list_with_a_hole(shot, tmp_path):
    a, b = str(tmp_path / "a"), str(tmp_path / "b")
    assert main(["detect", shot, "--out", a, "--frames", "1001-1006,1008-1012", "--quiet"]) == 0
    assert main(["detect", shot, "--out", b, "--exclude", "1007", "--quiet"]) == 0
    ra, rb = _report(a), _report(b)
    assert ra["detections"] == rb["detections"]
    assert rb["summary"]["frames_processed"] == 11


def test_interrupted_chunk_is_named_by_merge_then_resumes(shot, tmp_path):
    class Interrupting(Progress):
        def frame(self, frame: int, detections: int) -> None:
            super().frame(frame, detections)
            if frame == 1006:
                raise KeyboardInterrupt

    out = str(tmp_path / "o")
    run_detect(DetectJob(shot, out, frames=list(range(1001, 1005))))
    with pytest.raises(KeyboardInterrupt):
        run_detect(DetectJob(shot, out, frames=list(range(1005, 1013))), Interrupting("none"))
    leftovers = [n for _, _, files in os.walk(out) for n in files if ".tmp" in n]
    assert leftovers == []
    with pytest.raises(InputError, match=r"frames 1007-1012 of .* are not finished"):
        merge_report(out, expect=list(FRAMES))
    assert main(["merge", out, "--expect", "1001-1012", "--quiet"]) == 3
    assert main(["merge", out, "--quiet"]) == 0  # without --expect: what is there
    assert _report(out)["summary"]["frames_processed"] == 6

    resumed = run_detect(DetectJob(shot, out, frames=list(range(1005, 1013))))
    assert (resumed.processed, resumed.skipped) == (6, 2)
    assert merge_report(out, expect=list(FRAMES))["summary"]["frames_processed"] == 12


def test_merge_refuses_chunks_made_with_different_settings(shot, tmp_path, capsys):
    out = str(tmp_path / "mixed")
    base = ["detect", shot, "--out", out, "--quiet"]
    assert main([*base, "--frames", "1001-1006", "--threshold", "0.5"]) == 0
    assert main([*base, "--frames", "1007-1012", "--threshold", "0.9"]) == 0
    assert main(["merge", out, "--expect", "1001-1012"]) == 3
    err = capsys.readouterr().err
    assert "frames 1001-1006" in err and "other settings" in err and "--force" in err
    # the report of the newest settings covers only their frames
    report = _report(out)
    assert report["threshold"] == 0.9
    assert report["source"]["frames"] == "1007-1012"


def test_merge_without_a_run_is_an_input_error(tmp_path, capsys):
    assert main(["merge", str(tmp_path)]) == 3
    assert "no hotpixel run" in capsys.readouterr().err


def test_failed_chunk_names_itself_and_keeps_the_others(tmp_path, capsys):
    rng = np.random.default_rng(2)
    pattern = write_sequence(str(tmp_path / "p"), [dark_plate(rng) for _ in range(10)])
    broken = tmp_path / "p" / "shot.1009.exr"
    broken.write_bytes(broken.read_bytes()[:200])
    out = str(tmp_path / "o")
    assert main(["detect", pattern, "--out", out, "--workers", "2", "--quiet"]) == 3
    err = capsys.readouterr().err
    assert "chunk 1006-1010 failed (exit 3)" in err and "shot.1009.exr" in err
    masks = sorted(os.listdir(os.path.join(out, "masks")))
    assert [m.split(".")[2] for m in masks][:5] == ["1001", "1002", "1003", "1004", "1005"]


def test_split_chunks_are_contiguous_and_cover_everything():
    frames = list(range(1001, 1024))
    chunks = split_chunks(frames, 4)
    assert [len(c) for c in chunks] == [6, 6, 6, 5]
    assert [f for c in chunks for f in c] == frames
    assert split_chunks([1001, 1002], 8) == [[1001], [1002]]
    with pytest.raises(UsageError):
        split_chunks(frames, 0)


def test_chunk_flags_reproduce_the_parameters():
    import argparse

    parser = argparse.ArgumentParser()
    add_param_flags(parser)
    for params in (
        DetectParams(),
        DetectParams(threshold=0.8125, detector="classical", motion_tolerance=5, max_area=9),
    ):
        assert params_from_args(parser.parse_args(to_flags(params))) == params


def test_a_chunk_inside_a_gap_has_nothing_to_do(tmp_path):
    """A farm chunk that falls wholly in a hole of the shot succeeds without work."""
    rng = np.random.default_rng(6)
    frames = [dark_plate(rng) for _ in range(12)]
    pattern = write_sequence(str(tmp_path / "p"), frames)
    for f in (1005, 1006, 1007):
        os.unlink(tmp_path / "p" / f"shot.{f}.exr")
    out = str(tmp_path / "o")
    base = ["detect", pattern, "--out", out, "--quiet", "--allow-gaps"]
    assert main([*base, "--frames", "1001-1004"]) == 0
    assert main([*base, "--frames", "1005-1007"]) == 0  # all missing: nothing to do
    assert main([*base, "--frames", "1008-1012"]) == 0
    report = _report(out)
    assert report["summary"]["frames_processed"] == 9
    assert report["source"]["missing_frames"] == [1005, 1006, 1007]
    assert main(["merge", out, "--expect", "1001-1004,1008-1012", "--quiet"]) == 0
    # excluded frames the same way; but a range outside the shot is still an error
    assert main(["detect", pattern, "--out", out, "--frames", "1003", "--exclude", "1003"]) == 0
    assert main(["detect", pattern, "--out", out, "--frames", "2001-2010", "--allow-gaps"]) == 3
    assert main(["detect", pattern, "--out", out, "--frames", "1001", "--exclude", "1001"]) == 3


def test_sigterm_keeps_finished_frames_and_the_report(tmp_path):
    """A farm manager killing a task (SIGTERM) leaves usable frames, a report and exit 130."""
    import signal

    rng = np.random.default_rng(13)
    pattern = write_sequence(str(tmp_path / "p"), [dark_plate(rng, 320, 240) for _ in range(40)])
    out = str(tmp_path / "o")
    cmd = [sys.executable, "-m", "hotpixel", "detect", pattern, "--out", out, "--progress", "json"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    for line in proc.stdout:
        if json.loads(line)["event"] == "frame":
            proc.send_signal(signal.SIGTERM)
            break
    proc.communicate(timeout=120)
    assert proc.returncode == 130
    report = _report(out)
    done = report["summary"]["frames_processed"]
    assert 1 <= done < 40 and len(report["summary"]["frames_pending"]) == 40 - done
    leftovers = [n for _, _, files in os.walk(out) for n in files if ".tmp" in n]
    assert leftovers == []
