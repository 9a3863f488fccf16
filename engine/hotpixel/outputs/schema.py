"""The engine's documents and their schema versions, declared in one place.

Every JSON document the engine writes carries ``schema`` and ``schema_version``; readers refuse
another schema or a newer version (:mod:`hotpixel.io.documents`). The shapes of the documents
are the TypedDicts below; docs/outputs.md describes each field for users. The Nuke plugin keeps
its own copy of the names it reads (``nuke_plugin/hotpixel_nuke/report.py``); a test holds the two
together.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, TypedDict

KINDS = ("hot", "dead", "stuck", "nonfinite")

REPORT_SCHEMA = "hotpixel-report"
FRAME_SCHEMA = "hotpixel-frame"
RUN_SCHEMA = "hotpixel-run"
REPORT_VERSION = 1  # report, frame records and run records share one version
SENSOR_SCHEMA = "hotpixel-sensor"
SENSOR_VERSION = 1
LABELS_SCHEMA = "hotpixel-labels"
LABELS_VERSION = 1
JOB_SCHEMA = "hotpixel-job"
JOB_VERSION = 1


@dataclass(frozen=True)
class Detection:
    """One defect in one frame. Coordinates: top-left display window, pixel centres at +0.5."""

    frame: int
    x: float
    y: float
    nuke_x: float
    nuke_y: float
    score: float
    area: int
    kind: str
    bbox: tuple[int, int, int, int]  # x0, y0, x1, y1 in display pixels, x1/y1 exclusive
    peak_rgb: tuple[float | None, float | None, float | None]

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["bbox"] = list(self.bbox)
        d["peak_rgb"] = list(self.peak_rgb)
        return d


class DetectionRecord(TypedDict, total=False):
    """One item of ``report.json``'s ``detections`` (and of a frame record's)."""

    frame: int
    x: float
    y: float
    nuke_x: float
    nuke_y: float
    score: float
    area: int
    kind: str
    bbox: list[int]
    peak_rgb: list[float | None]
    id: str  # <kind>_<frame>_<n>, as the track file, the QC page's crop and the review label
    group: str  # the group of hits at the same place (g1, g2, ...; outputs/groups.py)
    track: str


class Source(TypedDict, total=False):
    """Where a run's frames came from: the pattern, the image size, the frames covered."""

    pattern: str  # absolute, #### form
    pattern_given: str  # as the user typed it, for display
    width: int  # display window
    height: int
    geometry: dict[str, int]  # data and display windows
    frames: str  # "1001-1010,1012"
    first_frame: int | None
    last_frame: int | None
    frame_count: int
    missing_frames: list[int]


class ReportDocument(TypedDict):
    """``report.json``: every detection of a run, with what produced it (docs/outputs.md)."""

    schema: str
    schema_version: int
    tool: dict[str, str]  # name, version
    created: str  # ISO 8601, UTC
    fingerprint: str  # what the results depend on: params, model, detector
    source: Source
    detector: dict[str, Any]  # name, version, model_version, runtime
    threshold: float
    params: dict[str, Any]
    mask: dict[str, Any]  # channel, content, floor, pattern
    summary: dict[str, Any]  # frames_processed, frames_pending, detections, by_kind, ...
    warnings: list[dict[str, Any]]  # code, message (+ frames or parameter); docs/cli.md#warnings
    frames: list[dict[str, Any]]  # one row per finished frame (+ window, size, mtime_ns)
    detections: list[DetectionRecord]
    groups: list[dict[str, Any]]  # hits at one place across frames (outputs/groups.py)
    sensor: dict[str, Any] | None  # the shot-level pass's findings, when it ran
    colour: dict[str, Any]  # the plate's encoding, how it was chosen, what it was decoded to


class SensorDocument(TypedDict, total=False):
    """``sensor/sensor.json``: the shot-level dead/stuck/persistent pass."""

    schema: str
    schema_version: int
    defects: list[dict[str, Any]]
    warnings: list[str]


__all__ = [
    "FRAME_SCHEMA",
    "JOB_SCHEMA",
    "JOB_VERSION",
    "KINDS",
    "LABELS_SCHEMA",
    "LABELS_VERSION",
    "REPORT_SCHEMA",
    "REPORT_VERSION",
    "RUN_SCHEMA",
    "SENSOR_SCHEMA",
    "SENSOR_VERSION",
    "Detection",
    "DetectionRecord",
    "ReportDocument",
    "SensorDocument",
    "Source",
]
