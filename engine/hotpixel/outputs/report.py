"""The report: ``report.json`` assembled from an output folder's records, and read back.

Layout of an output folder::

    masks/<name>.hotpixel.<frame>.exr   one mask per frame (channel hotpixel.mask)
    frames/<frame>.json                 per-frame record; its presence marks the frame done
    runs/<fingerprint>.json             the settings a run used (source, detector, parameters)
    report.json                         all detections (schema below, versioned)
    detections.csv                      the same detections, one row each
    report.otio                         the hits as markers on the plate's clip (OpenTimelineIO)
    tracks/<kind>_<frame>_<n>.txt       Nuke Tracker "Time+value Ascii": `frame x y` (Nuke coords)

The records are :mod:`hotpixel.outputs.records`, what decides their reuse
:mod:`hotpixel.outputs.resume`, the CSV and track files :mod:`hotpixel.outputs.tables`, the
timeline :mod:`hotpixel.outputs.timeline`. The report is rebuilt from the records (and the run
record their fingerprint names) under a folder lock: chunks of one shot run as separate
processes into the same folder, in any order, and whichever finishes last leaves a report of
every finished frame; :mod:`hotpixel.outputs.merge` rebuilds it on demand (``hotpixel merge``).
The shot-level sensor pass's findings join the report as its ``sensor`` section.
"""

from __future__ import annotations

import datetime
import json
import os
from collections import Counter
from collections.abc import Sequence
from typing import Any

from hotpixel import __version__
from hotpixel.errors import InputError
from hotpixel.io.atomic import folder_lock, write_text
from hotpixel.io.documents import read_document
from hotpixel.io.sequence import format_ranges
from hotpixel.outputs.groups import assign_ids, group_detections
from hotpixel.outputs.records import read_frame_record, recorded_frames
from hotpixel.outputs.schema import REPORT_SCHEMA, REPORT_VERSION
from hotpixel.outputs.sensor_results import load_sensor_result
from hotpixel.outputs.tables import detections_csv, write_tracks
from hotpixel.outputs.timeline import write_timeline

SCHEMA, SCHEMA_VERSION = REPORT_SCHEMA, REPORT_VERSION


def read_report(out_dir: str) -> dict[str, Any]:
    """``out_dir/report.json``; :class:`InputError` naming the file when it is not a report."""
    path = os.path.join(out_dir, "report.json")
    fix = "pass the --out folder of hotpixel detect"
    return read_document(path, SCHEMA, SCHEMA_VERSION, fix)


def build_report(
    out_dir: str, fp: str, header: dict[str, Any], frames: list[int] | tuple[int, ...] = ()
) -> dict[str, Any]:
    """Assemble ``report.json``, ``detections.csv``, the track files and ``report.otio``.

    The report covers ``frames`` (the run's own; those without a current record are listed
    under ``frames_pending``) plus every other frame in the folder finished with the same
    fingerprint, so chunks of one shot add up to the shot. ``header`` is the run record's
    content (source pattern and geometry, detector, threshold, params, mask).
    """
    with folder_lock(out_dir):
        done = recorded_frames(out_dir)
        shot = sorted(set(frames) | {f for f, r in done.items() if r.get("fingerprint") == fp})
        report = _assemble(out_dir, fp, header, shot, done)
        write_text(os.path.join(out_dir, "report.json"), json.dumps(report, indent=1) + "\n")
        write_text(os.path.join(out_dir, "detections.csv"), detections_csv(report["detections"]))
        write_tracks(os.path.join(out_dir, "tracks"), report["detections"])
        write_timeline(out_dir, report)
    return report


def _assemble(
    out_dir: str,
    fp: str,
    header: dict[str, Any],
    shot: list[int],
    done: dict[int, dict[str, Any]],
) -> dict[str, Any]:
    detections, frame_rows, pending = _gather(out_dir, fp, shot, done)
    assign_ids(detections)
    groups = group_detections(detections)
    detections = [_id_first(d) for d in detections]
    kinds = Counter(d["kind"] for d in detections)
    skip = ("schema", "schema_version", "fingerprint", "warnings", "settings")
    fields = {k: v for k, v in header.items() if k not in skip}
    warnings = [*header.get("warnings", []), *frame_warnings(frame_rows)]
    source = _shot_source(fields.pop("source"), shot)
    return {
        "schema": SCHEMA,
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "hotpixel", "version": __version__},
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "fingerprint": fp,
        "source": source,
        **fields,
        "summary": {
            "frames_processed": len(frame_rows),
            "frames_pending": pending,
            "detections": len(detections),
            "by_kind": dict(sorted(kinds.items())),
            "frames_with_detections": sum(1 for r in frame_rows if r["detections"]),
            "groups": len(groups),
        },
        "warnings": warnings,
        "frames": frame_rows,
        "detections": detections,
        "groups": groups,
        "sensor": sensor_section(out_dir),
    }


def _gather(
    out_dir: str, fp: str, shot: list[int], done: dict[int, dict[str, Any]]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[int]]:
    """The shot's detections, frame rows and pending frames (no current record with ``fp``)."""
    detections: list[dict[str, Any]] = []
    frame_rows: list[dict[str, Any]] = []
    pending: list[int] = []
    for f in shot:
        record = done[f] if f in done else read_frame_record(out_dir, f)
        if record is None or record.get("fingerprint") != fp:
            pending.append(f)
            continue
        detections.extend(dict(d) for d in record["detections"])
        frame_rows.append(_frame_row(f, record))
    return detections, frame_rows, pending


def _shot_source(recorded: dict[str, Any], shot: list[int]) -> dict[str, Any]:
    """The run record's ``source`` with the frames the report covers."""
    source = dict(recorded)
    source.update(
        {
            "frames": format_ranges(shot),
            "first_frame": shot[0] if shot else None,
            "last_frame": shot[-1] if shot else None,
            "frame_count": len(shot),
            "missing_frames": sorted(set(range(shot[0], shot[-1] + 1)) - set(shot)) if shot else [],
        }
    )
    return source


def _id_first(d: dict[str, Any]) -> dict[str, Any]:
    """The detection with ``id`` and ``group`` as its first keys, for people reading the file."""
    return {"id": d["id"], "group": d["group"], **d}


def _frame_row(frame: int, record: dict[str, Any]) -> dict[str, Any]:
    """The report's line for one finished frame; ``size``/``mtime_ns`` of its own file if known."""
    row = {
        "frame": frame,
        "file": record["file"],
        "mask": record["mask"],
        "detections": len(record["detections"]),
        "oversized_regions": record["oversized_regions"],
    }
    if "window" in record:
        row["window"] = record["window"]
    own = [i for i in record.get("inputs", []) if isinstance(i, dict) and i.get("frame") == frame]
    if own:
        row["size"], row["mtime_ns"] = own[0].get("size"), own[0].get("mtime_ns")
    return row


NO_CONTEXT = "no_temporal_context"


def no_context_warning(frames: Sequence[int]) -> dict[str, Any]:
    """The warning for frames judged without neighbours (a single image, a one-frame run)."""
    which = f"frame {frames[0]}" if len(frames) == 1 else f"frames {format_ranges(frames)}"
    return {
        "code": NO_CONTEXT,
        "frames": format_ranges(frames),
        "message": (
            f"{which} had no temporal context (no neighbouring frame to compare with): judged "
            "on spatial evidence only, so real small bright things (glints, lights, stars) are "
            "flagged as defects too and false alerts are far more likely than on a sequence. "
            "For a temporal check, run on the sequence so that the neighbouring frames are read"
        ),
    }


def frame_warnings(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Warnings that follow from the finished frames' records (frames without context)."""
    alone = [int(r["frame"]) for r in rows if r.get("window") and len(set(r["window"])) == 1]
    return [no_context_warning(alone)] if alone else []


def sensor_section(out_dir: str) -> dict[str, Any] | None:
    """The shot-level pass's findings (``hotpixel sensor``) for the report, or None.

    One entry per defective photosite position (dead, stuck, persistent hot), not per frame:
    ``id``, ``kind``, ``x``, ``y``, ``nuke_x``, ``nuke_y``, ``bbox``, ``area``, ``frames_seen``,
    ``seen_count``, ``first_frame``, ``last_frame``, ``confidence``, ``evidence``,
    ``evidence_frames``, ``reason``, ``track``; plus the pass's warnings (e.g. insufficient
    motion).
    """
    result = load_sensor_result(out_dir)
    if result is None:
        return None
    return {
        "file": "sensor/sensor.json",
        "warnings": result.get("warnings", []),
        "defects": [{k: d.get(k) for k in SENSOR_KEYS} for d in result.get("defects", [])],
    }


SENSOR_KEYS = (
    "id",
    "kind",
    "x",
    "y",
    "nuke_x",
    "nuke_y",
    "bbox",
    "area",
    "frames_seen",
    "seen_count",
    "first_frame",
    "last_frame",
    "confidence",
    "evidence",
    "evidence_frames",
    "reason",
    "track",
)


def read_qc_folder(out_dir: str) -> dict[str, Any]:
    """What a QC folder holds, as a report: ``report.json``, or a folder with only a sensor pass.

    A folder that ``hotpixel sensor`` alone wrote into has no ``report.json``; it is read as a
    report with no detections whose ``sensor`` section holds the defects, its ``source``,
    ``colour`` and warnings from ``sensor/sensor.json``, and ``detector.name`` ``sensor``. Such
    a report lives in memory only (the QC page and the review app read it); it is not written.
    Raises :class:`InputError` naming both files when neither is there.
    """
    if os.path.isfile(os.path.join(out_dir, "report.json")):
        return read_report(out_dir)
    result = load_sensor_result(out_dir)
    if result is None:
        raise InputError(
            f"{os.path.join(out_dir, 'report.json')!r} does not exist, and there is no "
            "sensor/sensor.json either; pass the --out folder of hotpixel detect or hotpixel "
            "sensor"
        )
    return _sensor_only(out_dir, result)


def _sensor_only(out_dir: str, result: dict[str, Any]) -> dict[str, Any]:
    source = dict(result.get("source", {}))
    pattern = str(source.get("pattern", ""))
    if pattern and not os.path.isabs(pattern):  # sensor.json keeps the pattern as given
        source["pattern_given"] = pattern
    section = sensor_section(out_dir)
    assert section is not None
    count = len(section["defects"])
    return {
        "schema": SCHEMA,
        "schema_version": SCHEMA_VERSION,
        "tool": result.get("tool", {}),
        "created": result.get("created", ""),
        "fingerprint": "",
        "source": source,
        "detector": {"name": "sensor", "version": "", "model_version": "", "runtime": "CPU"},
        "threshold": None,
        "params": result.get("params", {}),
        "mask": result.get("mask", {}),
        "summary": {
            "frames_processed": int(source.get("frame_count", 0)),
            "frames_pending": [],
            "detections": 0,
            "by_kind": {},
            "frames_with_detections": 0,
            "groups": 0,
            "sensor_defects": count,
        },
        "warnings": [w for w in result.get("warnings", []) if isinstance(w, dict)],
        "frames": [],
        "detections": [],
        "groups": [],
        "sensor": section,
        "colour": result.get("colour", {}),
    }
