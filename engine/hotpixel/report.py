"""The run's results on disk: per-frame records, ``report.json``, ``detections.csv``, tracks.

Layout of an output folder::

    masks/<name>.hotpixel.<frame>.exr   one mask per frame (channel hotpixel.mask)
    frames/<frame>.json                 per-frame record; its presence marks the frame done
    report.json                         all detections (schema below, versioned)
    detections.csv                      the same detections, one row each
    tracks/<kind>_<frame>_<n>.txt       Nuke Tracker "Time+value Ascii": `frame x y` (Nuke coords)

Per-frame records carry a fingerprint of the source and the parameters, so a rerun resumes only
where the fingerprint matches, and the report can be rebuilt from records at any time (chunks).
"""

from __future__ import annotations

import csv
import datetime
import hashlib
import io
import json
import os
import re
from collections import Counter
from typing import Any

from . import __version__
from .atomic import write_text
from .components import Detection

SCHEMA = "hotpixel-report"
SCHEMA_VERSION = 1
FRAME_SCHEMA = "hotpixel-frame"
CSV_COLUMNS = (
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


def fingerprint(source: str, detector: dict[str, str], params: dict[str, Any]) -> str:
    """A short hash of what determines a frame's result (the device is left out)."""
    settings = {k: v for k, v in params.items() if k != "device"}
    blob = json.dumps([source, detector, settings], sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def frame_record_path(out_dir: str, frame: int) -> str:
    return os.path.join(out_dir, "frames", f"{frame}.json")


def write_frame_record(
    out_dir: str,
    frame: int,
    source_file: str,
    mask_file: str,
    fp: str,
    detections: list[Detection],
    oversized_regions: int,
) -> None:
    """Write one frame's record atomically (after its mask, so a record means a finished frame)."""
    record = {
        "schema": FRAME_SCHEMA,
        "schema_version": SCHEMA_VERSION,
        "fingerprint": fp,
        "frame": frame,
        "file": source_file,
        "mask": os.path.relpath(mask_file, out_dir),
        "oversized_regions": oversized_regions,
        "detections": [d.as_dict() for d in detections],
    }
    write_text(frame_record_path(out_dir, frame), json.dumps(record, indent=1) + "\n")


def read_frame_record(out_dir: str, frame: int) -> dict[str, Any] | None:
    """The record of ``frame``, or None when absent or unreadable (then the frame is redone)."""
    try:
        with open(frame_record_path(out_dir, frame), encoding="utf-8") as fh:
            record = json.load(fh)
    except (OSError, ValueError):
        return None
    if not isinstance(record, dict) or record.get("schema") != FRAME_SCHEMA:
        return None
    return record


def is_done(out_dir: str, frame: int, fp: str) -> bool:
    """True when ``frame`` has a record with fingerprint ``fp`` and its mask exists."""
    record = read_frame_record(out_dir, frame)
    if record is None or record.get("fingerprint") != fp:
        return False
    return os.path.isfile(os.path.join(out_dir, str(record.get("mask", ""))))


def build_report(
    out_dir: str, frames: list[int], fp: str, header: dict[str, Any]
) -> dict[str, Any]:
    """Assemble ``report.json``, ``detections.csv`` and the track files from frame records.

    ``frames`` are the frames of the shot whose records are gathered (missing or stale records
    are listed under ``frames_pending``). ``header`` holds source/detector/params fields.
    """
    detections: list[dict[str, Any]] = []
    frame_rows: list[dict[str, Any]] = []
    pending: list[int] = []
    for f in frames:
        record = read_frame_record(out_dir, f)
        if record is None or record.get("fingerprint") != fp:
            pending.append(f)
            continue
        detections.extend(record["detections"])
        frame_rows.append(
            {
                "frame": f,
                "file": record["file"],
                "mask": record["mask"],
                "detections": len(record["detections"]),
                "oversized_regions": record["oversized_regions"],
            }
        )
    kinds = Counter(d["kind"] for d in detections)
    report = {
        "schema": SCHEMA,
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "hotpixel", "version": __version__},
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        **header,
        "summary": {
            "frames_processed": len(frame_rows),
            "frames_pending": pending,
            "detections": len(detections),
            "by_kind": dict(sorted(kinds.items())),
            "frames_with_detections": sum(1 for r in frame_rows if r["detections"]),
        },
        "frames": frame_rows,
        "detections": detections,
    }
    write_text(os.path.join(out_dir, "report.json"), json.dumps(report, indent=1) + "\n")
    write_text(os.path.join(out_dir, "detections.csv"), _csv(detections))
    write_tracks(os.path.join(out_dir, "tracks"), detections)
    return report


def _csv(detections: list[dict[str, Any]]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for d in detections:
        r, g, b = (("" if v is None else v) for v in d["peak_rgb"])
        row = [d[k] for k in CSV_COLUMNS[:8]] + list(d["bbox"]) + [r, g, b]
        writer.writerow(row)
    return buf.getvalue()


def track_name(detection: dict[str, Any], index: int) -> str:
    return f"{detection['kind']}_{detection['frame']}_{index}.txt"


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
