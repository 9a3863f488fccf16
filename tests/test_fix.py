"""hotpixel fix and hotpixel job: repaired frames change only flagged pixels; job files."""

from __future__ import annotations

import json
import os

import numpy as np
import OpenImageIO as oiio
import pytest

from hotpixel.cli.main import main
from hotpixel.errors import UsageError
from hotpixel.run.jobfile import parse_job
from imagegen import CLASSICAL, dark_plate, write_image, write_sequence


def _all_channels(path):
    buf = oiio.ImageBuf(path)
    spec = buf.spec()
    px = np.asarray(buf.get_pixels(oiio.FLOAT)).reshape(spec.height, spec.width, -1)
    return px, spec


@pytest.fixture
def plate(tmp_path):
    """RGBA + depth half EXRs with a data window offset; hot pixels on frames 1003 and 1004."""
    rng = np.random.default_rng(21)
    folder = tmp_path / "plate"
    folder.mkdir()
    for i in range(6):
        rgb = dark_plate(rng)
        if i == 2:
            rgb[10, 20] = (4.0, 3.0, 3.5)
        if i == 3:
            rgb[30:32, 40:42] = (2.0, 0.2, 0.2)  # a 2x2 blob
        alpha = np.full((48, 64, 1), 0.75, np.float32)
        depth = rng.uniform(1, 100, (48, 64, 1)).astype(np.float32)
        pixels = np.concatenate([rgb, alpha, depth], axis=-1)
        write_image(
            str(folder / f"shot.{1001 + i}.exr"),
            pixels,
            channels=("R", "G", "B", "A", "Z"),
            data_window=(8, 4),
            display=(80, 60),
        )
    return str(folder / "shot.####.exr")


def test_fix_changes_only_flagged_colour_pixels(plate, tmp_path):
    qc, fixed = str(tmp_path / "qc"), str(tmp_path / "fixed")
    assert main(["detect", *CLASSICAL, plate, "--out", qc, "--quiet"]) == 0
    assert main(["fix", plate, "--qc", qc, "--out", fixed, "--quiet"]) == 0
    assert sorted(os.listdir(fixed)) == [f"shot.{f}.exr" for f in range(1001, 1007)]
    for f in range(1001, 1007):
        src, spec_a = _all_channels(os.path.join(tmp_path, "plate", f"shot.{f}.exr"))
        out, spec_b = _all_channels(os.path.join(fixed, f"shot.{f}.exr"))
        assert list(spec_b.channelnames) == ["R", "G", "B", "A", "Z"]
        assert (spec_b.x, spec_b.y, spec_b.full_width, spec_b.full_height) == (8, 4, 80, 60)
        assert str(spec_b.format) == str(spec_a.format) == "half"
        changed = np.argwhere((src != out).any(axis=-1))
        np.testing.assert_array_equal(src[..., 3:], out[..., 3:])  # alpha, depth untouched
        if f == 1003:
            assert [10, 20] in changed.tolist() and len(changed) <= 9  # grown by 1 at most
            assert out[10, 20, 0] < 0.1  # the hot pixel now looks like its neighbours
        elif f == 1004:
            assert {(30, 40), (30, 41), (31, 40), (31, 41)} <= {tuple(c) for c in changed}
            assert out[30:32, 40:42, 0].max() < 0.1
        else:
            assert len(changed) == 0
            original = (tmp_path / "plate" / f"shot.{f}.exr").read_bytes()
            assert (tmp_path / "fixed" / f"shot.{f}.exr").read_bytes() == original  # a copy
    assert [n for n in os.listdir(fixed) if n.startswith(".")] == []  # no temporaries left


def test_fix_grow_zero_changes_exactly_the_flagged_pixels(plate, tmp_path):
    qc, fixed = str(tmp_path / "qc"), str(tmp_path / "fixed")
    main(["detect", *CLASSICAL, plate, "--out", qc, "--quiet"])
    assert main(["fix", plate, "--qc", qc, "--out", fixed, "--grow", "0", "--quiet"]) == 0
    src, _ = _all_channels(os.path.join(tmp_path, "plate", "shot.1003.exr"))
    out, _ = _all_channels(os.path.join(fixed, "shot.1003.exr"))
    assert np.argwhere((src != out).any(axis=-1)).tolist() == [[10, 20]]


def test_fix_refuses_to_overwrite_the_plate(plate, tmp_path, capsys):
    qc = str(tmp_path / "qc")
    main(["detect", *CLASSICAL, plate, "--out", qc, "--quiet"])
    before = (tmp_path / "plate" / "shot.1003.exr").read_bytes()
    assert main(["fix", plate, "--qc", qc, "--out", str(tmp_path / "plate")]) == 4
    assert "would overwrite an input frame" in capsys.readouterr().err
    assert (tmp_path / "plate" / "shot.1003.exr").read_bytes() == before


def test_fix_without_a_report_names_the_folder(plate, tmp_path, capsys):
    assert main(["fix", plate, "--qc", str(tmp_path), "--out", str(tmp_path / "f")]) == 3
    assert "report.json" in capsys.readouterr().err


def test_job_file_runs_detect_with_its_settings(tmp_path, capsys):
    rng = np.random.default_rng(4)
    frames = [dark_plate(rng) for _ in range(5)]
    frames[2][12, 12] = (3.0, 3.0, 3.0)
    pattern = write_sequence(str(tmp_path / "my plate"), frames)
    job = {
        "schema": "hotpixel-job",
        "schema_version": 1,
        "pattern": pattern,
        "out": str(tmp_path / "q c"),
        "frames": "1002-1004",
        "params": {"detector": "classical", "threshold": 0.6},
    }
    path = tmp_path / "job.json"
    path.write_text(json.dumps(job))
    assert main(["job", str(path)]) == 0
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert events[0]["event"] == "start" and events[-1]["event"] == "done"
    report = json.loads((tmp_path / "q c" / "report.json").read_text())
    assert report["threshold"] == 0.6 and report["source"]["frames"] == "1002-1004"
    assert [(d["frame"], d["x"], d["y"]) for d in report["detections"]] == [(1003, 12.5, 12.5)]


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        ({"schema_version": 2}, "schema_version 2"),
        ({"treshold": 0.5}, "unknown key(s) treshold"),
        ({"params": {"threshold": 3}}, "between 0.0 and 1.0"),
        ({"pattern": ""}, "needs 'pattern'"),
        ({"frames": "10-1"}, "'frames'"),
        ({"workers": 0}, "'workers'"),
    ],
)
def test_bad_job_files_are_usage_errors(change, needle):
    job = {"schema": "hotpixel-job", "schema_version": 1, "pattern": "a.####.exr", "out": "o"}
    with pytest.raises(UsageError) as err:
        parse_job({**job, **change})
    assert needle in str(err.value)
