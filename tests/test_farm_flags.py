"""Every detection parameter reaches both ends of a farm chunk.

The ``nuke -t hotpixel_farm.py --pattern`` parser builds its detection flags from the plugin's
own copy of the parameter list (``jobs.PARAMS``: the plugin must not import the engine); the
engine builds every chunk command, for ``--workers`` and for the farm managers, with one
function (``hotpixel.run.chunks.chunk_command``). These tests hold the copy to the engine's
declaration (``hotpixel.params.DetectParams``) and follow a full flag set from the farm parser
through the job file to the chunk command and back into ``hotpixel detect``'s parser.
"""

from __future__ import annotations

from typing import Any

import pytest

from hotpixel.cli.detect import params_from_args
from hotpixel.cli.main import build_parser
from hotpixel.farm.job import FarmJob, detect_args
from hotpixel.params import DetectParams, param_fields, to_flags, validate
from hotpixel.run.chunks import chunk_command
from hotpixel.run.jobfile import load_job
from nuke_stub import harness
from nuke_stub.harness import farm, jobs


@pytest.fixture(autouse=True)
def session(monkeypatch, tmp_path):
    harness.fresh_session(monkeypatch, tmp_path)


def _flag_type(default: Any) -> type:
    """The type ``hotpixel detect`` parses a parameter's flag as (threshold's None: float)."""
    return float if default is None else type(default)


def _every_param_set() -> DetectParams:
    """Each parameter away from its default, inside its declared choices or range."""
    defaults = DetectParams()
    values: dict[str, Any] = {}
    for f in param_fields():
        default = getattr(defaults, f.name)
        if "choices" in f.metadata:
            values[f.name] = next(c for c in reversed(f.metadata["choices"]) if c != default)
        elif "range" in f.metadata:
            low, high = f.metadata["range"]
            values[f.name] = _flag_type(default)(low + (high - low) / 4)
        else:
            values[f.name] = f"/studio/{f.name} value"  # a space: quoting must survive
    params = validate(DetectParams(**values))
    assert all(getattr(params, n) != getattr(defaults, n) for n in values)
    return params


def _detect_params(command: list[str]) -> DetectParams:
    """The parameters ``hotpixel detect`` reads from a ``python -m hotpixel detect`` command."""
    assert command[1:4] == ["-m", "hotpixel", "detect"]
    return params_from_args(build_parser().parse_args(command[3:]))


def test_the_plugins_parameter_list_is_the_engines():
    defaults = DetectParams()
    engine = [(f.name, _flag_type(getattr(defaults, f.name))) for f in param_fields()]
    assert [(name, kind) for name, kind, _ in jobs.PARAMS] == engine
    assert tuple(name for name, _ in engine) == jobs.PARAM_NAMES
    assert all(text for _, _, text in jobs.PARAMS)  # every farm flag has its help


def test_every_detection_flag_reaches_the_farm_job_and_the_chunk_command(tmp_path, monkeypatch):
    params = _every_param_set()
    flags = to_flags(params)
    assert len(flags) == 2 * len(param_fields())  # every parameter is set, so every flag
    commands: list[list[str]] = []
    monkeypatch.setattr(farm, "_run", lambda cmd, stream: commands.append(cmd) or 0)
    out = tmp_path / "qc"
    argv = ["--pattern", str(tmp_path / "sh010.####.exr"), "--out", str(out), *flags]
    assert farm.main([*argv, "--frames", "1001-1010"]) == 0
    assert commands and "job" in commands[0]
    job = load_job(str(out / "hotpixel_job.1001-1010.json"))  # as the engine reads it
    assert job.params == params
    # --workers on one machine, and a farm manager's task: the same chunk command
    assert _detect_params(chunk_command(job, "1001-1005")) == params
    farm_job = FarmJob(job.pattern, job.out_dir, tuple(range(1001, 1011)), params=params)
    assert _detect_params(detect_args(farm_job, "1001", "1005")) == params


def test_the_farm_parser_leaves_unset_parameters_to_the_engine(tmp_path, monkeypatch):
    monkeypatch.setattr(farm, "_run", lambda cmd, stream: 0)
    out = tmp_path / "qc"
    argv = ["--pattern", str(tmp_path / "sh010.####.exr"), "--out", str(out)]
    assert farm.main([*argv, "--frames", "1001-1002", "--max-area", "9"]) == 0
    assert load_job(str(out / "hotpixel_job.1001-1002.json")).params == DetectParams(max_area=9)
