"""Nuke plugin, farm: ``nuke -t hotpixel_farm.py`` runs a HotPixelDetect node of a
saved script (at the top or inside a Group) or a plate pattern over the chunk a farm manager
passes, prints ERROR lines and exits non-zero on failure; chunks plus the merge task add up to
the whole shot; Nuke's step ranges (``1001-1100x2``) are read, and refused while the engine
cannot take them."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from nuke_stub import harness
from nuke_stub.harness import farm, nuke

HOT = {1: [(5, 5)], 3: [(20, 30)], 4: [(10, 50)], 7: [(30, 60)]}  # across the 1004|1005 border


@pytest.fixture(autouse=True)
def session(monkeypatch, tmp_path):
    harness.fresh_session(monkeypatch, tmp_path)


@pytest.fixture
def plate(tmp_path):
    return harness.plate(tmp_path / "it's plates", count=8, hot=HOT)


def _report(out):
    with open(os.path.join(out, "report.json"), encoding="utf-8") as fh:
        return json.load(fh)


def test_pattern_chunks_and_merge_add_up_to_the_shot(plate, tmp_path, capsys):
    out = str(tmp_path / "q c")
    flags = ["--pattern", plate, "--out", out, "--detector", "classical"]
    assert farm.main([*flags, "--frames", "1005-1008"]) == 0  # any order
    assert farm.main([*flags, "--frames", "1001-1004"]) == 0
    assert farm.main(["--merge", "--out", out, "--frames", "1001-1008"]) == 0
    rep = _report(out)
    assert rep["summary"]["frames_pending"] == []
    assert [d["frame"] for d in rep["detections"]] == [1002, 1004, 1005, 1008]
    assert os.path.isfile(os.path.join(out, "hotpixel_job.1001-1004.json"))
    assert "ERROR" not in capsys.readouterr().out


def test_a_range_nuke_strips_from_argv_is_recovered(plate, tmp_path):
    out = str(tmp_path / "qc")
    argv = ["--pattern", plate, "--out", out, "--detector", "classical", "--frames"]
    raw = ["nuke", "-t", "hotpixel_farm.py", *argv, "1001-1002"]
    assert farm.recover_argv(argv, raw) == [*argv, "1001-1002"]
    assert farm.main(argv, raw) == 0
    assert _report(out)["source"]["frames"] == "1001-1002"
    # Nuke's own -F range
    raw = ["nuke", "-F", "1007-1008", "-t", "hotpixel_farm.py", *argv[:-1]]
    assert farm.main(argv[:-1], raw) == 0
    assert _report(out)["source"]["frames"] == "1001-1002, 1007-1008"


def test_a_node_of_a_saved_script_runs_its_chunk(plate, tmp_path):
    out = tmp_path / "qc"
    script = tmp_path / "my comp.nk"
    script.write_text(
        "version 13.2 v8\n"
        f'Root {{\n inputs 0\n name "{script}"\n first_frame 1001\n last_frame 1008\n}}\n'
        f'Read {{\n inputs 0\n file "{plate.replace("####", "%04d")}"\n first 1001\n'
        " last 1008\n name Read1\n}\n"
        f'HotPixelDetect {{\n output "{out}"\n detector classical\n name HotPixelDetect1\n}}\n'
    )
    argv = ["--frames", "1001-1003", "--script", str(script), "--node", "HotPixelDetect1"]
    assert farm.main(argv) == 0
    rep = _report(out)
    assert rep["source"]["frames"] == "1001-1003"
    assert rep["params"]["detector"] == "classical"
    assert [d["frame"] for d in rep["detections"]] == [1002]
    assert not os.path.exists(out / "report.html")  # chunks leave the page to the merge
    assert nuke.toNode("HotPixelDetect1")["mask_pattern"].value() == ""  # farm: files only


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (["--script", "{tmp}/none.nk"], 1, "--script and --node go together"),
        (["--script", "{tmp}/none.nk", "--node", "N"], 1, "cannot open"),
        (["--pattern", "{tmp}/no/shot.####.exr", "--out", "{tmp}/qc"], 3, "no/shot.####.exr"),
        (["--pattern", "p.####.exr", "--out", "{tmp}/qc", "--frames", "9-1"], 1, "empty"),
        (["--pattern", "p.####.exr", "--out", "{tmp}/qc", "--frames", "1-9y2"], 1, "FIRST-LAST"),
        (["--pattern", "p.####.exr", "--out", "{tmp}/qc", "--frames", "1-9x0"], 1, "step 0"),
        (["--pattern", "p.####.exr", "--out", "{tmp}/qc", "--thresold", "1"], 1, "thresold"),
        (["--merge", "--out", "{tmp}/qc", "--frames", "1-2"], 3, "holds no hotpixel run"),
    ],
)
def test_failures_print_error_lines_and_exit_non_zero(tmp_path, capsys, argv, code, message):
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    assert farm.main(argv) == code
    out = capsys.readouterr().out
    assert any(line.startswith("ERROR: ") and message in line for line in out.splitlines()), out


def test_a_missing_engine_fails_with_its_own_code(plate, tmp_path, monkeypatch, capsys):
    monkeypatch.delenv(harness.config.ENV_PYTHON)
    assert farm.main(["--pattern", plate, "--out", str(tmp_path / "qc")]) == 5
    assert "ERROR: the HotPixel engine is not configured" in capsys.readouterr().out


def test_the_entry_script_runs_as_nuke_would_run_it(plate, tmp_path):
    """``nuke -t hotpixel_farm.py ...``: here the stub stands in for Nuke's interpreter."""
    env = {**os.environ, "PYTHONPATH": harness.STUB}
    script = os.path.join(harness.PLUGIN, "hotpixel_farm.py")
    out = str(tmp_path / "qc")
    ok = subprocess.run(
        [sys.executable, script, "--pattern", plate, "--out", out, "--detector", "classical"],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "hotpixel: done: 4 detection(s)" in ok.stdout
    bad = subprocess.run(
        [sys.executable, script, "--pattern", plate, "--out", out, "--frames", "x"],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert bad.returncode == 1 and bad.stdout.startswith("ERROR: ")


def _docs_commands(prefix):
    """Command lines of docs/nuke.md starting with ``prefix`` (joined, no [opts])."""
    text = Path(harness.DOCS).read_text(encoding="utf-8")
    lines = text.replace("\\\n", " ").splitlines()
    found = [re.sub(r"\[[^\]]*\]|#.*$", "", line).strip() for line in lines]
    return [shlex.split(line) for line in found if line.startswith(prefix)]


def test_the_docs_farm_commands_use_real_flags():
    commands = _docs_commands("nuke -t /studio/hotpixel/nuke_plugin/hotpixel_farm.py")
    assert len(commands) == 3
    for words in commands:
        assert words[2].endswith("nuke_plugin/hotpixel_farm.py")
        args = [w.replace("START-END", "1001-1010") for w in words[3:]]
        parsed = farm.build_parser().parse_args(args)
        assert parsed.frames in ("1001-1010", "1001-1100")


# --- behaviours of the real Nuke the plugin must survive -------------------------------------


@pytest.mark.parametrize(
    ("argv", "raw"),
    [
        (["--frames", "1001-1008x2"], None),  # typed
        ([], ["nuke", "-F", "1001-1008x2", "-t", "hotpixel_farm.py"]),  # Nuke's own -F
        (["--frames"], ["nuke", "-t", "hotpixel_farm.py", "--frames", "1001-1008x2"]),  # stripped
    ],
)
def test_a_step_range_is_read_and_refused_with_the_fix(tmp_path, capsys, argv, raw):
    flags = ["--pattern", str(tmp_path / "p.####.exr"), "--out", str(tmp_path / "qc")]
    if raw:
        raw = [*raw[:3], *flags, *raw[3:]] if raw[1] == "-t" else [*raw, *flags]
    assert farm.main([*flags, *argv], raw) == 1
    (line,) = capsys.readouterr().out.splitlines()
    assert line.startswith("ERROR: frames 1001-1008x2: this engine analyses every frame")
    assert "analyse 1001-1008" in line
    assert not os.path.exists(tmp_path / "qc")  # refused before any job file


def test_a_node_inside_a_group_of_a_saved_script_is_found(plate, tmp_path):
    out = tmp_path / "qc"
    script = tmp_path / "comp.nk"
    script.write_text(
        "version 13.2 v8\n"
        f'Root {{\n inputs 0\n name "{script}"\n first_frame 1001\n last_frame 1008\n}}\n'
        "Group {\n inputs 0\n name Comp\n}\n"
        f'Read {{\n inputs 0\n file "{plate.replace("####", "%04d")}"\n first 1001\n'
        " last 1008\n name Read1\n}\n"
        f'HotPixelDetect {{\n output "{out}"\n detector classical\n name HotPixelDetect1\n}}\n'
        "end_group\n"
    )
    argv = ["--frames", "1001-1003", "--script", str(script), "--node", "Comp.HotPixelDetect1"]
    assert farm.main(argv) == 0
    assert _report(out)["source"]["frames"] == "1001-1003"


def test_pattern_mode_passes_the_colour_space_to_the_job(plate, tmp_path):
    """A farm task in pattern mode hands --colorspace/--ocio to the engine's job."""
    out = str(tmp_path / "qc")
    flags = ["--pattern", plate, "--out", out, "--detector", "classical", "--frames", "1001-1002"]
    assert farm.main([*flags, "--colorspace", "ACEScg"]) == 0
    with open(os.path.join(out, "hotpixel_job.1001-1002.json"), encoding="utf-8") as fh:
        job = json.load(fh)
    assert job["params"]["colorspace"] == "ACEScg"
    assert _report(out)["colour"]["chosen_by"] == "flag"
