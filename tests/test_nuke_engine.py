"""Nuke plugin, engine side: the job file (frame ranges as Nuke writes them) and
the real engine as a subprocess, with paths holding spaces and quotes, progress in a
ProgressTask, cancel, resume, errors."""

from __future__ import annotations

import json
import os
import sys

import pytest

from nuke_stub import harness
from nuke_stub.harness import config, engine_process, errors, frame_ranges, jobs, nuke, progress


@pytest.fixture(autouse=True)
def session(monkeypatch, tmp_path):
    harness.fresh_session(monkeypatch, tmp_path)


def _job(pattern, out, **kwargs):
    job = jobs.build_job(pattern, str(out), params=harness.CLASSICAL, **kwargs)
    return jobs.write_job(job)


def _cmd(job_path):
    return config.engine_command("job", job_path, "--progress", "json", "--no-html")


def test_job_with_spaces_and_quotes_runs_the_real_engine(tmp_path):
    pattern = harness.plate(tmp_path / 'it\'s a "plate"', hot={2: [(10, 20)]})
    out = tmp_path / "q c's out"
    job_path = _job(pattern, out, frames="1001-1006")
    with open(job_path, encoding="utf-8") as fh:
        job = json.load(fh)
    assert job["schema"] == "hotpixel-job" and job["schema_version"] == 1
    assert job["pattern"] == pattern and job["params"] == {"detector": "classical"}
    shown = progress.TaskProgress("test")
    result = engine_process.run(_cmd(job_path), shown, shown.is_cancelled).check()
    assert result.ok and result.frames_done == list(range(1001, 1007))
    assert [e["event"] for e in result.events] == ["start"] + ["frame"] * 6 + ["done"]
    assert shown.task.progress[-1] == 100
    assert any("frame 1006 (6/6" in m for m in shown.task.messages)
    rep = harness.report.load(result.report_path)
    (hit,) = rep["detections"]
    assert (hit["frame"], hit["nuke_x"], hit["nuke_y"]) == (1003, 20.5, 48 - 10.5)
    assert harness.report.mask_pattern(rep) == str(out / "masks" / "shot.hotpixel.####.exr")


class CancelAfterFirstFrame(nuke.ProgressTask):
    """The user presses Cancel as soon as the first frame is reported."""

    def isCancelled(self):
        return bool(self.progress)


def test_cancel_stops_the_engine_keeps_finished_frames_and_a_rerun_resumes(tmp_path):
    # frames big enough that the engine cannot finish the shot inside one 0.1 s cancel poll
    pattern = harness.plate(tmp_path / "plate", count=30, size=(960, 540))
    job_path = _job(pattern, tmp_path / "qc")
    nuke.ProgressTask = CancelAfterFirstFrame
    shown = progress.TaskProgress("cancel me")
    result = engine_process.run(_cmd(job_path), shown, shown.is_cancelled, grace=20)
    assert result.cancelled and result.exit_code == 130
    done = result.frames_done
    assert 1 <= len(done) < 30
    masks = tmp_path / "qc" / "masks"
    for frame in done:
        assert (masks / f"shot.hotpixel.{frame}.exr").is_file()
    result.check()  # a cancel is not a failure

    nuke.ProgressTask = harness.nuke._DefaultProgressTask
    again = engine_process.run(_cmd(job_path), progress.TaskProgress("resume")).check()
    start = again.events[0]
    assert start["event"] == "start" and start["skipped"] >= len(done)
    assert start["skipped"] + start["total"] == 30
    assert not set(again.frames_done) & set(done)


def test_engine_failure_carries_its_exit_code_and_message(tmp_path):
    job_path = _job(str(tmp_path / "nothing" / "shot.####.exr"), tmp_path / "qc")
    result = engine_process.run(_cmd(job_path))
    assert result.exit_code == 3 and "shot.####.exr" in result.error
    with pytest.raises(errors.EngineFailed) as info:
        result.check()
    assert info.value.exit_code == 3


def test_missing_engine_says_how_to_install(monkeypatch, tmp_path):
    monkeypatch.delenv(config.ENV_PYTHON)
    with pytest.raises(errors.EngineNotFound, match=r"install/install\.py"):
        config.engine_python()
    user = tmp_path / "home" / ".nuke" / config.CONFIG_NAME
    user.parent.mkdir(parents=True)
    user.write_text(json.dumps({"engine_python": str(tmp_path / "gone" / "python")}))
    with pytest.raises(errors.EngineNotFound, match=r"does not exist.*install/install\.py") as info:
        config.engine_python()
    assert str(user) in str(info.value)
    user.write_text(json.dumps({"engine_python": sys.executable}))
    assert config.engine_command("info", "x") == [sys.executable, "-m", "hotpixel", "info", "x"]


def test_engine_command_is_never_a_shell_string():
    with pytest.raises(TypeError):
        engine_process.run("hotpixel job x.json")


def test_a_line_that_is_not_json_becomes_a_message():
    assert engine_process.parse_event("warning: odd\n") == {
        "event": "message",
        "text": "warning: odd",
    }
    assert engine_process.parse_event('{"event": "frame", "frame": 3}')["frame"] == 3


def test_job_checks_its_inputs(tmp_path):
    with pytest.raises(errors.PluginError, match="unknown detection parameter 'thresold'"):
        jobs.build_job("a.####.exr", str(tmp_path), params={"thresold": 0.5})
    with pytest.raises(errors.PluginError, match="empty"):
        jobs.frame_spec(1010, 1001)
    job = jobs.build_job("a.####.exr", str(tmp_path), params={"threshold": None})
    assert job["params"] == {} and os.path.isabs(job["pattern"])
    chunk = frame_ranges.make(1001, 1010)
    assert jobs.job_path("/qc", chunk) == os.path.join("/qc", "hotpixel_job.1001-1010.json")


@pytest.mark.parametrize(
    ("text", "frames", "spec"),
    [
        ("1001-1010x3", [1001, 1004, 1007, 1010], "1001-1010x3"),
        ("1001-1008x2", [1001, 1003, 1005, 1007], "1001-1008x2"),
        (" 1001-1003 ", [1001, 1002, 1003], "1001-1003"),
        ("1005", [1005], "1005"),
        ("-5-5x5", [-5, 0, 5], "-5-5x5"),
        ("1001-1001x4", [1001], "1001"),
    ],
)
def test_frame_ranges_read_nukes_step_syntax(text, frames, spec):
    rng = frame_ranges.parse(text)
    assert rng.frames() == frames and rng.spec() == spec
    assert list(nuke.FrameRange(text.strip())) == frames  # as Nuke reads it


def test_frame_ranges_refuse_what_nuke_would_not_read():
    for text, message in (
        ("1010-1001", "empty"),
        ("1001-1100x0", "step 0"),
        ("1001-1100x", "FIRST-LASTxSTEP"),
        ("1001:1100", "not understood"),
    ):
        with pytest.raises(errors.PluginError, match=message):
            frame_ranges.parse(text)  # fmt: skip


def test_a_farm_chunk_takes_the_nodes_step_counted_from_its_first_frame():
    whole = frame_ranges.parse("1001-1100x2")
    assert frame_ranges.within(frame_ranges.parse("1002-1010"), whole).frames() == [
        1003, 1005, 1007, 1009
    ]  # fmt: skip
    assert frame_ranges.within(frame_ranges.parse("1011-1020x5"), whole).step == 5  # its own
    with pytest.raises(errors.PluginError, match="hold no frame"):
        frame_ranges.within(frame_ranges.parse("1002"), whole)


def test_the_job_file_refuses_a_step():
    with pytest.raises(errors.PluginError, match=r"cannot take a step \(x2\).*1001-1100"):
        jobs.frame_spec(1001, 1100, 2)
    assert jobs.frame_spec(1001, 1100) == "1001-1100"


def test_frames_seen_in_a_report_may_hold_steps():
    assert harness.report.frame_list("1001-1003, 1007, 1011-1015x2") == [
        1001, 1002, 1003, 1007, 1011, 1013, 1015
    ]  # fmt: skip
    assert harness.report.frame_list("") == harness.report.frame_list("none") == []
    with pytest.raises(errors.PluginError, match="not understood"):
        harness.report.frame_list("1001;1003")


def test_engine_warnings_reach_the_progress_and_the_node_status(tmp_path):
    """The engine's warnings (here: one frame, no temporal context) are shown while the engine
    runs and stay in the node's status line afterwards."""
    pattern = harness.plate(tmp_path / "plate", count=1)
    job_path = _job(pattern, tmp_path / "qc")
    shown = progress.TaskProgress("test")
    result = engine_process.run(_cmd(job_path), shown, shown.is_cancelled).check()
    assert "warning" in [e["event"] for e in result.events]
    assert any(m.startswith("warning: ") for m in shown.task.messages)
    status = harness.report.summary_text(harness.report.load(result.report_path))
    assert "; warning: " in status and "temporal" in status
