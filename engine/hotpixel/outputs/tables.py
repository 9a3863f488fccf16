"""The report's detections as files other tools read: ``detections.csv`` and tracker files.

``tracks/<kind>_<frame>_<n>.txt`` holds one detection as Nuke Tracker "Time+value Ascii":
``frame x y`` in Nuke's coordinates (origin bottom-left).
"""

from __future__ import annotations

import csv
import io
import os
import re
from collections import Counter
from typing import Any

from hotpixel.io.atomic import write_text
from hotpixel.outputs.groups import detection_id

CSV_COLUMNS = (
    "id",
    "group",
    "frame",
    "kind",
    "x",
    "y",
    "nuke_x",
    "nuke_y",
    "score",
    "area",
    "bbox_x0",
    "bbox_y0",
    "bbox_x1",
    "bbox_y1",
    "peak_r",
    "peak_g",
    "peak_b",
)
_TRACK_NAME = re.compile(r"^[a-z]+_-?\d+_\d+\.txt$")


def detections_csv(detections: list[dict[str, Any]]) -> str:
    """The text of ``detections.csv``: a header of :data:`CSV_COLUMNS`, one row a detection."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for d in detections:
        r, g, b = (("" if v is None else v) for v in d["peak_rgb"])
        row = [d.get(k, "") for k in CSV_COLUMNS[:10]] + list(d["bbox"]) + [r, g, b]
        writer.writerow(row)
    return buf.getvalue()


def track_name(detection: dict[str, Any], index: int) -> str:
    """``<id>.txt``: the track file of the ``index``-th detection of its kind in its frame."""
    return f"{detection_id(detection, index)}.txt"


def write_tracks(folder: str, detections: list[dict[str, Any]]) -> list[str]:
    """One file per detection, ``frame nuke_x nuke_y`` (Nuke's "Time+value Ascii" import).

    Files from an earlier run that no longer correspond to a detection are removed; other
    files in the folder are left alone.
    """
    os.makedirs(folder, exist_ok=True)
    per_frame: Counter[tuple[str, int]] = Counter()
    written: list[str] = []
    for d in detections:
        key = (d["kind"], d["frame"])
        name = track_name(d, per_frame[key])
        per_frame[key] += 1
        write_text(os.path.join(folder, name), f"{d['frame']} {d['nuke_x']} {d['nuke_y']}\n")
        written.append(name)
    keep = set(written)
    for name in os.listdir(folder):
        if _TRACK_NAME.match(name) and name not in keep:
            os.unlink(os.path.join(folder, name))
    return written
