"""Bad input: each gets a clear message naming the file and frame, and nothing is lost."""

from __future__ import annotations

import hashlib
import json
import os
import pathlib

import numpy as np
import pytest

from hotpixel.cli.main import main
from hotpixel.errors import FrameReadError, OutputError, SequenceError
from hotpixel.run.detect import run_detect
from imagegen import CLASSICAL, classical_job, dark_plate, write_image, write_sequence


def _plates(tmp_path, n=8, size=(40, 32), folder="plate", seed=0):
    rng = np.random.default_rng(seed)
    w, h = size
    frames = [dark_plate(rng, w, h) for _ in range(n)]
    return write_sequence(str(tmp_path / folder), frames)


def _hashes(folder) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(pathlib.Path(folder).iterdir())
    }


def _leftovers(folder) -> list[str]:
    return [str(p) for p in pathlib.Path(folder).rglob("*.tmp*")]


def test_missing_frame_names_it_and_the_fix(tmp_path, capsys):
    pattern = _plates(tmp_path)
    os.unlink(tmp_path / "plate" / "shot.1004.exr")
    assert main(["detect", *CLASSICAL, pattern, "--out", str(tmp_path / "o"), "--quiet"]) == 3
    err = capsys.readouterr().err
    assert "frame 1004 is missing from" in err and "(found 1001-1003, 1005-1008)" in err
    assert "pass --frames or --allow-gaps" in err
    assert (
        main(
            [
                "detect",
                "--detector",
                "classical",
                pattern,
                "--out",
                str(tmp_path / "o"),
                "--quiet",
                "--allow-gaps",
            ]
        )
        == 0
    )
    report = json.loads((tmp_path / "o" / "report.json").read_text())
    assert report["summary"]["frames_processed"] == 7


def test_truncated_frame_mid_sequence_keeps_earlier_frames_and_inputs(tmp_path):
    pattern = _plates(tmp_path)
    broken = tmp_path / "plate" / "shot.1005.exr"
    broken.write_bytes(broken.read_bytes()[: broken.stat().st_size // 2])
    before = _hashes(tmp_path / "plate")
    out = tmp_path / "o"
    with pytest.raises(FrameReadError) as info:
        run_detect(classical_job(pattern, str(out)))
    message = str(info.value)
    assert "frame 1005" in message and "shot.1005.exr" in message
    assert "damaged or truncated" in message and "re-render or re-copy" in message
    assert info.value.frame == 1005
    assert _hashes(tmp_path / "plate") == before
    report = json.loads((out / "report.json").read_text())
    assert [f["frame"] for f in report["frames"]] == [1001, 1002]  # their windows were whole
    assert (out / "masks" / "shot.hotpixel.1002.exr").is_file()
    assert _leftovers(out) == []


def test_frame_of_different_resolution(tmp_path):
    pattern = _plates(tmp_path)
    write_image(str(tmp_path / "plate" / "shot.1006.exr"), np.zeros((20, 30, 3), np.float32))
    with pytest.raises(
        FrameReadError,
        match=r"frame 1006: .*shot\.1006\.exr' is 30x20 but the "
        r"sequence is 40x32 \(from frame 1001\)",
    ):
        run_detect(classical_job(pattern, str(tmp_path / "o")))


def test_non_image_file_matching_the_pattern(tmp_path, capsys):
    pattern = _plates(tmp_path)
    (tmp_path / "plate" / "shot.1003.exr").write_text("not an image\n")
    assert main(["detect", *CLASSICAL, pattern, "--out", str(tmp_path / "o"), "--quiet"]) == 3
    err = capsys.readouterr().err
    assert "frame 1003: cannot open" in err and "shot.1003.exr" in err


def test_empty_directory(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(SequenceError, match="holds no image sequence"):
        run_detect(classical_job(str(tmp_path / "empty"), str(tmp_path / "o")))


def test_unwritable_output_directory(tmp_path, capsys):
    pattern = _plates(tmp_path, n=3)
    blocker = tmp_path / "a_file"
    blocker.write_text("x")  # an output folder below a file cannot exist, even for root
    code = main(["detect", *CLASSICAL, pattern, "--out", str(blocker / "out"), "--quiet"])
    assert code == 4
    assert "cannot create output folder" in capsys.readouterr().err
    with pytest.raises(OutputError):
        run_detect(classical_job(pattern, str(blocker / "out")))


@pytest.mark.parametrize("size", [(1, 1), (5, 5)])
def test_tiny_images(tmp_path, size):
    w, h = size
    frames = [np.full((h, w, 3), 0.1, np.float32) for _ in range(5)]
    frames[2][h // 2, w // 2] = 5.0
    pattern = write_sequence(str(tmp_path / "p"), frames)
    report = run_detect(classical_job(pattern, str(tmp_path / "o"))).report
    assert report["summary"]["frames_processed"] == 5
    assert all(0 <= d["x"] <= w and 0 <= d["y"] <= h for d in report["detections"])


def test_single_frame_sequence(tmp_path):
    frame = dark_plate(np.random.default_rng(3))
    frame[10, 12] = 3.0
    pattern = write_sequence(str(tmp_path / "p"), [frame])
    report = run_detect(classical_job(pattern, str(tmp_path / "o"))).report
    assert [(d["x"], d["y"]) for d in report["detections"]] == [(12.5, 10.5)]


def test_paths_with_spaces_and_non_ascii(tmp_path):
    rng = np.random.default_rng(4)
    frames = [dark_plate(rng) for _ in range(5)]
    frames[2][7, 8] = 2.0
    folder = tmp_path / "plates été" / "shot 01"
    pattern = write_sequence(str(folder), frames, name="plate ñ")
    out = tmp_path / "qc résultats"
    report = run_detect(classical_job(pattern, str(out))).report
    assert [(d["frame"], d["x"]) for d in report["detections"]] == [(1003, 8.5)]
    assert (out / "masks" / "plate ñ.hotpixel.1003.exr").is_file()


def test_resume_skips_done_frames_force_and_changed_params_redo(tmp_path):
    pattern = _plates(tmp_path, n=6)
    out = str(tmp_path / "o")
    first = run_detect(classical_job(pattern, out))
    assert (first.processed, first.skipped) == (6, 0)
    again = run_detect(classical_job(pattern, out))
    assert (again.processed, again.skipped) == (0, 6)
    assert again.report["summary"]["frames_processed"] == 6
    forced = run_detect(classical_job(pattern, out, force=True))
    assert forced.processed == 6
    from hotpixel.params import DetectParams

    changed = run_detect(classical_job(pattern, out, params=DetectParams(threshold=0.7)))
    assert changed.processed == 6
    os.unlink(os.path.join(out, "masks", "shot.hotpixel.1003.exr"))  # a lost mask is redone
    assert (
        run_detect(classical_job(pattern, out, params=DetectParams(threshold=0.7))).processed == 1
    )
    assert _leftovers(out) == []


def test_interrupted_run_resumes(tmp_path):
    """Ctrl-C half way: finished frames stay usable and a rerun does only the rest."""
    from hotpixel.progress import Progress

    class Interrupting(Progress):
        def frame(self, frame: int, detections: int) -> None:
            if frame == 1004:
                raise KeyboardInterrupt
            super().frame(frame, detections)

    pattern = _plates(tmp_path, n=8)
    out = str(tmp_path / "o")
    with pytest.raises(KeyboardInterrupt):
        run_detect(classical_job(pattern, out), Interrupting("none"))
    report = json.loads((tmp_path / "o" / "report.json").read_text())
    assert report["summary"]["frames_processed"] == 4  # 1004 was analysed before the ^C
    assert report["summary"]["frames_pending"] == [1005, 1006, 1007, 1008]
    resumed = run_detect(classical_job(pattern, out))
    assert (resumed.processed, resumed.skipped) == (4, 4)
    assert _leftovers(out) == []


def test_hdr_values_nan_inf_do_not_crash(tmp_path):
    frames = [dark_plate(np.random.default_rng(i)) for i in range(5)]
    frames[1][0, 0] = (65504.0, -65504.0, 6e-8)
    frames[2][3, 3] = (np.nan, np.inf, -np.inf)
    pattern = write_sequence(str(tmp_path / "p"), frames, fmt="half")
    report = run_detect(classical_job(pattern, str(tmp_path / "o"))).report
    kinds = {(d["frame"], d["kind"]) for d in report["detections"]}
    assert (1003, "nonfinite") in kinds


def test_outputs_get_normal_permissions(tmp_path):
    """Regression: atomic writes went through mkstemp and left 0600 files nobody else could read."""
    pattern = _plates(tmp_path, n=3)
    out = tmp_path / "o"
    run_detect(classical_job(pattern, str(out)))
    umask = os.umask(0)
    os.umask(umask)
    for path in [out / "report.json", out / "masks" / "shot.hotpixel.1002.exr"]:
        assert path.stat().st_mode & 0o777 == 0o666 & ~umask
