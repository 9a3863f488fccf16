"""Dead, stuck and persistent positions of ``hotpixel sensor``, as ``hotpixel fix`` repairs them.

A position in ``OUT/sensor/sensor.json`` is a defective photosite (or a few adjacent ones): a
property of the sensor, present on every frame the camera recorded, not only on the frames where
it stood out from the picture (its ``frames_seen``). So it is repaired on **every frame the
sensor pass covered** (``source.frames``): repairing it only where it was seen would make the
pixel flicker between repaired and raw values. Its pixels are its ``members`` (pixel centres in
display coordinates), repaired like a hot pixel's, from its clean neighbours.

A reviewer's verdict on a position is keyed by its track stem, ``sensor_<kind>_<id>`` (the name
of its track file without ``.txt``), in the same ``labels.json`` as the per-frame detections.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hotpixel.io.sequence import parse_frame_range
from hotpixel.outputs.sensor_results import JSON_NAME, track_name

SENSOR_FILE = f"sensor/{JSON_NAME}"


@dataclass
class SensorRepair:
    """The sensor positions ``hotpixel fix`` repairs, decided before anything is written.

    ``defects`` are the positions to repair (review verdicts applied); ``frames`` the frames the
    sensor pass covered, on each of which they are repaired; ``skipped`` counts positions left
    alone because of review verdicts, by label.
    """

    defects: list[dict[str, Any]]
    frames: list[int]
    skipped: Counter[str] = field(default_factory=Counter)


def label_id(defect: dict[str, Any]) -> str:
    """The review label key of a sensor position: its track stem, ``sensor_dead_3``."""
    return track_name(defect)[: -len(".txt")]


def covered_frames(result: dict[str, Any]) -> list[int]:
    """The frames the sensor pass analysed (``source.frames``, e.g. ``1001-1100``)."""
    return parse_frame_range(str(result["source"]["frames"]))


def choose_positions(
    result: dict[str, Any], verdict: dict[str, str] | None, used: str
) -> SensorRepair:
    """The positions of ``result`` to repair under ``--verdicts used``.

    ``verdict`` maps label keys to ``accept``/``reject``/``skip`` (None: no labels, or
    ``--verdicts all``). The rule is the one for hot pixels: ``accepted`` repairs only the
    positions a reviewer accepted, ``unrejected`` all but the rejected, ``all`` every one.
    """
    keep: list[dict[str, Any]] = []
    skipped: Counter[str] = Counter()
    for d in result.get("defects", []):
        label = "unlabelled" if verdict is None else verdict.get(label_id(d), "unlabelled")
        if used == "all" or label == "accept" or (used == "unrejected" and label != "reject"):
            keep.append(d)
        else:
            skipped[label] += 1
    return SensorRepair(keep, covered_frames(result), skipped)


def position_pixels(
    defects: list[dict[str, Any]], offset: tuple[int, int], shape: tuple[int, int]
) -> np.ndarray:
    """``(h, w)`` bool over a frame's data window: the member photosites of ``defects``.

    ``offset`` is the data window's origin in display pixels; members are pixel centres in
    display coordinates (``[x + 0.5, y + 0.5]``). A position without ``members`` covers its
    ``bbox``. Members outside the data window are ignored.
    """
    h, w = shape
    out = np.zeros((h, w), bool)
    ox, oy = offset
    for d in defects:
        members = d.get("members")
        if not members:
            x0, y0, x1, y1 = d["bbox"]
            out[max(y0 - oy, 0) : max(y1 - oy, 0), max(x0 - ox, 0) : max(x1 - ox, 0)] = True
            continue
        xy = np.floor(np.asarray(members, np.float64)).astype(np.int64) - (ox, oy)
        inside = (xy[:, 0] >= 0) & (xy[:, 0] < w) & (xy[:, 1] >= 0) & (xy[:, 1] < h)
        out[xy[inside, 1], xy[inside, 0]] = True
    return out
