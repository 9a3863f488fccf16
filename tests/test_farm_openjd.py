"""Open Job Description: the template validates with openjd-model, and `openjd run` executes it
here, its chunked detect tasks and merge giving the report of one detect run."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import sys

import numpy as np
import pytest

from hotpixel.cli.main import main
from hotpixel.errors import UsageError
from hotpixel.farm import openjd
from hotpixel.farm.job import plan_job
from hotpixel.run.detect import run_detect
from imagegen import CLASSICAL, classical_job, dark_plate, read_channel, write_sequence

N = 7  # chunks of 3 leave a short last one
OPENJD = os.path.join(os.path.dirname(sys.executable), "openjd")


@pytest.fixture(scope="module")
def shot(tmp_path_factory):
    rng = np.random.default_rng(32)
    frames = [dark_plate(rng, 40, 24) for _ in range(N)]
    for i, (y, x) in {0: (4, 4), 2: (10, 20), 3: (11, 21), 6: (20, 35)}.items():
        frames[i][y, x] = (2.5, 2.5, 2.5)  # across chunk borders and at the shot's ends
    folder = tmp_path_factory.mktemp("openjd") / "it's plates"  # a space and a quote
    return write_sequence(str(folder), frames)


def _report(out: str) -> dict:
    with open(os.path.join(out, "report.json"), encoding="utf-8") as fh:
        report = json.load(fh)
    report.pop("created")
    return report


def _submit(shot: str, out: str, job_dir: str, capsys, *extra: str) -> list[str]:
    args = ["submit", "openjd", shot, "--out", out, "--job-dir", job_dir, "--chunk", "3"]
    assert main([*args, *CLASSICAL, *extra]) == 0
    printed = capsys.readouterr().out.splitlines()
    return shlex.split(printed[printed.index("# on this machine") + 1])


def test_template_has_chunked_detect_then_merge_and_the_parameters(shot, tmp_path, capsys):
    _submit(shot, str(tmp_path / "qc"), str(tmp_path / "bundle"), capsys)
    with open(tmp_path / "bundle" / openjd.TEMPLATE, encoding="utf-8") as fh:
        template = json.load(fh)
    params = {p["name"]: p for p in template["parameterDefinitions"]}
    assert set(params) == {"Plate", "Out", "Frames", "ChunkSize", "EnginePython"}
    assert params["Frames"]["default"] == "1001-1007" and params["ChunkSize"]["default"] == 3
    detect, merge = template["steps"]
    (frame,) = detect["parameterSpace"]["taskParameterDefinitions"]
    assert frame["type"] == "CHUNK[INT]" and frame["range"] == "{{Param.Frames}}"
    assert merge["dependencies"] == [{"dependsOn": "detect"}]
    args = detect["script"]["actions"]["onRun"]["args"]
    assert args[args.index("--frames") + 1] == "{{Task.Param.Frame}}"
    assert args[args.index("--detector") + 1] == "classical"
    merge_args = merge["script"]["actions"]["onRun"]["args"]
    assert merge_args[-2:] == ["--expect", "{{Param.Frames}}"]
    with open(tmp_path / "bundle" / openjd.VALUES, encoding="utf-8") as fh:
        values = {v["name"]: v["value"] for v in json.load(fh)["parameterValues"]}
    assert values["Plate"] == os.path.abspath(shot) and values["ChunkSize"] == 3


def test_a_template_openjd_model_refuses_is_a_usage_error(shot, tmp_path):
    job = plan_job(shot, str(tmp_path / "qc"), chunk=3)
    template = openjd.job_template(job)
    template["steps"][0]["parameterSpace"]["taskParameterDefinitions"][0]["range"] = "{{Param.No}}"
    with pytest.raises(UsageError, match="not valid"):
        openjd.check_template(template, openjd.parameter_values(job))


@pytest.mark.skipif(not shutil.which(OPENJD), reason="openjd-cli (the farm extra) is not installed")
def test_openjd_run_gives_the_report_of_one_detect_run(shot, tmp_path, capfd, monkeypatch):
    single = str(tmp_path / "single")
    run_detect(classical_job(shot, single))  # type: ignore[arg-type]
    out = str(tmp_path / "farm")
    monkeypatch.setenv("PATH", os.path.dirname(OPENJD) + os.pathsep + os.environ["PATH"])
    args = ["submit", "openjd", shot, "--out", out, "--job-dir", str(tmp_path / "bundle")]
    assert main([*args, "--chunk", "3", "--run-here", *CLASSICAL]) == 0
    assert "Chunks run: 4" in capfd.readouterr().out  # 1001-1003, 1004-1006, 1007; merge
    farm, one = _report(out), _report(single)
    assert farm["summary"]["frames_processed"] == N
    assert farm["detections"] == one["detections"] and farm["groups"] == one["groups"]
    assert farm == one
    for name in os.listdir(os.path.join(single, "masks")):
        a, _ = read_channel(os.path.join(single, "masks", name), "hotpixel.mask")
        b, _ = read_channel(os.path.join(out, "masks", name), "hotpixel.mask")
        np.testing.assert_array_equal(a, b, err_msg=name)
