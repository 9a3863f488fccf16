"""The job file: a versioned JSON description of one detect run, written by the Nuke plugin.

Nuke writes the file and starts ``hotpixel job FILE --progress json`` in the engine's own Python
(never inside Nuke's interpreter). Schema ``hotpixel-job`` version 1::

    {"schema": "hotpixel-job", "schema_version": 1,
     "pattern": "/plates/sh010.####.exr", "out": "/qc/sh010",
     "frames": "1001-1100",            # optional, farm style ranges
     "exclude": "1047",                # optional
     "params": {"threshold": 0.8, ...},  # DetectParams fields; missing ones take defaults
     "allow_gaps": false, "force": false, "with_plate": false, "workers": 1}

Unknown keys are an error (a typo must not be silently ignored); a newer schema version is
refused with the engine version that reads it.
"""

from __future__ import annotations

import json
from typing import Any

from hotpixel import params as params_mod
from hotpixel.errors import SequenceError, UsageError
from hotpixel.io.sequence import parse_frame_range
from hotpixel.outputs.schema import JOB_SCHEMA, JOB_VERSION
from hotpixel.run.job import DetectJob

SCHEMA, SCHEMA_VERSION = JOB_SCHEMA, JOB_VERSION
_KEYS = {
    "schema",
    "schema_version",
    "pattern",
    "out",
    "frames",
    "exclude",
    "params",
    "allow_gaps",
    "force",
    "with_plate",
    "workers",
    "comment",
}


def load_job(path: str) -> DetectJob:
    """Read and check a job file; every problem is a :class:`UsageError` naming the file."""
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except OSError as exc:
        raise UsageError(f"cannot read job file {path!r} ({exc.strerror})") from exc
    except ValueError as exc:
        raise UsageError(f"job file {path!r} is not valid JSON ({exc})") from exc
    return parse_job(data, path)


def parse_job(data: Any, path: str = "<job>") -> DetectJob:
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        raise UsageError(f"{path!r} is not a hotpixel job file (schema {SCHEMA!r} expected)")
    version = data.get("schema_version")
    if version != SCHEMA_VERSION:
        raise UsageError(
            f"job file {path!r} has schema_version {version!r}; this engine reads "
            f"{SCHEMA_VERSION}: update the engine or the plugin so they match"
        )
    unknown = sorted(set(data) - _KEYS)
    if unknown:
        raise UsageError(f"job file {path!r} has unknown key(s) {', '.join(unknown)}")
    for key in ("pattern", "out"):
        if not isinstance(data.get(key), str) or not data[key]:
            raise UsageError(f"job file {path!r} needs {key!r} (a non-empty string)")
    raw_params = data.get("params") or {}
    if not isinstance(raw_params, dict):
        raise UsageError(f"job file {path!r}: 'params' must be an object")
    defaults = params_mod.to_dict(params_mod.DetectParams())
    params = params_mod.validate(params_mod.from_dict({**defaults, **raw_params}))
    workers = data.get("workers", 1)
    if not isinstance(workers, int) or workers < 1:
        raise UsageError(f"job file {path!r}: 'workers' must be a whole number >= 1")
    job = DetectJob(
        pattern=data["pattern"],
        out_dir=data["out"],
        params=params,
        frames=_ranges(data.get("frames"), "frames", path),
        exclude=_ranges(data.get("exclude"), "exclude", path) or (),
        allow_gaps=bool(data.get("allow_gaps", False)),
        force=bool(data.get("force", False)),
        with_plate=bool(data.get("with_plate", False)),
        workers=workers,
    )
    return job


def _ranges(value: Any, key: str, path: str) -> list[int] | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise UsageError(f"job file {path!r}: {key!r} must be a string such as '1001-1100'")
    try:
        return parse_frame_range(value)
    except SequenceError as exc:
        raise UsageError(f"job file {path!r}: {key!r}: {exc}") from exc
