"""Resume reuses a frame only when every input of its window is unchanged.

Regressions: a re-delivered frame under the same name, ``--exclude`` then a rerun without it,
a single file then the whole sequence into the same folder; and a flag the detector does not
read never forces a recompute.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from hotpixel.cli.main import main
from hotpixel.outputs.qc_page import source_paths
from hotpixel.outputs.records import frame_record_path
from hotpixel.outputs.resume import INPUT_CHANGED, NOT_STAMPED, WINDOW_CHANGED
from hotpixel.run.detect import run_detect
from imagegen import CLASSICAL, classical_job, dark_plate, write_image, write_sequence


def _plate(folder, n=7, seed=3, hot=((1004, 12, 20),)):
    rng = np.random.default_rng(seed)
    frames = [dark_plate(rng) for _ in range(n)]
    for frame, y, x in hot:
        frames[frame - 1001][y, x] = (3.0, 2.5, 2.8)
    return write_sequence(str(folder), frames)


def _found(report):
    return sorted((d["frame"], d["x"], d["y"]) for d in report["detections"])


def _redeliver(path, pixels):
    """Write ``path`` again with new content and a later modification time (a new version)."""
    before = os.stat(path).st_mtime_ns
    write_image(path, pixels)
    os.utime(path, ns=(before + 5_000_000_000, before + 5_000_000_000))


def test_redelivered_frame_recomputes_every_window_that_reads_it(tmp_path):
    pattern = _plate(tmp_path / "plate")
    out = str(tmp_path / "qc")
    first = run_detect(classical_job(pattern, out))
    assert _found(first.report) == [(1004, 20.5, 12.5)]
    fresh = dark_plate(np.random.default_rng(99))
    fresh[30, 40] = (3.0, 3.0, 3.0)  # the new version of 1003 has its own hot pixel
    _redeliver(str(tmp_path / "plate" / "shot.1003.exr"), fresh)
    again = run_detect(classical_job(pattern, out))
    # windows are t-2..t+2, mirrored at the start: 1001..1005 all read frame 1003
    assert again.recomputed == {INPUT_CHANGED: [1001, 1002, 1003, 1004, 1005]}
    assert (again.processed, again.skipped) == (5, 2)
    clean = run_detect(classical_job(pattern, str(tmp_path / "clean"))).report
    assert _found(again.report) == _found(clean) and (1003, 40.5, 30.5) in _found(clean)


def test_redelivered_frame_is_reported_in_json_and_summary(tmp_path, capsys):
    pattern = _plate(tmp_path / "plate")
    out = str(tmp_path / "qc")
    assert main(["detect", *CLASSICAL, pattern, "--out", out, "--quiet"]) == 0
    _redeliver(str(tmp_path / "plate" / "shot.1007.exr"), dark_plate(np.random.default_rng(5)))
    capsys.readouterr()
    assert main(["detect", *CLASSICAL, pattern, "--out", out, "--progress", "json"]) == 0
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    (event,) = [e for e in events if e["event"] == "recompute"]
    assert event["count"] == 3 and event["reasons"] == {INPUT_CHANGED: [1005, 1006, 1007]}
    assert "1007" in event["text"]
    _redeliver(str(tmp_path / "plate" / "shot.1001.exr"), dark_plate(np.random.default_rng(6)))
    assert main(["detect", *CLASSICAL, pattern, "--out", out]) == 0
    err = capsys.readouterr().err
    assert "recomputing 3 frame(s): 1001-1003 (an input frame changed: 1001" in err
    assert "; 3 frame(s) recomputed (an input frame changed)" in err.splitlines()[-1]


def test_exclude_then_include_recomputes_the_neighbours(tmp_path):
    pattern = _plate(tmp_path / "plate", hot=((1003, 12, 20), (1005, 30, 8)))
    out = str(tmp_path / "qc")
    cut = run_detect(classical_job(pattern, out, exclude=[1004]))
    assert cut.processed == 6
    full = run_detect(classical_job(pattern, out))
    # 1004 is new; 1002, 1003, 1005 and 1006 were judged with windows that stepped around it
    assert full.recomputed == {WINDOW_CHANGED: [1002, 1003, 1005, 1006]}
    assert (full.processed, full.skipped) == (5, 2)
    clean = run_detect(classical_job(pattern, str(tmp_path / "clean"))).report
    assert _found(full.report) == _found(clean)
    record = json.loads(Path(frame_record_path(out, 1003)).read_text())
    assert record["window"] == [1001, 1002, 1003, 1004, 1005]
    assert [i["frame"] for i in record["inputs"]] == [1001, 1002, 1003, 1004, 1005]
    assert all(os.path.isabs(i["path"]) for i in record["inputs"])


def test_single_file_then_sequence_recomputes_that_frame(tmp_path):
    pattern = _plate(tmp_path / "plate")
    out = str(tmp_path / "qc")
    single = run_detect(classical_job(str(tmp_path / "plate" / "shot.1003.exr"), out))
    assert single.processed == 1
    whole = run_detect(classical_job(pattern, out))
    assert whole.recomputed == {WINDOW_CHANGED: [1003]}
    assert whole.processed == 7
    clean = run_detect(classical_job(pattern, str(tmp_path / "clean"))).report
    assert _found(whole.report) == _found(clean)
    assert whole.report["warnings"] == []  # 1003 now has its neighbours


def test_unchanged_inputs_resume_and_old_records_are_redone(tmp_path):
    pattern = _plate(tmp_path / "plate", n=5)
    out = str(tmp_path / "qc")
    run_detect(classical_job(pattern, out))
    again = run_detect(classical_job(pattern, out))
    assert (again.processed, again.recomputed) == (0, {})
    path = frame_record_path(out, 1002)
    record = json.loads(Path(path).read_text())
    del record["inputs"]  # as written before input stamps existed
    with open(path, "w") as fh:
        json.dump(record, fh)
    assert run_detect(classical_job(pattern, out)).recomputed == {NOT_STAMPED: [1002]}


def test_a_flag_the_detector_does_not_read_forces_no_recompute(tmp_path, capsys):
    pattern = _plate(tmp_path / "plate", n=5)
    out = str(tmp_path / "qc")
    assert main(["detect", *CLASSICAL, pattern, "--out", out, "--quiet"]) == 0
    capsys.readouterr()
    code = main(
        ["detect", *CLASSICAL, pattern, "--out", out, "--model", "other.onnx", "--progress", "json"]
    )
    assert code == 0
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert events[0]["skipped"] == 5 and events[0]["total"] == 0
    warnings = [e for e in events if e["event"] == "warning"]
    assert [w["code"] for w in warnings] == ["inert_parameter"]
    assert "--model 'other.onnx' does nothing with --detector classical" in warnings[0]["message"]
    report = json.loads((tmp_path / "qc" / "report.json").read_text())
    assert [w["code"] for w in report["warnings"]] == ["inert_parameter"]


def test_motion_tolerance_with_the_neural_detector_says_so_and_resumes(tmp_path, capsys):
    pattern = _plate(tmp_path / "plate", n=5)
    out = str(tmp_path / "qc")
    neural = ["--detector", "neural", "--device", "cpu"]
    assert main(["detect", pattern, "--out", out, "--quiet", *neural]) == 0
    capsys.readouterr()
    args = ["detect", pattern, "--out", out, *neural, "--motion-tolerance", "6"]
    assert main([*args, "--progress", "json"]) == 0
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert events[0]["skipped"] == 5  # same results as without the flag: nothing redone
    (warning,) = [e for e in events if e["event"] == "warning"]
    assert warning["message"].startswith("--motion-tolerance 6 does nothing with --detector")
    assert "applies to --detector" in warning["message"] and "classical" in warning["message"]


def test_report_stores_absolute_paths_and_the_pattern_as_given(tmp_path, monkeypatch):
    _plate(tmp_path / "plate", n=5)
    monkeypatch.chdir(tmp_path)
    report = run_detect(classical_job(os.path.join("plate", "shot.####.exr"), "qc")).report
    assert report["source"]["pattern"] == str(tmp_path / "plate" / "shot.####.exr")
    assert report["source"]["pattern_given"] == os.path.join("plate", "shot.####.exr")
    assert all(os.path.isabs(r["file"]) for r in report["frames"])
    monkeypatch.chdir(tmp_path / "qc")  # review and the QC page find the plate from anywhere
    paths = source_paths(json.loads(Path("report.json").read_text()))
    assert sorted(paths) == list(range(1001, 1006))
    assert all(os.path.isfile(p) for p in paths.values())


def test_same_size_frame_with_its_old_mtime_restored_is_recomputed(tmp_path, capsys):
    # uncompressed frames of one shot share a size, and cp -p / rsync -a / tar -x restore
    # times: only the content tells the new 1003 from the old one
    rng = np.random.default_rng(3)
    frames = [dark_plate(rng) for _ in range(7)]
    pattern = write_sequence(str(tmp_path / "plate"), frames, compression="none")
    out = str(tmp_path / "qc")
    assert main(["detect", *CLASSICAL, pattern, "--out", out, "--quiet"]) == 0
    path = str(tmp_path / "plate" / "shot.1003.exr")
    before = os.stat(path)
    fresh = frames[2].copy()
    fresh[30, 40] = (3.0, 3.0, 3.0)  # the other version has a hot pixel
    write_image(path, fresh, compression="none")
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = os.stat(path)
    assert (after.st_size, after.st_mtime_ns) == (before.st_size, before.st_mtime_ns)
    capsys.readouterr()
    again = run_detect(classical_job(pattern, out))
    assert again.recomputed == {INPUT_CHANGED: [1001, 1002, 1003, 1004, 1005]}
    assert (1003, 40.5, 30.5) in _found(again.report)
    assert main(["detect", *CLASSICAL, pattern, "--out", out, "--quiet"]) == 0  # now in step
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns + 1))
    assert main(["detect", *CLASSICAL, pattern, "--out", out]) == 0
    err = capsys.readouterr().err
    assert "an input frame changed: 1003 by size or modification time" in err
    write_image(path, frames[2], compression="none")  # the first version again, old time
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns + 1))
    assert main(["detect", *CLASSICAL, pattern, "--out", out]) == 0
    err = capsys.readouterr().err
    assert "an input frame changed: 1003 by content (same size and time)" in err


def test_records_without_content_hashes_are_redone_once(tmp_path):
    pattern = _plate(tmp_path / "plate", n=5)
    out = str(tmp_path / "qc")
    run_detect(classical_job(pattern, out))
    path = frame_record_path(out, 1004)
    record = json.loads(Path(path).read_text())
    for stamp in record["inputs"]:
        assert len(stamp.pop("blake2b")) == 32  # as written when size and time were all
    Path(path).write_text(json.dumps(record))
    assert run_detect(classical_job(pattern, out)).recomputed == {NOT_STAMPED: [1004]}
    assert run_detect(classical_job(pattern, out)).recomputed == {}
