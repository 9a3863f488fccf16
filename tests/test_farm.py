"""Farm jobs: the OpenCue and Deadline jobs have the right layers, ranges and chunks, and their
chunk commands, run here the way each manager would run them, add up to one run."""

from __future__ import annotations

import json
import os
import pwd
import shlex
import subprocess
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from hotpixel.cli.main import main
from hotpixel.errors import UsageError
from hotpixel.farm import deadline, opencue
from hotpixel.farm.job import plan_job, task_ranges
from hotpixel.run.detect import run_detect
from hotpixel.run.job import DetectJob
from imagegen import dark_plate, read_channel, write_sequence

N = 23  # 1001-1023: chunks of 10 leave a short last one


@pytest.fixture(scope="module")
def shot(tmp_path_factory):
    rng = np.random.default_rng(8)
    frames = [dark_plate(rng, 64, 40) for _ in range(N)]
    for i, (y, x) in {0: (5, 5), 9: (20, 30), 10: (21, 31), 22: (30, 60)}.items():
        frames[i][y, x] = (2.5, 2.5, 2.5)  # across chunk borders and at the shot's ends
    folder = tmp_path_factory.mktemp("farm") / "it's plates"  # a space and a quote
    return write_sequence(str(folder), frames)


@pytest.fixture(scope="module")
def single(shot, tmp_path_factory):
    out = str(tmp_path_factory.mktemp("single"))
    run_detect(DetectJob(shot, out))
    return out


def _detections(out):
    with open(os.path.join(out, "report.json"), encoding="utf-8") as fh:
        report = json.load(fh)
    assert report["summary"]["frames_processed"] == N
    return report["detections"]


def _same_as_single(out, single):
    assert _detections(out) == _detections(single)
    for name in os.listdir(os.path.join(single, "masks")):
        a, _ = read_channel(os.path.join(single, "masks", name), "hotpixel.mask")
        b, _ = read_channel(os.path.join(out, "masks", name), "hotpixel.mask")
        np.testing.assert_array_equal(a, b, err_msg=name)


@pytest.fixture
def artist(monkeypatch):
    """Submit as an ordinary user (uid 1000) whoever runs the tests: cuebot refuses root."""

    def getpwnam(name):
        if name != "artist":
            raise KeyError(name)
        return pwd.struct_passwd((name, "x", 1000, 1000, "", "/", "/bin/sh"))

    monkeypatch.setattr(os, "getuid", lambda: 1000)
    monkeypatch.setattr(pwd, "getpwnam", getpwnam)


def _spec(shot, out, capsys, *extra):
    args = ["submit", "opencue", shot, "--out", out, "--chunk", "10", "--dry-run"]
    assert main([*args, "--show", "testing", "--user", "artist", *extra]) == 0
    return ET.fromstring(capsys.readouterr().out.split("?>", 1)[1])


def test_opencue_job_layers_ranges_and_dependency(shot, tmp_path, capsys, artist):
    spec = _spec(shot, str(tmp_path / "qc"), capsys, "--show", "film", "--name", "sh010_qc")
    assert spec.findtext("show") == "film"
    job = spec.find("job")
    assert job is not None and job.get("name") == "sh010_qc"
    layers = {layer.get("name"): layer for layer in job.iter("layer")}
    assert list(layers) == ["detect", "merge"]
    assert layers["detect"].findtext("range") == "1001-1023"
    assert layers["detect"].findtext("chunk") == "10"
    assert layers["merge"].findtext("range") == "1001"
    assert layers["merge"].findtext("chunk") == "1"
    depend = spec.find("depends/depend")
    assert depend is not None and depend.get("type") == "LAYER_ON_LAYER"
    assert (depend.findtext("deplayer"), depend.findtext("onlayer")) == ("merge", "detect")
    cmd = shlex.split(layers["detect"].findtext("cmd") or "")
    assert cmd[cmd.index("--frames") + 1] == "#FRAME_START#-#FRAME_END#"
    assert cmd[cmd.index("detect") + 1] == shot  # the path with a space and a quote, intact
    merge = shlex.split(layers["merge"].findtext("cmd") or "")
    assert merge[-2:] == ["--expect", "1001-1023"]


def test_opencue_chunk_commands_compose_to_one_run(shot, single, tmp_path, capsys, artist):
    out = str(tmp_path / "cue out")
    spec = _spec(shot, out, capsys)
    layers = {layer.get("name"): layer for layer in spec.iter("layer")}
    detect, merge = layers["detect"], layers["merge"]
    first, last = (int(v) for v in (detect.findtext("range") or "").split("-"))
    tasks = task_ranges(first, last, int(detect.findtext("chunk") or 0))
    assert tasks == [(1001, 1010), (1011, 1020), (1021, 1023)]

    def run(cmd: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["bash", "-c", cmd], capture_output=True, text=True, check=False)

    # the merge task refuses to report a shot whose chunks have not all run
    early = run(merge.findtext("cmd") or "")
    assert early.returncode == 3 and "no hotpixel run" in early.stderr
    for start, end in reversed(tasks):  # as cuebot would: tokens replaced, any order
        cmd = (detect.findtext("cmd") or "").replace("#FRAME_START#", str(start))
        done = run(cmd.replace("#FRAME_END#", str(end)))
        assert done.returncode == 0, done.stderr
        if (start, end) == tasks[-1]:
            partial = run(merge.findtext("cmd") or "")
            assert partial.returncode == 3 and "frames 1001-1020" in partial.stderr
    done = run(merge.findtext("cmd") or "")
    assert done.returncode == 0, done.stderr
    _same_as_single(out, single)


def test_deadline_job_files_compose_to_one_run(shot, single, tmp_path):
    out, jobs = str(tmp_path / "dl out"), str(tmp_path / "jobs")
    assert main(["submit", "deadline", shot, "--out", out, "--job-dir", jobs, "--chunk", "7"]) == 0

    def info(name: str) -> dict[str, str]:
        with open(os.path.join(jobs, name), encoding="utf-8") as fh:
            return dict(line.rstrip("\n").split("=", 1) for line in fh if "=" in line)

    detect_job, merge_job = info("detect.job"), info("merge.job")
    assert detect_job["Plugin"] == merge_job["Plugin"] == "CommandLine"
    assert (detect_job["Frames"], detect_job["ChunkSize"]) == ("1001-1023", "7")
    assert (merge_job["Frames"], merge_job["ChunkSize"]) == ("1001", "1")
    script = (tmp_path / "jobs" / "submit.sh").read_text()
    assert "-SubmitMultipleJobs -dependent" in script
    assert script.index("detect.job") < script.index("merge.job")  # merge depends on detect

    def run(plugin: dict[str, str], start: int = 0, end: int = 0) -> int:
        args = plugin["Arguments"].replace("<STARTFRAME>", str(start))
        args = args.replace("<ENDFRAME>", str(end))
        cmd = [plugin["Executable"], *shlex.split(args)]
        return subprocess.run(cmd, capture_output=True, check=False).returncode

    tasks = task_ranges(1001, 1023, 7)
    assert tasks[-1] == (1022, 1023)
    for start, end in tasks[1::2] + tasks[0::2]:  # out of order
        assert run(info("detect.plugin"), start, end) == 0
    assert run(info("merge.plugin")) == 0
    _same_as_single(out, single)


def test_farm_job_carries_left_out_frames_and_parameters(shot, tmp_path):
    job = plan_job(shot, str(tmp_path / "o"), exclude=[1012], chunk=5)
    assert job.exclude == (1012,)
    assert 1012 not in job.frames and len(job.frames) == N - 1
    files = deadline.job_files(job)
    assert "--exclude 1012" in files["detect.plugin"]
    assert "--expect 1001-1011,1013-1023" in files["merge.plugin"]


def test_a_double_quote_in_a_path_is_refused_for_deadline():
    with pytest.raises(UsageError, match="double quote"):
        deadline.quote_arguments(['/plates/a"b/shot.####.exr'])


def test_bad_chunk_size_is_a_usage_error(shot, tmp_path, capsys):
    args = ["submit", "deadline", shot, "--out", str(tmp_path), "--job-dir", str(tmp_path)]
    assert main([*args, "--chunk", "0"]) == 2
    assert "--chunk must be at least 1" in capsys.readouterr().err


def test_missing_pyoutline_says_how_to_install(shot, tmp_path, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "outline", None)
    job = plan_job(shot, str(tmp_path / "o"))
    with pytest.raises(UsageError, match=r"hotpixel\[farm\]"):
        opencue.job_spec(job, opencue.Submitter("testing", "sh010", "artist", 1000))
