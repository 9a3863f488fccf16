"""Frame and run records: the files in an output folder that say what is finished, and how.

``frames/<frame>.json`` is one frame's record; its presence (with its mask) marks the frame
done. ``runs/<fingerprint>.json`` keeps the settings a run used (source, detector, parameters),
so the report can be rebuilt from the records alone (:mod:`hotpixel.outputs.merge`). Both are
written atomically.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from typing import Any

from hotpixel.io.atomic import write_text
from hotpixel.outputs.schema import FRAME_SCHEMA, REPORT_VERSION, RUN_SCHEMA, Detection

_RECORD_NAME = re.compile(r"^(-?\d+)\.json$")


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
    window: Sequence[int] = (),
    inputs: list[dict[str, Any]] | None = None,
) -> None:
    """Write one frame's record atomically (after its mask, so a record means a finished frame).

    ``window`` is the frame numbers the detector saw, ``inputs`` the
    :func:`~hotpixel.outputs.resume.input_stamp` of each file they came from; resume compares
    both.
    """
    record = {
        "schema": FRAME_SCHEMA,
        "schema_version": REPORT_VERSION,
        "fingerprint": fp,
        "frame": frame,
        "file": os.path.abspath(source_file),
        "mask": os.path.relpath(mask_file, out_dir),
        "window": list(window),
        "inputs": inputs or [],
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


def recorded_frames(out_dir: str) -> dict[int, dict[str, Any]]:
    """Frame -> record of every finished frame (record present, mask present)."""
    folder = os.path.join(out_dir, "frames")
    try:
        names = os.listdir(folder)
    except OSError:
        return {}
    done: dict[int, dict[str, Any]] = {}
    for name in names:
        m = _RECORD_NAME.match(name)
        if not m:
            continue
        frame = int(m.group(1))
        record = read_frame_record(out_dir, frame)
        if record is None:
            continue
        if os.path.isfile(os.path.join(out_dir, str(record.get("mask", "")))):
            done[frame] = record
    return done


def run_record_path(out_dir: str, fp: str) -> str:
    return os.path.join(out_dir, "runs", f"{fp}.json")


def write_run_record(
    out_dir: str, fp: str, header: dict[str, Any], settings: dict[str, Any] | None = None
) -> None:
    """Keep the settings behind fingerprint ``fp`` so the report can be rebuilt without them;
    ``settings`` are what the fingerprint hashes (:func:`hotpixel.outputs.resume.run_settings`),
    so a rerun can tell what changed."""
    record = {"schema": RUN_SCHEMA, "schema_version": REPORT_VERSION, "fingerprint": fp, **header}
    if settings is not None:
        record["settings"] = settings
    os.makedirs(os.path.join(out_dir, "runs"), exist_ok=True)
    write_text(run_record_path(out_dir, fp), json.dumps(record, indent=1) + "\n")


def read_run_records(out_dir: str) -> list[dict[str, Any]]:
    """Every readable run record in ``out_dir``, oldest first (by modification time)."""
    folder = os.path.join(out_dir, "runs")
    try:
        names = [n for n in os.listdir(folder) if n.endswith(".json") and not n.startswith(".")]
    except OSError:
        return []
    found: list[tuple[float, dict[str, Any]]] = []
    for name in names:
        path = os.path.join(folder, name)
        try:
            with open(path, encoding="utf-8") as fh:
                record = json.load(fh)
            mtime = os.path.getmtime(path)
        except (OSError, ValueError):
            continue
        if isinstance(record, dict) and record.get("schema") == RUN_SCHEMA:
            found.append((mtime, record))
    return [r for _, r in sorted(found, key=lambda item: item[0])]
