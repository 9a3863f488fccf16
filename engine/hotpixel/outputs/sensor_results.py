"""What ``hotpixel sensor`` writes, and how other parts of the engine read it back.

``OUT/sensor/sensor.json`` (schema ``hotpixel-sensor`` version 1), ``OUT/sensor/
sensor.hotpixel.exr`` (one binary ``hotpixel.mask`` for the whole shot) and one Nuke tracker
file per defect, ``OUT/tracks/sensor_<kind>_<id>.txt``. Track names never match the per-frame
detection tracks' pattern (``<kind>_<frame>_<n>.txt``), so neither command deletes the other's.
"""

from __future__ import annotations

import json
import os
import re
from typing import Any

import numpy as np

from hotpixel.errors import OutputError
from hotpixel.io.atomic import ensure_folders, write_text
from hotpixel.io.documents import read_document
from hotpixel.io.exr_writer import MASK_CHANNEL, write_mask
from hotpixel.io.geometry import Geometry
from hotpixel.outputs.schema import SENSOR_SCHEMA, SENSOR_VERSION

SCHEMA, SCHEMA_VERSION = SENSOR_SCHEMA, SENSOR_VERSION
FOLDER = "sensor"
JSON_NAME = "sensor.json"
MASK_NAME = "sensor.hotpixel.exr"
_TRACK = re.compile(r"^sensor_[a-z]+_\d+\.txt$")


def track_name(defect: dict[str, Any]) -> str:
    return f"sensor_{defect['kind']}_{defect['id']}.txt"


def prepare(out_dir: str, inputs: set[str]) -> None:
    """Create ``sensor/`` and ``tracks/``; refuse to overwrite an input frame."""
    ensure_folders(out_dir, (FOLDER, "tracks"))
    mine = {os.path.realpath(os.path.join(out_dir, FOLDER, n)) for n in (JSON_NAME, MASK_NAME)}
    if mine & inputs:
        raise OutputError(
            f"output {sorted(mine & inputs)[0]!r} would overwrite an input frame; pass a "
            "different --out"
        )


def write(
    out_dir: str,
    document: dict[str, Any],
    seen: list[list[int]],
    mask: np.ndarray,
    geometry: Geometry,
) -> str:
    """Write the mask, the tracks, then ``sensor.json`` (last: it says the others are complete).

    ``seen`` holds, per defect of ``document``, the frames its track lists.
    """
    folder = os.path.join(out_dir, FOLDER)
    write_mask(
        os.path.join(folder, MASK_NAME),
        mask,
        geometry,
        {
            "hotpixel:detector": "sensor",
            "hotpixel:content": "binary",
            "hotpixel:source": document["source"]["pattern"],
        },
    )
    tracks = os.path.join(out_dir, "tracks")
    keep = set()
    for defect, frames in zip(document["defects"], seen, strict=True):
        lines = "".join(f"{f} {defect['nuke_x']} {defect['nuke_y']}\n" for f in frames)
        write_text(os.path.join(tracks, defect["track"]), lines)
        keep.add(defect["track"])
    for name in os.listdir(tracks):
        if _TRACK.match(name) and name not in keep:
            os.unlink(os.path.join(tracks, name))
    path = os.path.join(folder, JSON_NAME)
    write_text(path, json.dumps(document, indent=1) + "\n")
    return path


def load_sensor_result(out_dir: str) -> dict[str, Any] | None:
    """``OUT/sensor/sensor.json`` as a dict, or None when ``hotpixel sensor`` never wrote one.

    Raises :class:`InputError` when the file is damaged or has another schema or version.
    """
    path = os.path.join(out_dir, FOLDER, JSON_NAME)
    if not os.path.isfile(path):
        return None
    return read_document(path, SCHEMA, SCHEMA_VERSION, "rerun hotpixel sensor into this folder")


def as_detections(result: dict[str, Any]) -> list[dict[str, Any]]:
    """Sensor defects as per-frame detections of ``report.json`` (one per frame seen).

    Each has the report's fields (``frame``, ``x``, ``y``, ``nuke_x``, ``nuke_y``, ``score``
    = confidence, ``area``, ``kind``, ``bbox``, ``peak_rgb`` = the defect's mean colour) plus
    ``sensor_id``, so a report can list them frame by frame beside the hot pixels.
    """
    from hotpixel.io.sequence import parse_frame_range

    out = []
    for d in result.get("defects", []):
        frames = parse_frame_range(d["frames_seen"]) if d.get("seen_count") else []
        for f in frames:
            out.append(
                {
                    "frame": f,
                    "x": d["x"],
                    "y": d["y"],
                    "nuke_x": d["nuke_x"],
                    "nuke_y": d["nuke_y"],
                    "score": d["confidence"],
                    "area": d["area"],
                    "kind": d["kind"],
                    "bbox": list(d["bbox"]),
                    "peak_rgb": list(d["mean_rgb"]),
                    "sensor_id": d["id"],
                }
            )
    out.sort(key=lambda e: (e["frame"], e["sensor_id"]))
    return out


__all__ = ["MASK_CHANNEL", "SCHEMA", "SCHEMA_VERSION", "as_detections", "load_sensor_result"]
