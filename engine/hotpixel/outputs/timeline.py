"""``report.otio``: the report's hits as markers on an OpenTimelineIO timeline, for the edit.

One timeline, one video track, one clip for the plate: its media reference (an
``ImageSequenceReference`` for a frame sequence, an ``ExternalReference`` for a movie or a
single image), the frames the report covers as its range, at the plate's rate. Each group of
hits (``report.json``'s ``groups``) is a marker over the frames it spans, and each defect of the
shot-level sensor pass one over the frames it was seen in: name = the group's or defect's id,
colour by kind (:data:`KIND_COLOURS`), comment = kind, position and score; the marker's metadata
under ``hotpixel`` holds the same as numbers. An editor imports the file in Resolve or Premiere
(OpenTimelineIO's adapters convert it further) and sees the hits on the timeline.

Frame numbers are times at the rate: frame 1001 at 24 fps is 00:00:41:17. Image sequences
carry no rate of their own; :data:`DEFAULT_RATE` is used and written as the clip's metadata
``hotpixel.rate_assumed``. The format: https://opentimelineio.readthedocs.io/
"""

from __future__ import annotations

import os
import re
from typing import Any

import opentimelineio as otio

from hotpixel.io.atomic import write_text
from hotpixel.outputs.groups import sensor_hit_id

FILE_NAME = "report.otio"
DEFAULT_RATE = 24.0  # frames per second where the plate does not say (image sequences)

# Marker colours are OpenTimelineIO's MarkerColor names, which Resolve and Premiere map to theirs.
KIND_COLOURS = {
    "hot": otio.schema.MarkerColor.RED,
    "dead": otio.schema.MarkerColor.BLUE,
    "stuck": otio.schema.MarkerColor.YELLOW,
    "nonfinite": otio.schema.MarkerColor.MAGENTA,
}
OTHER_COLOUR = otio.schema.MarkerColor.WHITE

_HASHES = re.compile(r"^(?P<prefix>.*?)(?P<hashes>#+|%d)(?P<suffix>[^#]*)$")


def write_timeline(out_dir: str, report: dict[str, Any]) -> str:
    """Write ``out_dir/report.otio`` for ``report`` (atomically); return its path."""
    path = os.path.join(out_dir, FILE_NAME)
    write_text(path, otio.adapters.write_to_string(build_timeline(report), "otio_json") + "\n")
    return path


def build_timeline(report: dict[str, Any]) -> otio.schema.Timeline:
    """The timeline of ``report`` (module docstring). A report without frames has an empty clip."""
    source = report.get("source", {})
    rate = float(source.get("rate") or DEFAULT_RATE)
    first = source.get("first_frame")
    last = source.get("last_frame")
    first, last = (int(first), int(last)) if first is not None and last is not None else (0, -1)
    covered = _range(first, last, rate)
    name = os.path.basename(str(source.get("pattern_given") or source.get("pattern", "plate")))
    clip = otio.schema.Clip(
        name=name,
        media_reference=_media_reference(source, covered, rate),
        source_range=covered,
        metadata={
            "hotpixel": {"rate_assumed": not source.get("rate"), "frames": source.get("frames")}
        },
    )
    for marker in _markers(report, rate):
        clip.markers.append(marker)
    track = otio.schema.Track(name="plate", kind=otio.schema.TrackKind.Video)
    track.append(clip)
    timeline = otio.schema.Timeline(name=f"hotpixel QC: {name}")
    timeline.tracks.append(track)
    timeline.global_start_time = otio.opentime.RationalTime(first, rate)
    return timeline


def _range(first: int, last: int, rate: float) -> otio.opentime.TimeRange:
    """Frames ``first`` to ``last`` inclusive as a time range at ``rate``."""
    return otio.opentime.TimeRange(
        otio.opentime.RationalTime(first, rate), otio.opentime.RationalTime(last - first + 1, rate)
    )


def _media_reference(
    source: dict[str, Any], covered: otio.opentime.TimeRange, rate: float
) -> otio.core.MediaReference:
    """An image-sequence reference for a ``####`` pattern, else a reference to the one file."""
    pattern = str(source.get("pattern", ""))
    directory, base = os.path.split(pattern)
    m = _HASHES.match(base)
    if m is None:
        return otio.schema.ExternalReference(target_url=_file_url(pattern), available_range=covered)
    padding = len(m["hashes"]) if m["hashes"] != "%d" else 0
    return otio.schema.ImageSequenceReference(
        target_url_base=_file_url(directory) + "/",
        name_prefix=m["prefix"],
        name_suffix=m["suffix"],
        start_frame=int(covered.start_time.value),
        rate=rate,
        frame_zero_padding=padding,
        missing_frame_policy=otio.schema.ImageSequenceReference.MissingFramePolicy.hold,
        available_range=covered,
    )


def _file_url(path: str) -> str:
    return otio.url_utils.url_from_filepath(path) if path else ""


def _markers(report: dict[str, Any], rate: float) -> list[otio.schema.Marker]:
    """A marker per group of hits and per sensor defect, in report order."""
    markers = [
        _marker(
            str(g["id"]),
            str(g["kind"]),
            int(g["first_frame"]),
            int(g["last_frame"]),
            rate,
            {"x": g["x"], "y": g["y"], "score": g["score"], "frames": g["frames"]},
            hits=list(g.get("detections", [])),
        )
        for g in report.get("groups") or []
    ]
    sensor = report.get("sensor") or {}
    for d in sensor.get("defects", []):
        if d.get("first_frame") is None:
            continue
        markers.append(
            _marker(
                sensor_hit_id(d),
                str(d["kind"]),
                int(d["first_frame"]),
                int(d["last_frame"]),
                rate,
                {"x": d["x"], "y": d["y"], "score": d["confidence"], "frames": d["frames_seen"]},
            )
        )
    return markers


def _timecode(frame: int, rate: float) -> str:
    """`` (from 00:00:41:20)``, or "" at a rate SMPTE timecode does not have (12.5 fps)."""
    try:
        return f" (from {otio.opentime.to_timecode(otio.opentime.RationalTime(frame, rate), rate)})"
    except ValueError:
        return ""


def _marker(
    name: str,
    kind: str,
    first: int,
    last: int,
    rate: float,
    where: dict[str, Any],
    hits: list[str] | None = None,
) -> otio.schema.Marker:
    """One marker over frames ``first``-``last``; ``where`` holds x, y, score and frames."""
    count = f", {len(hits)} hit(s)" if hits else ""
    comment = (
        f"{kind} at x {float(where['x']):.1f}, y {float(where['y']):.1f} (top-left px), "
        f"score {float(where['score']):.3f}, frames {where['frames']}{_timecode(first, rate)}"
        f"{count}"
    )
    meta = {"kind": kind, **where, **({"detections": hits} if hits else {})}
    return otio.schema.Marker(
        name=name,
        marked_range=_range(first, last, rate),
        color=KIND_COLOURS.get(kind, OTHER_COLOUR),
        comment=comment,
        metadata={"hotpixel": meta},
    )
