"""Open Job Description: the shot as a job template with a chunked detect step and a merge step.

Open Job Description (https://github.com/OpenJobDescription/openjd-specifications) is the job
format of AWS Deadline Cloud; ``openjd run`` (``openjd-cli``) runs a template on this machine.
:func:`job_template` writes a ``jobtemplate-2023-09`` document:

- job parameters ``Plate`` and ``Out`` (PATH, so a farm maps them between storage profiles),
  ``Frames`` (the shot's frames, a range expression such as ``1001-1046,1048-1100``),
  ``ChunkSize`` (frames per task) and ``EnginePython`` (the engine's interpreter on the hosts);
- step ``detect``: one task per chunk of ``Frames`` (the ``TASK_CHUNKING`` extension's
  ``CHUNK[INT]`` parameter, contiguous chunks of ``ChunkSize``), each running the one chunk
  command (:func:`hotpixel.farm.job.chunk_args`) on the chunk's range;
- step ``merge``, after every detect task: ``hotpixel merge OUT --expect FRAMES``.

Arguments are passed as a list, never through a shell, so paths with spaces or quotes need no
quoting. A PATH parameter may not default to an absolute path (the specification joins a
default to the template's folder), so ``Plate`` and ``Out`` have none: their values go in
``parameter_values.json`` beside the template, the layout of a Deadline Cloud job bundle that
``deadline bundle submit FOLDER`` reads, and on ``openjd run``'s command line.
:func:`check_template` validates the template with ``openjd-model`` (the ``farm`` extra).
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from typing import Any

from hotpixel.errors import UsageError
from hotpixel.farm.job import FarmJob, chunk_args, make_job_folder, merge_args
from hotpixel.io.atomic import write_text
from hotpixel.run.chunks import frame_spec

SPECIFICATION = "jobtemplate-2023-09"
EXTENSIONS = ("TASK_CHUNKING",)
TEMPLATE = "template.json"
VALUES = "parameter_values.json"
# Each job parameter stands in for one field of the farm job in the commands.
PLATE, OUT, FRAMES, CHUNK, ENGINE = "Plate", "Out", "Frames", "ChunkSize", "EnginePython"
FRAME = "Frame"  # the detect step's task parameter: the chunk's frames, as "1001-1010"


def _param(name: str, scope: str = "Param") -> str:
    """A format-string reference to a parameter: ``{{Param.Plate}}``."""
    return "{{" + scope + "." + name + "}}"


def job_template(job: FarmJob) -> dict[str, Any]:
    """The job template (module docstring) as a dictionary, for ``template.json``."""
    placeholders = dataclasses.replace(
        job, pattern=_param(PLATE), out_dir=_param(OUT), python=_param(ENGINE)
    )
    detect = chunk_args(placeholders, _param(FRAME, "Task.Param"))
    merge = merge_args(placeholders, expect=_param(FRAMES))
    return {
        "specificationVersion": SPECIFICATION,
        "extensions": list(EXTENSIONS),
        "name": job.name,
        "parameterDefinitions": [
            {"name": PLATE, "type": "PATH", "description": "the plate, as for hotpixel detect"},
            {"name": OUT, "type": "PATH", "description": "output folder the hosts can write"},
            {
                "name": FRAMES,
                "type": "STRING",
                "default": frame_spec(job.frames),
                "description": "the frames of the shot (e.g. 1001-1100)",
            },
            {
                "name": CHUNK,
                "type": "INT",
                "default": job.chunk,
                "minValue": 1,
                "description": "frames per detect task",
            },
            {
                "name": ENGINE,
                "type": "STRING",
                "default": job.python,
                "description": "the engine's Python interpreter on the hosts",
            },
        ],
        "steps": [
            {
                "name": "detect",
                "parameterSpace": {
                    "taskParameterDefinitions": [
                        {
                            "name": FRAME,
                            "type": "CHUNK[INT]",
                            "range": _param(FRAMES),
                            "chunks": {
                                "defaultTaskCount": _param(CHUNK),
                                "rangeConstraint": "CONTIGUOUS",
                            },
                        }
                    ]
                },
                "script": _script(detect),
            },
            {
                "name": "merge",
                "dependencies": [{"dependsOn": "detect"}],
                "script": _script(merge),
            },
        ],
    }


def _script(command: list[str]) -> dict[str, Any]:
    return {"actions": {"onRun": {"command": command[0], "args": command[1:]}}}


def parameter_values(job: FarmJob) -> dict[str, Any]:
    """``parameter_values.json`` of a Deadline Cloud job bundle: every parameter's value."""
    values = {
        PLATE: job.pattern,
        OUT: job.out_dir,
        FRAMES: frame_spec(job.frames),
        CHUNK: job.chunk,
        ENGINE: job.python,
    }
    return {"parameterValues": [{"name": k, "value": v} for k, v in values.items()]}


def check_template(template: dict[str, Any], values: dict[str, Any]) -> None:
    """Validate ``template`` and make a job of it with ``values`` (openjd-model), or raise.

    :class:`UsageError` when openjd-model is not installed or the job is not valid.
    """
    try:
        from openjd.model import (
            DecodeValidationError,
            create_job,
            decode_job_template,
            preprocess_job_parameters,
        )
    except ImportError as exc:
        raise UsageError(
            "Open Job Description templates are checked with openjd-model: "
            "pip install 'hotpixel[farm]'"
        ) from exc
    given = {v["name"]: str(v["value"]) for v in values["parameterValues"]}
    try:
        decoded = decode_job_template(template=template, supported_extensions=EXTENSIONS)
        resolved = preprocess_job_parameters(
            job_template=decoded,
            job_parameter_values=given,
            job_template_dir=Path(os.path.abspath(os.sep)),  # as a farm does: paths untouched
            current_working_dir=Path(os.path.abspath(os.sep)),
            allow_job_template_dir_walk_up=True,
        )
        create_job(job_template=decoded, job_parameter_values=resolved)
    except (DecodeValidationError, ValueError) as exc:
        raise UsageError(f"the Open Job Description job is not valid: {exc}") from exc


def write_bundle(job: FarmJob, folder: str) -> list[str]:
    """Check the job, then write ``template.json`` and ``parameter_values.json`` into ``folder``.

    Returns their paths.
    """
    template, values = job_template(job), parameter_values(job)
    check_template(template, values)
    folder = make_job_folder(folder)
    paths = []
    for name, doc in ((TEMPLATE, template), (VALUES, values)):
        path = os.path.join(folder, name)
        write_text(path, json.dumps(doc, indent=1) + "\n")
        paths.append(path)
    return paths


def run_command(job: FarmJob, folder: str) -> list[str]:
    """``openjd run``: the merge step with its dependencies (every detect task) on this machine."""
    template = os.path.join(folder, TEMPLATE)
    values = ["-p", f"{PLATE}={job.pattern}", "-p", f"{OUT}={job.out_dir}"]
    return ["openjd", "run", template, "--step", "merge", "--run-dependencies", *values]


def submit_command(folder: str) -> list[str]:
    """AWS Deadline Cloud's submission of the bundle (the ``deadline`` CLI, ``deadline-cloud``)."""
    return ["deadline", "bundle", "submit", folder]
