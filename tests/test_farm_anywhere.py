"""Farm files run from any folder: every path in them is absolute and quoted, a dry run of
either manager writes and sends nothing, and one run reports every problem it finds.

Regressions for the Deadline ``submit.sh`` that named its job files relative to the folder
``submit`` ran in, and for dry runs that stopped at the first problem.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from hotpixel.cli.main import main
from hotpixel.farm import deadline
from hotpixel.farm.job import plan_job
from hotpixel.params import DetectParams
from imagegen import dark_plate, write_sequence

# A stand-in for Thinkbox's deadlinecommand: every file it is given must exist (so a relative
# path, read from another folder, fails), and so must each plugin file's executable and plate
# folder; it lists the files it checked.
STAND_IN = textwrap.dedent(
    """\
    #!{python}
    import os, shlex, sys
    files = [a for a in sys.argv[1:] if not a.startswith("-")]
    bad = [f for f in files if not (os.path.isabs(f) and os.path.isfile(f))]
    for f in files:
        if f.endswith(".plugin") and f not in bad:
            info = dict(l.rstrip("\\n").split("=", 1) for l in open(f) if "=" in l)
            args = shlex.split(info["Arguments"])
            if not os.path.isfile(info["Executable"]):
                bad.append(info["Executable"])
            for a in args[3:4]:  # -m hotpixel detect|merge PATH
                if not (os.path.isabs(a) and os.path.isdir(os.path.dirname(a) or "/")):
                    bad.append(a)
    if bad:
        sys.exit("deadlinecommand: cannot find " + ", ".join(bad))
    with open(os.environ["STAND_IN_LOG"], "w") as log:
        log.write("\\n".join(files))
    """
)


@pytest.fixture(scope="module")
def plate(tmp_path_factory):
    rng = np.random.default_rng(31)
    folder = tmp_path_factory.mktemp("anywhere") / "plates"  # no space: quoted all the same
    return write_sequence(str(folder), [dark_plate(rng, 32, 24) for _ in range(8)])


@pytest.fixture
def deadlinecommand(tmp_path, monkeypatch):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    tool = bin_dir / "deadlinecommand"
    tool.write_text(STAND_IN.format(python=sys.executable))
    tool.chmod(0o755)
    log = tmp_path / "deadlinecommand.log"
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("STAND_IN_LOG", str(log))
    return log


def _relative_submit(plate, tmp_path, monkeypatch, *extra):
    """``submit deadline`` run in ``tmp_path`` with every path given relative to it."""
    monkeypatch.chdir(os.path.dirname(os.path.dirname(plate)))
    pattern = os.path.join("plates", os.path.basename(plate))
    work = os.path.relpath(tmp_path)
    args = ["submit", "deadline", pattern, "--out", os.path.join(work, "qc")]
    return main([*args, "--job-dir", os.path.join(work, "jobs"), *extra])


def test_deadline_submit_script_runs_from_the_root_folder(
    plate, tmp_path, monkeypatch, deadlinecommand
):
    assert _relative_submit(plate, tmp_path, monkeypatch) == 0
    script = str(tmp_path / "jobs" / "submit.sh")
    done = subprocess.run(["sh", script], cwd="/", capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    names = [os.path.basename(f) for f in deadlinecommand.read_text().splitlines()]
    assert names == ["detect.job", "detect.plugin", "merge.job", "merge.plugin"]


def test_deadline_submit_runs_the_stand_in_from_anywhere(
    plate, tmp_path, monkeypatch, deadlinecommand
):
    assert _relative_submit(plate, tmp_path, monkeypatch, "--submit") == 0
    assert len(deadlinecommand.read_text().splitlines()) == 4


def test_every_path_in_the_deadline_arguments_is_absolute_and_quoted(plate, tmp_path):
    job = plan_job(plate, str(tmp_path / "qc"), params=DetectParams(model="models/m.onnx"))
    files = deadline.job_files(job)
    assert f'"{plate}"' in files["detect.plugin"]
    assert f'"{tmp_path / "qc"}"' in files["detect.plugin"]
    assert f'"{tmp_path / "qc"}"' in files["merge.plugin"]
    assert f'"{os.path.abspath("models/m.onnx")}"' in files["detect.plugin"]


def test_a_relative_engine_python_is_made_absolute_and_a_command_name_kept(plate, tmp_path):
    assert plan_job(plate, str(tmp_path), python="venv/bin/python").python == os.path.abspath(
        "venv/bin/python"
    )
    assert plan_job(plate, str(tmp_path), python="python3").python == "python3"


def test_deadline_dry_run_prints_what_would_be_written_and_writes_nothing(plate, tmp_path, capsys):
    jobs = tmp_path / "jobs"
    args = ["submit", "deadline", plate, "--out", str(tmp_path / "qc"), "--job-dir", str(jobs)]
    assert main([*args, "--dry-run"]) == 0
    dry = capsys.readouterr()
    assert not jobs.exists() and not (tmp_path / "qc").exists()
    assert "dry run: nothing written" in dry.err
    assert main(args) == 0
    for name in ("detect.job", "detect.plugin", "merge.job", "merge.plugin", "submit.sh"):
        written = (jobs / name).read_text()
        assert f"==> {jobs / name} <==\n{written}" in dry.out, name


def test_deadline_dry_run_and_submit_exclude_each_other(plate, tmp_path, capsys):
    args = ["submit", "deadline", plate, "--out", str(tmp_path), "--job-dir", str(tmp_path)]
    assert main([*args, "--dry-run", "--submit"]) == 2
    assert "not allowed with" in capsys.readouterr().err


def test_a_deadline_dry_run_reports_every_problem_at_once(tmp_path, capsys):
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("")
    args = ["submit", "deadline", str(tmp_path / "none.####.exr"), "--out", str(tmp_path)]
    args += ["--job-dir", str(not_a_folder), "--chunk", "0", "--priority", "101", "--dry-run"]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "4 problems" in err
    for words in ("--chunk must be at least 1", "no frames match", "is a file", "--priority 101"):
        assert words in err


def test_an_opencue_dry_run_reports_every_problem_at_once(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("SHOW", raising=False)
    monkeypatch.setitem(sys.modules, "outline", None)  # pyoutline not installed
    args = ["submit", "opencue", str(tmp_path / "none.####.exr"), "--out", str(tmp_path)]
    args += ["--user", "root", "--shot", "a b", "--priority", "-1", "--dry-run"]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "6 problems" in err
    for words in ("no OpenCue show", "--shot 'a b'", "--priority -1", "as root", "[farm]"):
        assert words in err
    assert "no frames match" in err


def test_the_opencue_specification_is_indented_with_commands_intact(
    plate, tmp_path, capsys, monkeypatch
):
    pytest.importorskip("outline")
    monkeypatch.setattr(os, "getuid", lambda: 1000)  # an ordinary user, whoever runs the tests
    args = ["submit", "opencue", plate, "--out", str(tmp_path), "--show", "testing"]
    assert main([*args, "--user", "farm-only-artist", "--dry-run"]) == 0
    spec = capsys.readouterr().out
    assert "\n  <show>testing</show>\n" in spec
    cmd = spec.split("<cmd>", 1)[1].split("</cmd>", 1)[0]
    assert shlex.split(cmd)[4] == plate  # python -m hotpixel detect PATTERN
