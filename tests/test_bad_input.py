"""Every bad input through the real pipeline and the CLI: exit code, message, nothing lost.

Exit codes (hotpixel.cli.main): 0 ok, 2 usage, 3 input error, 4 output error.
"""

from __future__ import annotations

import hashlib
import json
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

from hotpixel.cli.main import main
from hotpixel.errors import FrameReadError, OutputError
from hotpixel.io.exr_writer import MASK_CHANNEL
from hotpixel.params import DetectParams
from hotpixel.run.detect import run_detect
from imagegen import CLASSICAL, classical_job, dark_plate, read_channel, write_image, write_sequence

W, H = 48, 40  # plate size: small, so the suite stays fast
HOT = (1003, 20, 11)  # frame, x, y of the hot pixel most shots carry


def _shot(folder, n=7, seed=0, hot=(HOT,), name="shot", fmt="half") -> str:
    """``n`` dark half plates from frame 1001 with hot pixels at ``hot``; the ``####`` pattern."""
    rng = np.random.default_rng(seed)
    frames = [dark_plate(rng, W, H) for _ in range(n)]
    for frame, x, y in hot:
        frames[frame - 1001][y, x] = (3.0, 2.5, 2.0)
    return write_sequence(str(folder), frames, name=name, fmt=fmt)


def _detect(pattern, out, *extra: str) -> int:
    return main(["detect", *CLASSICAL, str(pattern), "--out", str(out), "--quiet", *extra])


def _hashes(folder) -> dict[str, str]:
    files = sorted(pathlib.Path(folder).iterdir())
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in files}


def _temporaries(out) -> list[str]:
    """Files an atomic write left behind: ``.<name>.<random>.tmp<ext>``."""
    return [str(p) for p in pathlib.Path(out).rglob(".*") if ".tmp" in p.name]


def _masks(out) -> list[str]:
    folder = pathlib.Path(out) / "masks"
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def _report(out) -> dict:
    return json.loads((pathlib.Path(out) / "report.json").read_text(encoding="utf-8"))


def _found(report) -> list[tuple]:
    return sorted((d["frame"], d["kind"], d["x"], d["y"]) for d in report["detections"])


def _truncate(path) -> bytes:
    """Cut a file to half its bytes, as an interrupted copy does; return the original bytes."""
    data = pathlib.Path(path).read_bytes()
    pathlib.Path(path).write_bytes(data[: len(data) // 2])
    return data


# --- missing, damaged, mismatched and foreign frames ----------------------------------------


def test_missing_frame_exit_3_names_frame_ranges_and_fix(tmp_path, capsys):
    pattern = _shot(tmp_path / "plate")
    os.unlink(tmp_path / "plate" / "shot.1005.exr")
    out = tmp_path / "out"
    assert _detect(pattern, out) == 3
    assert capsys.readouterr().err == (
        f"hotpixel: error: frame 1005 is missing from {pattern} (found 1001-1004, 1006-1007); "
        "pass --frames or --allow-gaps\n"
    )
    assert _masks(out) == []

    assert _detect(pattern, out, "--allow-gaps") == 0
    report = _report(out)
    assert report["source"]["missing_frames"] == [1005]
    assert [f["frame"] for f in report["frames"]] == [1001, 1002, 1003, 1004, 1006, 1007]
    assert _found(report) == [(1003, "hot", 20.5, 11.5)]

    chunk = tmp_path / "chunk"
    assert _detect(pattern, chunk, "--frames", "1001-1003") == 0
    assert _masks(chunk) == [f"shot.hotpixel.{f}.exr" for f in (1001, 1002, 1003)]


def test_truncated_frame_mid_sequence(tmp_path, capsys):
    """Frames whose windows do not reach the damaged frame are finished; inputs untouched."""
    pattern = _shot(tmp_path / "plate", hot=((1002, 30, 8),))
    broken = tmp_path / "plate" / "shot.1005.exr"
    original = _truncate(broken)
    before = _hashes(tmp_path / "plate")
    out = tmp_path / "out"

    assert _detect(pattern, out) == 3
    err = capsys.readouterr().err
    assert f"frame 1005: {str(broken)!r} is damaged or truncated" in err
    assert "re-render or re-copy the file" in err
    assert "leave it out with --exclude 1005" in err  # the flag that skips one frame

    assert _hashes(tmp_path / "plate") == before
    assert _masks(out) == ["shot.hotpixel.1001.exr", "shot.hotpixel.1002.exr"]
    report = _report(out)
    assert report["summary"]["frames_pending"] == [1003, 1004, 1005, 1006, 1007]
    assert _found(report) == [(1002, "hot", 30.5, 8.5)]
    assert _temporaries(out) == []

    broken.write_bytes(original)  # the file is re-copied: the rerun does only the rest
    result = run_detect(classical_job(pattern, str(out)))
    assert (result.processed, result.skipped) == (5, 2)
    assert len(_masks(out)) == 7


def test_truncated_frame_raises_frame_read_error_with_path_and_frame(tmp_path):
    pattern = _shot(tmp_path / "plate", n=5)
    broken = tmp_path / "plate" / "shot.1003.exr"
    _truncate(broken)
    with pytest.raises(FrameReadError) as info:
        run_detect(classical_job(pattern, str(tmp_path / "out")))
    assert (info.value.frame, info.value.path) == (1003, str(broken))
    assert info.value.exit_code == 3


@pytest.mark.parametrize("damage", ["truncated", "resolution"])
def test_leaving_a_bad_frame_out_with_frames_works(tmp_path, damage):
    pattern = _shot(tmp_path / "plate")
    bad = tmp_path / "plate" / "shot.1005.exr"
    if damage == "truncated":
        _truncate(bad)
    else:
        write_image(str(bad), np.zeros((30, 40, 3), np.float32))
    out = tmp_path / "out"
    assert _detect(pattern, out, "--frames", "1001-1004,1006-1007") == 0
    assert len(_masks(out)) == 6


def test_frame_of_different_resolution(tmp_path, capsys):
    pattern = _shot(tmp_path / "plate")
    odd = tmp_path / "plate" / "shot.1004.exr"
    write_image(str(odd), np.full((30, 40, 3), 0.03, np.float32))
    out = tmp_path / "out"
    assert _detect(pattern, out) == 3
    err = capsys.readouterr().err
    assert err.startswith("hotpixel: error: ")
    assert f"frame 1004: {str(odd)!r} is 40x30 but the sequence is 48x40 (from frame 1001)" in err
    assert "replace the frame" in err
    assert _masks(out) == []  # checked before anything is written


@pytest.mark.parametrize(
    ("crop", "origin"),
    [
        ((40, 34), (4, 3)),
        # regression: the classical level was the median over the whole canvas, zero padding
        # included, so a neighbour covering under half the canvas hid the adjacent hot pixel
        ((24, 20), (8, 6)),
    ],
)
def test_frame_with_a_smaller_data_window_is_aligned_not_refused(tmp_path, crop, origin):
    """Same display size, smaller data window (a bbox-cropped render) beside a hot pixel."""
    pattern = _shot(tmp_path / "plate", n=5)
    rng = np.random.default_rng(5)
    plate = tmp_path / "plate" / "shot.1004.exr"
    write_image(str(plate), dark_plate(rng, *crop), data_window=origin, display=(W, H))
    out = tmp_path / "out"
    report = run_detect(classical_job(pattern, str(out))).report
    mask, spec = read_channel(str(out / "masks" / "shot.hotpixel.1004.exr"), MASK_CHANNEL)
    assert (spec.x, spec.y, spec.width, spec.height) == (*origin, *crop)
    assert np.isfinite(mask).all()
    assert _found(report) == [(1003, "hot", 20.5, 11.5)]


@pytest.mark.parametrize("use_directory", [False, True])
def test_text_file_named_like_a_frame(tmp_path, capsys, use_directory):
    pattern = _shot(tmp_path / "plate", n=5)
    fake = tmp_path / "plate" / "shot.1003.exr"
    fake.write_text("frame 1003 was not rendered\n", encoding="utf-8")
    source = tmp_path / "plate" if use_directory else pattern
    assert _detect(source, tmp_path / "out") == 3
    err = capsys.readouterr().err
    assert f"frame 1003: cannot open {str(fake)!r}" in err
    assert "re-render or re-copy the file" in err
    assert fake.read_text(encoding="utf-8") == "frame 1003 was not rendered\n"


def test_empty_directory(tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    assert _detect(empty, tmp_path / "out") == 3
    err = capsys.readouterr().err
    assert f"folder {str(empty)!r} holds no image sequence" in err
    assert not (tmp_path / "out").exists()


def test_pattern_matching_nothing(tmp_path, capsys):
    _shot(tmp_path / "plate", n=3)
    assert _detect(tmp_path / "plate" / "shot.%05d.exr", tmp_path / "out") == 3
    assert "no frames match" in capsys.readouterr().err


# --- outputs --------------------------------------------------------------------------------


def test_output_below_a_file_exit_4(tmp_path, capsys):
    """A folder below a regular file cannot be created, whoever runs the test (root too)."""
    pattern = _shot(tmp_path / "plate", n=3)
    before = _hashes(tmp_path / "plate")
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("x", encoding="utf-8")
    assert _detect(pattern, blocker / "qc") == 4
    err = capsys.readouterr().err
    assert "cannot create output folder" in err and str(blocker / "qc") in err
    assert "pass --out with a folder you can write to" in err
    assert _hashes(tmp_path / "plate") == before
    with pytest.raises(OutputError) as info:
        run_detect(classical_job(pattern, str(blocker / "qc")))
    assert info.value.exit_code == 4


def test_read_only_output_folder_exit_4(tmp_path, capsys):
    pattern = _shot(tmp_path / "plate", n=3)
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        if os.access(locked, os.W_OK):
            pytest.skip("permissions do not stop this user (root): covered by the test above")
        assert _detect(pattern, locked / "qc") == 4
        err = capsys.readouterr().err
        assert str(locked / "qc") in err and "--out" in err
    finally:
        locked.chmod(0o700)


def test_failed_write_leaves_no_temporary_files(tmp_path):
    """A folder where frames/1003.json must go makes the final rename fail."""
    pattern = _shot(tmp_path / "plate", n=5)
    out = tmp_path / "out"
    (out / "frames" / "1003.json").mkdir(parents=True)
    with pytest.raises((OutputError, OSError)):
        run_detect(classical_job(pattern, str(out)))
    assert _temporaries(out) == []
    assert not (out / "frames" / "1003.json").is_file()


def test_output_that_cannot_be_replaced_exit_4(tmp_path, capsys):
    """Regression (fixed): atomic.py lets the OSError of os.replace/open escape as a raw
    IsADirectoryError (no OutputError), so cli.main crashes with a traceback instead of exit 4
    """
    pattern = _shot(tmp_path / "plate", n=5)
    out = tmp_path / "out"
    (out / "frames" / "1003.json").mkdir(parents=True)
    assert _detect(pattern, out) == 4
    assert "1003.json" in capsys.readouterr().err


def test_successful_run_leaves_no_temporary_files(tmp_path):
    pattern = _shot(tmp_path / "plate", n=5)
    out = tmp_path / "out"
    assert _detect(pattern, out, "--with-plate") == 0
    assert _temporaries(out) == []
    assert len(_masks(out)) == 5 and len(os.listdir(out / "plate")) == 5
    assert sorted(os.listdir(out / "frames")) == [f"{f}.json" for f in range(1001, 1006)]


# --- rerun, resume, force, fingerprint --------------------------------------------------------


def _start_event(capsys) -> dict:
    lines = capsys.readouterr().out.splitlines()
    return json.loads(lines[0])


def test_rerun_resumes_force_redoes_and_threshold_change_redoes(tmp_path, capsys):
    pattern = _shot(tmp_path / "plate", n=6)
    out = tmp_path / "out"
    runs = [
        ([], (6, 0)),
        ([], (0, 6)),
        (["--force"], (6, 0)),
        (["--threshold", "0.7"], (6, 0)),  # another fingerprint: every frame redone
        (["--threshold", "0.7"], (0, 6)),
        (["--threshold", "0.7", "--device", "cpu"], (0, 6)),  # the device does not count
    ]
    for extra, (total, skipped) in runs:
        code = main(
            [
                "detect",
                "--detector",
                "classical",
                pattern,
                "--out",
                str(out),
                "--progress",
                "json",
                *extra,
            ]
        )
        assert code == 0
        start = _start_event(capsys)
        assert (start["event"], start["total"], start["skipped"]) == ("start", total, skipped)
        assert _found(_report(out)) == [(1003, "hot", 20.5, 11.5)]
    assert _report(out)["threshold"] == 0.7
    assert _temporaries(out) == []


def test_rerun_counts_through_the_pipeline(tmp_path):
    pattern = _shot(tmp_path / "plate", n=5)
    out = str(tmp_path / "out")
    first = run_detect(classical_job(pattern, out))
    again = run_detect(classical_job(pattern, out))
    assert (first.processed, first.skipped, again.processed, again.skipped) == (5, 0, 0, 5)
    assert _found(again.report) == _found(first.report) == [(1003, "hot", 20.5, 11.5)]
    os.unlink(os.path.join(out, "frames", "1002.json"))  # a lost record: that frame is redone
    assert run_detect(classical_job(pattern, out)).processed == 1
    forced = run_detect(classical_job(pattern, out, force=True))
    assert (forced.processed, forced.skipped) == (5, 0)
    changed = run_detect(classical_job(pattern, out, params=DetectParams(motion_tolerance=2)))
    assert changed.processed == 5


# --- non-finite and extreme pixel values ----------------------------------------------------


def test_nan_and_inf_reported_as_nonfinite_at_their_pixel(tmp_path):
    rng = np.random.default_rng(21)
    frames = [dark_plate(rng, W, H) for _ in range(5)]
    frames[2][20, 10] = (3.0, 3.0, 3.0)  # a hot pixel beside the bad values
    clean = write_sequence(str(tmp_path / "clean"), [f.copy() for f in frames])
    frames[2][7, 9, 1] = np.nan
    frames[2][30, 40] = np.inf
    frames[1][15, 15, 0] = -np.inf
    pattern = write_sequence(str(tmp_path / "bad"), frames)  # half
    out = tmp_path / "out"
    report = run_detect(classical_job(pattern, str(out))).report
    assert _found(report) == [
        (1002, "nonfinite", 15.5, 15.5),
        (1003, "hot", 10.5, 20.5),
        (1003, "nonfinite", 9.5, 7.5),
        (1003, "nonfinite", 40.5, 30.5),
    ]
    by_place = {(d["x"], d["y"]): d for d in report["detections"]}
    assert by_place[(9.5, 7.5)]["peak_rgb"][1] is None
    assert by_place[(40.5, 30.5)]["peak_rgb"] == [None, None, None]

    reference = run_detect(classical_job(clean, str(tmp_path / "ref"))).report
    (hot,) = [d for d in report["detections"] if d["kind"] == "hot"]
    (ref,) = reference["detections"]
    assert (hot["x"], hot["y"], hot["area"]) == (ref["x"], ref["y"], ref["area"])
    assert hot["score"] == pytest.approx(ref["score"], abs=0.02)

    mask, _ = read_channel(str(out / "masks" / "shot.hotpixel.1003.exr"), MASK_CHANNEL)
    assert np.isfinite(mask).all()
    assert mask[7, 9] == 1.0 and mask[30, 40] == 1.0 and mask[20, 10] >= 0.5
    mask2, _ = read_channel(str(out / "masks" / "shot.hotpixel.1002.exr"), MASK_CHANNEL)
    assert mask2[15, 15] == 1.0 and np.isfinite(mask2).all()


def test_frame_of_nothing_but_nan(tmp_path):
    rng = np.random.default_rng(22)
    frames = [dark_plate(rng, W, H) for _ in range(5)]
    frames[1][:] = np.nan
    frames[3][20, 10] = 3.0
    report = run_detect(
        classical_job(write_sequence(str(tmp_path / "p"), frames), str(tmp_path / "o"))
    )
    got = [(d["frame"], d["kind"], d["x"], d["y"], d["area"]) for d in report.report["detections"]]
    assert got == [(1002, "nonfinite", 24.0, 20.0, W * H), (1004, "hot", 10.5, 20.5, 1)]


def test_half_extremes_negative_max_and_denormals(tmp_path):
    """Half plates hold negatives (grain below black), 65504 (clipped highlights), denormals."""
    rng = np.random.default_rng(23)
    frames = [dark_plate(rng, W, H) for _ in range(5)]
    for f in frames:
        f[0:4, 0:6] = -0.02  # a patch below black
        f[33, 40] = 6e-8  # smallest half denormal
        f[34, 41] = 3e-5  # a larger denormal
        f[35, 5] = -0.0
    frames[2][20, 10] = 65504.0  # half max: a stuck-on pixel in one frame
    frames[2][12, 30] = -65504.0  # a hugely negative pixel is dark, not hot
    frames[3][25, 25, 2] = 65504.0  # one channel only
    out = tmp_path / "out"
    report = run_detect(classical_job(write_sequence(str(tmp_path / "p"), frames), str(out))).report
    assert _found(report) == [(1003, "hot", 10.5, 20.5), (1004, "hot", 25.5, 25.5)]
    assert report["detections"][0]["peak_rgb"] == pytest.approx([65504.0] * 3, rel=1e-3)
    assert report["summary"]["by_kind"] == {"hot": 2}
    for f in range(1001, 1006):
        mask, spec = read_channel(str(out / "masks" / f"shot.hotpixel.{f}.exr"), MASK_CHANNEL)
        assert (spec.width, spec.height) == (W, H)
        assert np.isfinite(mask).all() and mask.min() >= 0.0 and mask.max() <= 1.0


@pytest.mark.filterwarnings("ignore:overflow:RuntimeWarning", "ignore:invalid:RuntimeWarning")
def test_float_plate_with_values_near_float_max(tmp_path):
    """Regression (fixed): classical.py _Features: the 3x3 light sum overflows float32 for values
    above ~3.8e37 (uniform_filter * 9.0 -> inf, inf/(1+inf) -> NaN), so NaN probabilities hide
    the defect (numpy prints overflow and invalid-value RuntimeWarnings)
    """
    rng = np.random.default_rng(24)
    frames = [dark_plate(rng, W, H) for _ in range(5)]
    frames[2][20:22, 10:12] = 3.0e38
    pattern = write_sequence(str(tmp_path / "p"), frames, fmt="float")
    report = run_detect(classical_job(pattern, str(tmp_path / "o"))).report
    assert _found(report) == [(1003, "hot", 11.0, 21.0)]


# --- tiny images and single frames -------------------------------------------------------------


@pytest.mark.parametrize("size", [1, 2, 3])
def test_images_smaller_than_the_ring_run(tmp_path, size):
    """No room for the 5x5 ring: the run finishes, masks are the image's size and finite."""
    rng = np.random.default_rng(size)
    frames = [dark_plate(rng, size, size) for _ in range(5)]
    c = size // 2
    frames[2][c, c] = 3.0
    out = tmp_path / "out"
    result = run_detect(classical_job(write_sequence(str(tmp_path / "p"), frames), str(out)))
    assert (result.processed, result.skipped) == (5, 0)
    assert set(_found(result.report)) <= {(1003, "hot", c + 0.5, c + 0.5)}
    for f in range(1001, 1006):
        mask, spec = read_channel(str(out / "masks" / f"shot.hotpixel.{f}.exr"), MASK_CHANNEL)
        assert (spec.width, spec.height) == (size, size)
        assert np.isfinite(mask).all() and mask.min() >= 0.0 and mask.max() <= 1.0


def test_one_pixel_image_with_nan(tmp_path):
    frames = [np.full((1, 1, 3), 0.05, np.float32) for _ in range(3)]
    frames[1][0, 0, 0] = np.nan
    report = run_detect(
        classical_job(write_sequence(str(tmp_path / "p"), frames), str(tmp_path / "o"))
    )
    assert _found(report.report) == [(1002, "nonfinite", 0.5, 0.5)]


def test_five_by_five_image_finds_its_centre(tmp_path):
    rng = np.random.default_rng(25)
    frames = [dark_plate(rng, 5, 5) for _ in range(5)]
    frames[2][2, 2] = 3.0
    out = tmp_path / "out"
    report = run_detect(classical_job(write_sequence(str(tmp_path / "p"), frames), str(out))).report
    assert _found(report) == [(1003, "hot", 2.5, 2.5)]
    assert report["source"]["width"] == 5 and report["source"]["height"] == 5
    mask, _ = read_channel(str(out / "masks" / "shot.hotpixel.1003.exr"), MASK_CHANNEL)
    assert mask.shape == (5, 5) and mask[2, 2] >= 0.5


@pytest.mark.parametrize("as_file", [False, True])
def test_single_frame_sequence(tmp_path, as_file):
    rng = np.random.default_rng(26)
    frame = dark_plate(rng, W, H)
    frame[10, 12] = (3.0, 3.0, 3.0)
    pattern = write_sequence(str(tmp_path / "p"), [frame], first=1047)
    source = tmp_path / "p" / "shot.1047.exr" if as_file else pattern
    out = tmp_path / "out"
    assert _detect(source, out) == 0
    report = _report(out)
    assert report["source"]["frames"] == "1047" and report["source"]["frame_count"] == 1
    assert _found(report) == [(1047, "hot", 12.5, 10.5)]
    assert _masks(out) == ["shot.hotpixel.1047.exr"]


# --- paths -----------------------------------------------------------------------------------


def test_paths_with_spaces_and_accents_in_process(tmp_path):
    folder = tmp_path / "plates été" / "shot 01"
    pattern = _shot(folder, n=5, name="shot 01")
    before = _hashes(folder)
    for source, out in ((pattern, tmp_path / "qc été" / "run 1"), (folder, tmp_path / "qc 2")):
        assert _detect(source, out) == 0
        report = _report(out)
        assert _found(report) == [(1003, "hot", 20.5, 11.5)]
        assert report["frames"][2]["file"] == str(folder / "shot 01.1003.exr")
        assert _masks(out) == [f"shot 01.hotpixel.{f}.exr" for f in range(1001, 1006)]
        mask, _ = read_channel(str(out / "masks" / "shot 01.hotpixel.1003.exr"), MASK_CHANNEL)
        assert mask[11, 20] >= 0.5
    assert _hashes(folder) == before


def test_paths_with_spaces_and_accents_subprocess(tmp_path):
    folder = tmp_path / "plates été" / "shot 01"
    pattern = _shot(folder, n=5, name="shot 01")
    out = tmp_path / "qc résultats"
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "hotpixel",
            "detect",
            *CLASSICAL,
            pattern,
            "--out",
            str(out),
            "--progress",
            "json",
        ],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout.splitlines()[-1])["detections"] == 1
    assert _found(_report(out)) == [(1003, "hot", 20.5, 11.5)]
