"""The ``hotpixel sensor`` run: a sequence on disk in, ``sensor/`` and tracks out."""

from __future__ import annotations

import dataclasses
import datetime
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from hotpixel import __version__
from hotpixel.io.canvas import choose_colour, load_frame, scan_geometry
from hotpixel.io.colour import Decoder
from hotpixel.io.exr_writer import MASK_CHANNEL
from hotpixel.io.geometry import Geometry
from hotpixel.io.sequence import FrameSequence, discover, format_ranges, select_frames
from hotpixel.outputs import sensor_results as output
from hotpixel.params import validate
from hotpixel.progress import Progress
from hotpixel.sensor.classify import SensorParams
from hotpixel.sensor.shot import Findings, ShotAnalysis


@dataclass
class SensorJob:
    """One shot-level run's inputs."""

    pattern: str
    out_dir: str
    params: SensorParams = field(default_factory=SensorParams)
    frames: Sequence[int] | None = None
    allow_gaps: bool = False
    colorspace: str = ""  # the plate's encoding ("": from its metadata; docs/colour.md)
    ocio: str = ""  # the OCIO config ("": $OCIO, else the built-in one)


@dataclass
class SensorRun:
    result: dict[str, Any]
    path: str


def run_sensor(job: SensorJob, progress: Progress | None = None) -> SensorRun:
    """Analyse the shot ``job`` names; write and return ``sensor.json``."""
    progress = progress or Progress("none")
    params = validate(job.params)  # ranges declared on SensorParams, as on DetectParams
    seq = discover(job.pattern)
    frames = select_frames(seq, job.frames, job.allow_gaps)
    canvas, _ = scan_geometry(seq, frames)
    colour = choose_colour(seq, frames, job.colorspace, job.ocio)
    decoder = Decoder(colour)
    out = os.path.abspath(job.out_dir)
    output.prepare(out, {os.path.realpath(p) for p in seq.paths.values()})
    analysis = ShotAnalysis(canvas.height, canvas.width, params)
    progress.start(len(frames), label="sensor", frames=format_ranges(frames))
    for f in frames:
        departing = analysis.add(f, load_frame(seq, f, canvas, decoder).rgb)
        progress.step(f, departing=departing, motion=analysis.labels[-1])
    findings = analysis.finish(canvas)
    document = _document(seq, frames, canvas, params, findings)
    document["colour"] = colour.as_dict()
    if colour.warning:
        document["warnings"].append({"code": "colour_assumed", "message": colour.warning})
    seen = [d.pop("seen") for d in document["defects"]]
    path = output.write(out, document, seen, findings.mask, canvas)
    progress.finish(result=path, defects=len(findings.defects), frames=len(frames))
    return SensorRun(document, path)


def _document(
    seq: FrameSequence,
    frames: list[int],
    canvas: Geometry,
    params: SensorParams,
    f: Findings,
) -> dict[str, Any]:
    by_kind: dict[str, int] = {}
    for d in f.defects:
        by_kind[d["kind"]] = by_kind.get(d["kind"], 0) + 1
        d["track"] = output.track_name(d)
    return {
        "schema": output.SCHEMA,
        "schema_version": output.SCHEMA_VERSION,
        "tool": {"name": "hotpixel", "version": __version__},
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "source": {
            "pattern": seq.pattern.display(),
            "frames": format_ranges(frames),
            "first_frame": frames[0],
            "last_frame": frames[-1],
            "frame_count": len(frames),
            "width": canvas.full_width,
            "height": canvas.full_height,
            "geometry": canvas.as_dict(),
        },
        "params": dataclasses.asdict(params),
        "motion": {"evidence_frames": f.evidence_frames, "spans": f.spans},
        "optics": f.optics,
        "warnings": f.warnings,
        "mask": {
            "path": f"{output.FOLDER}/{output.MASK_NAME}",
            "channel": MASK_CHANNEL,
            "content": "binary",
        },
        "summary": {
            "defects": len(f.defects),
            "by_kind": by_kind,
            "candidates": f.candidates_total,
            "oversized_regions": f.oversized_regions,
            "frames_seen_exact": f.frames_seen_exact,
        },
        "defects": f.defects,
        "candidates": f.candidates,
    }
