"""The CLI: in-process and as a real subprocess, exit codes, JSON progress, info."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from hotpixel.cli.main import main
from hotpixel.params import DetectParams, flag_name, param_fields
from imagegen import CLASSICAL, dark_plate, write_sequence


def _detect(pattern, out, *extra: str) -> int:
    """The detect command in-process, on the classical detector (exact plumbing checks)."""
    return main(["detect", *CLASSICAL, str(pattern), "--out", str(out), *extra])


def _subprocess(*args: str) -> subprocess.CompletedProcess[str]:
    """The real entry point, as a farm or the Nuke plugin starts it."""
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    cmd = [sys.executable, "-m", "hotpixel", *args]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120, check=False)


@pytest.fixture
def shot(tmp_path):
    rng = np.random.default_rng(11)
    frames = [dark_plate(rng) for _ in range(6)]
    frames[3][15, 25] = (2.0, 2.0, 2.0)
    return write_sequence(str(tmp_path / "plate"), frames)


def test_detect_in_process_exit_zero_with_detections(shot, tmp_path, capsys):
    assert _detect(shot, tmp_path / "o", "--quiet") == 0
    report = json.loads((tmp_path / "o" / "report.json").read_text())
    assert [(d["frame"], d["x"], d["y"]) for d in report["detections"]] == [(1004, 25.5, 15.5)]
    assert capsys.readouterr().err == ""


def test_fail_on_detections_gives_exit_one(shot, tmp_path):
    assert _detect(shot, tmp_path / "o", "--quiet", "--fail-on-detections") == 1


def test_json_progress_lines(shot, tmp_path, capsys):
    assert _detect(shot, tmp_path / "o", "--progress", "json") == 0
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert events[0]["event"] == "start" and events[0]["total"] == 6
    frames = [e for e in events if e["event"] == "frame"]
    assert [e["frame"] for e in frames] == list(range(1001, 1007))
    assert frames[-1]["done"] == 6 and frames[3]["detections"] == 1
    assert events[-1]["event"] == "done" and events[-1]["detections"] == 1


def test_run_says_what_computes_it(shot, tmp_path, capsys):
    assert _detect(shot, tmp_path / "o") == 0
    assert capsys.readouterr().err.splitlines()[0] == (
        "classical on numpy/scipy (CPU), threshold 0.5"
    )
    assert _detect(shot, tmp_path / "j", "--progress", "json") == 0
    start = json.loads(capsys.readouterr().out.splitlines()[0])
    assert start["summary"] == "classical on numpy/scipy (CPU), threshold 0.5"
    report = json.loads((tmp_path / "o" / "report.json").read_text())
    assert report["detector"]["runtime"] == "numpy/scipy (CPU)"


def test_json_progress_reports_errors(tmp_path, capsys):
    assert _detect(tmp_path / "none.####.exr", tmp_path / "o", "--progress", "json") == 3
    out, err = capsys.readouterr()
    event = json.loads(out.splitlines()[-1])
    assert event["event"] == "error" and event["exit_code"] == 3
    assert "no frames match" in err and "none.####.exr" in err


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--threshold", "1.5"], "--threshold must be between 0.0 and 1.0"),
        (["--frames", "1010-1001"], "ends before it starts"),
    ],
)
def test_usage_errors(shot, tmp_path, capsys, args, needle):
    code = _detect(shot, tmp_path / "o", "--quiet", *args)
    assert code == 2
    assert needle in capsys.readouterr().err


def test_unknown_flag_is_usage_error(shot, tmp_path):
    """Flags are whole words: argparse's abbreviations (--thr for --threshold) are off."""
    assert _detect(shot, tmp_path / "o", "--thr", "0.3") == 2


def test_every_parameter_has_a_flag(shot, tmp_path):
    """The parameter set drives the flags: every field is settable from the command line."""
    args = ["detect", *CLASSICAL, shot, "--out", str(tmp_path / "o"), "--quiet"]
    for f in param_fields():
        value = getattr(DetectParams(), f.name)
        args += [f"--{flag_name(f.name)}", str(0.8 if value is None else value)]
    assert main(args) == 0


def test_info_json(shot, capsys):
    assert main(["info", shot, "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["frames"] == "1001-1006" and info["frame_count"] == 6
    assert info["resolution"] == "64x48" and info["channels"] == ["R", "G", "B"]
    assert info["compression"] == "zip" and info["first_window"] == [1003, 1002, 1001, 1002, 1003]


def test_detect_as_subprocess(shot, tmp_path):
    out = tmp_path / "sub out"
    proc = _subprocess("detect", *CLASSICAL, shot, "--out", str(out), "--progress", "json")
    assert proc.returncode == 0, proc.stderr
    last = json.loads(proc.stdout.splitlines()[-1])
    assert last["event"] == "done" and last["detections"] == 1
    assert os.path.isfile(out / "report.json")


def test_missing_pattern_subprocess_exit_code(tmp_path):
    proc = _subprocess("detect", str(tmp_path / "x.####.exr"), "--out", str(tmp_path / "o"))
    assert proc.returncode == 3
    assert "hotpixel: error:" in proc.stderr


def test_help_shows_only_defaults_that_inform(capsys):
    """One formatter for every command; no (default: None) or (default: True)."""
    from hotpixel.cli.main import COMMANDS

    for name in COMMANDS:
        assert main([name, "--help"]) == 0
        text = capsys.readouterr().out
        for noise in ("(default: None)", "(default: True)", "(default: False)", "(default: )"):
            assert noise not in text, (name, noise)
    assert main(["detect", "--help"]) == 0
    assert "(default: bar)" in capsys.readouterr().out
