"""Say what the user needs to know: warnings in every progress mode, the report and
the QC page; an output folder that is the plate's refused; ``info`` checks every header and
survives ``| head``; error messages that point the right way."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from hotpixel.cli.main import main
from hotpixel.errors import SequenceError
from hotpixel.io.sequence import discover, select_frames
from hotpixel.run.detect import run_detect
from imagegen import CLASSICAL, classical_job, dark_plate, write_image, write_sequence


def _plate(folder, n=5):
    rng = np.random.default_rng(2)
    return write_sequence(str(folder), [dark_plate(rng) for _ in range(n)])


def _single(tmp_path):
    _plate(tmp_path / "plate")
    return str(tmp_path / "plate" / "shot.1003.exr")


def _detect(path, out, *extra):
    return main(["detect", *CLASSICAL, path, "--out", str(out), *extra])


NO_CONTEXT = "frame 1003 had no temporal context"


def test_single_frame_warns_in_bar_mode_and_summary(tmp_path, capsys):
    assert _detect(_single(tmp_path), tmp_path / "qc") == 0
    err = capsys.readouterr().err
    assert f"hotpixel: warning: {NO_CONTEXT}" in err and "spatial evidence only" in err
    assert "WARNING: no temporal context" in err.splitlines()[-1]  # the summary line


def test_single_frame_warns_in_json_mode(tmp_path, capsys):
    assert _detect(_single(tmp_path), tmp_path / "qc", "--progress", "json") == 0
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    (warning,) = [e for e in events if e["event"] == "warning"]
    assert warning["code"] == "no_temporal_context" and NO_CONTEXT in warning["message"]
    assert events[-1]["event"] == "done" and events[-1]["warnings"] == 1


@pytest.mark.parametrize("flags", [["--progress", "none"], ["--quiet"]])
def test_single_frame_warns_with_progress_none_and_quiet(tmp_path, capsys, flags):
    assert _detect(_single(tmp_path), tmp_path / "qc", *flags) == 0
    captured = capsys.readouterr()
    assert captured.out == ""
    assert f"hotpixel: warning: {NO_CONTEXT}" in captured.err
    summary = "detection(s)" in captured.err
    assert summary == (flags == ["--progress", "none"])  # none still gives the outcome


def test_single_frame_warning_in_report_and_qc_page(tmp_path):
    assert _detect(_single(tmp_path), tmp_path / "qc", "--quiet") == 0
    report = json.loads((tmp_path / "qc" / "report.json").read_text())
    assert [w["code"] for w in report["warnings"]] == ["no_temporal_context"]
    assert report["warnings"][0]["frames"] == "1003"
    page = (tmp_path / "qc" / "report.html").read_text()
    assert 'class="warnings"' in page and NO_CONTEXT in page


def test_one_frame_range_without_neighbours_warns(tmp_path):
    pattern = _plate(tmp_path / "plate")
    job = classical_job(pattern, str(tmp_path / "qc"), exclude=[1002, 1004])
    report = run_detect(job).report
    assert report["warnings"][0]["frames"] == "1001, 1003, 1005"  # each one alone
    sequence = run_detect(classical_job(pattern, str(tmp_path / "qc2"))).report
    assert sequence["warnings"] == []


def test_parallel_run_passes_chunk_warnings_on_once(tmp_path, capsys):
    pattern = _plate(tmp_path / "plate", n=4)
    out = tmp_path / "qc"
    assert _detect(pattern, out, "--workers", "2", "--device", "cpu", "--progress", "json") == 0
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    warnings = [e for e in events if e["event"] == "warning"]
    assert [w["code"] for w in warnings] == ["inert_parameter"]  # two chunks, said once
    assert "--device 'cpu' does nothing with --detector classical" in warnings[0]["message"]


def test_out_folder_that_is_the_plate_folder_is_refused(tmp_path, capsys):
    pattern = _plate(tmp_path / "plate")
    before = sorted(os.listdir(tmp_path / "plate"))
    assert _detect(pattern, tmp_path / "plate") == 4
    assert "is the plate's own folder" in capsys.readouterr().err
    assert sorted(os.listdir(tmp_path / "plate")) == before
    assert _detect(pattern, tmp_path / "plate", "--workers", "2") == 4


# --- hotpixel info --------------------------------------------------------------------------


def test_info_checks_every_frame_header(tmp_path, capsys):
    pattern = _plate(tmp_path / "plate", n=6)
    write_image(str(tmp_path / "plate" / "shot.1004.exr"), dark_plate(np.random.default_rng(1), 80))
    whole = (tmp_path / "plate" / "shot.1002.exr").read_bytes()
    (tmp_path / "plate" / "shot.1005.exr").write_bytes(whole[:100])  # cut inside the header
    assert main(["info", pattern]) == 3
    out = capsys.readouterr().out
    assert "problems: 2" in out
    assert "frame 1004:" in out and "is 80x48 but frame 1001 is 64x48" in out
    assert "frame 1005:" in out
    assert main(["info", pattern, "--json"]) == 3
    problems = json.loads(capsys.readouterr().out)["problems"]
    assert [p.split(":")[0] for p in problems] == ["frame 1004", "frame 1005"]


def test_info_into_head_ends_without_a_traceback(tmp_path):
    pattern = _plate(tmp_path / "plate", n=3)
    cmd = f"{sys.executable} -m hotpixel info '{pattern}' --json | head -c 1"
    for _ in range(3):  # the pipe closes at a different moment each time
        done = subprocess.run(cmd, shell=True, capture_output=True, text=True, timeout=120)
        assert done.stdout == "{" and "Traceback" not in done.stderr, done.stderr


# --- error messages -------------------------------------------------------------------------


def test_frames_outside_the_shot_do_not_suggest_frames_or_gaps(tmp_path, capsys):
    pattern = _plate(tmp_path / "plate")
    assert _detect(pattern, tmp_path / "qc", "--frames", "2001-2005") == 3
    err = capsys.readouterr().err
    assert "none of the requested frames 2001-2005 exist" in err and "(found 1001-1005)" in err
    assert "--allow-gaps" not in err


def test_requested_frames_with_a_hole_suggest_allow_gaps(tmp_path):
    pattern = _plate(tmp_path / "plate")
    os.unlink(tmp_path / "plate" / "shot.1003.exr")
    with pytest.raises(SequenceError, match="pass --allow-gaps to skip them, or --frames within"):
        select_frames(discover(pattern), [1002, 1003, 1004], allow_gaps=False)


def test_a_folder_that_does_not_exist_is_named_so(tmp_path):
    with pytest.raises(SequenceError, match=r"folder '.*nowhere' does not exist"):
        discover(str(tmp_path / "nowhere" / "plates"))
    with pytest.raises(SequenceError, match="is neither a file nor a folder"):
        discover(str(tmp_path / "plates"))


def test_an_unquoted_houdini_token_gets_a_quoting_hint(tmp_path):
    _plate(tmp_path / "plate")
    with pytest.raises(SequenceError, match=r"the shell replaced it.*'shot\.\$F4\.exr'"):
        discover(str(tmp_path / "plate" / "shot..exr"))  # what `shot.$F4.exr` unquoted becomes
