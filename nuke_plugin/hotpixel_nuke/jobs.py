"""The job file the plugin hands to the engine (schema ``hotpixel-job`` version 1).

The engine checks the file strictly (unknown keys and other versions are refused), so this
module writes exactly the keys the engine's README documents and nothing else.
"""

import json
import os
import tempfile

from . import frame_ranges
from .errors import PluginError

SCHEMA = "hotpixel-job"
SCHEMA_VERSION = 1
JOB_NAME = "hotpixel_job.json"
# The engine's detection parameters (hotpixel.params.DetectParams), in its order: the
# HotPixelDetect knob names, the job file's ``params`` keys and, with each value's type, the
# detection flags of ``nuke -t hotpixel_farm.py --pattern`` (``motion_tolerance`` is
# ``--motion-tolerance``). The plugin does not import the engine, so it keeps this copy; a test
# checks names and types against the engine's declaration, and that every flag reaches the
# engine's chunk command.
PARAMS = (
    ("threshold", float, "confidence threshold 0..1; default: the detector's own"),
    ("detector", str, "cascade, neural or classical"),
    ("model", str, "ONNX model file (neural detector, or the cascade's classifier)"),
    ("device", str, "auto, cpu or cuda"),
    ("motion_tolerance", int, "pixels a real feature may move between frames (classical)"),
    ("flow_scale", str, "the cascade's optical flow size: auto, 1, 0.5, 0.25 or 0.125"),
    ("max_area", int, "largest region, in pixels, still reported as a pixel defect"),
    ("colorspace", str, "the plate's encoding (OCIO name); default: its metadata"),
    ("ocio", str, "OCIO config; default: $OCIO, else the engine's built-in one"),
    ("part", str, "multi-part EXR part to read, by name; default: the first with R, G, B"),
    ("layer", str, "layer to read: NAME reads NAME.R, NAME.G, NAME.B; default: R, G, B"),
)
PARAM_NAMES = tuple(name for name, _, _ in PARAMS)


def frames_text(frames):
    """The job's ``frames`` text for a :class:`frame_ranges.FrameRange` (None: ``""``, all).

    The engine reads FIRST-LAST only (in a job file and in ``merge --expect``), so a step range
    raises :class:`PluginError` before anything runs (docs/nuke.md, "Step ranges").
    """
    if frames is None:
        return ""
    if frames.step > 1:
        raise PluginError(
            f"frames {frames.spec()}: this engine analyses every frame of a range and cannot "
            f"take a step (x{frames.step}); analyse {frames.first}-{frames.last} (set 'every' "
            "to 1), or update the engine to one that reads step ranges"
        )
    return frames.spec()


def frame_spec(first, last, step=1):
    """``"1001-1100"`` (one frame: ``"1001"``; a step: ``"1001-1100x2"``), checked."""
    return frames_text(frame_ranges.make(first, last, step))


def build_job(pattern, out, frames="", params=None, exclude="", force=False, workers=1):
    """A job dict. ``pattern`` and ``out`` are made absolute; ``params`` keys are checked.

    ``params`` maps names of :data:`PARAM_NAMES` to values; a ``threshold`` of None means the
    detector's own operating point and is left out.
    """
    if not pattern:
        raise PluginError("no plate to analyse: connect a Read node (or any image) to the input")
    if not out:
        raise PluginError("no output folder: set the node's 'output' knob")
    clean = {}
    for name, value in (params or {}).items():
        if name not in PARAM_NAMES:
            raise PluginError(f"unknown detection parameter {name!r}")
        if value is not None:
            clean[name] = value
    if int(workers) < 1:
        raise PluginError(f"workers must be at least 1; got {workers}")
    return {
        "schema": SCHEMA,
        "schema_version": SCHEMA_VERSION,
        "pattern": os.path.abspath(os.path.expanduser(pattern)),
        "out": os.path.abspath(os.path.expanduser(out)),
        "frames": frames,
        "exclude": exclude,
        "params": clean,
        "allow_gaps": False,
        "force": bool(force),
        "with_plate": False,
        "workers": int(workers),
    }


def job_path(out, chunk=None):
    """``OUT/hotpixel_job.json``; a chunk (a FrameRange) gets ``hotpixel_job.A-B.json`` (or
    ``A-BxN``), so chunks running at once into one folder never overwrite each other's job."""
    name = f"hotpixel_job.{chunk.spec()}.json" if chunk else JOB_NAME
    return os.path.join(out, name)


def write_job(job, path=None):
    """Write ``job`` atomically (default :func:`job_path`); return the path."""
    path = path or job_path(job["out"])
    folder = os.path.dirname(path)
    try:
        os.makedirs(folder, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".job-", suffix=".tmp", dir=folder)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(job, fh, indent=2)
            fh.write("\n")
        os.replace(tmp, path)
    except OSError as exc:
        reason = exc.strerror or exc
        raise PluginError(
            f"cannot write the job file {path} ({reason}); choose a writable output folder"
        ) from exc
    return path
