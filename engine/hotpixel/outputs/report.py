"""The run's results on disk: per-frame records, ``report.json``, ``detections.csv``, tracks.

Layout of an output folder::

    masks/<name>.hotpixel.<frame>.exr   one mask per frame (channel hotpixel.mask)
    frames/<frame>.json                 per-frame record; its presence marks the frame done
    runs/<fingerprint>.json             the settings a run used (source, detector, parameters)
    report.json                         all detections (schema below, versioned)
    detections.csv                      the same detections, one row each
    tracks/<kind>_<frame>_<n>.txt       Nuke Tracker "Time+value Ascii": `frame x y` (Nuke coords)

Per-frame records carry a fingerprint of the source and the parameters, the frame numbers of the
window the frame was judged with, and a stamp (absolute path, size, modification time) of every
file that window read. A rerun resumes a frame only when all of these still match
(:func:`resume_check`); otherwise the frame is recomputed and the run says why. The report is
rebuilt from the records (and the run record their fingerprint names) under a folder lock:
chunks of one shot run as separate processes into the same folder, in any order, and whichever
finishes last leaves a report of every finished frame; :func:`merge_report` rebuilds it on
demand (``hotpixel merge``).
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
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from hotpixel import __version__
from hotpixel.errors import FrameReadError, InputError
from hotpixel.io.atomic import folder_lock, write_text
from hotpixel.io.documents import read_document
from hotpixel.io.sequence import format_ranges
from hotpixel.outputs.groups import assign_ids, detection_id, group_detections
from hotpixel.outputs.schema import (
    FRAME_SCHEMA,
    REPORT_SCHEMA,
    REPORT_VERSION,
    RUN_SCHEMA,
    Detection,
)
from hotpixel.outputs.sensor_results import load_sensor_result

SCHEMA, SCHEMA_VERSION = REPORT_SCHEMA, REPORT_VERSION
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
_RECORD_NAME = re.compile(r"^(-?\d+)\.json$")


def fingerprint(source: str, detector: dict[str, str], params: dict[str, Any]) -> str:
    """A short hash of what determines a frame's result (the device is left out)."""
    settings = {k: v for k, v in params.items() if k != "device"}
    blob = json.dumps([source, detector, settings], sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def input_stamp(frame: int, path: str) -> dict[str, Any]:
    """What resume compares of one input file: ``frame``, absolute ``path``, ``size``, ``mtime_ns``.

    Size and modification time, not a content hash: hashing would read every byte of every
    plate frame again on each rerun, which costs about as much as decoding it, while a
    re-rendered or re-delivered frame gets a new modification time. A different file copied in
    with its old size and time preserved (``cp -p``, ``rsync -t``) is not noticed; ``--force``
    redoes everything.
    """
    try:
        st = os.stat(path)
    except OSError as exc:
        raise FrameReadError(
            f"frame {frame}: {path!r} cannot be read ({exc.strerror}); restore the file or "
            "leave it out with --exclude",
            path,
            frame,
        ) from exc
    return {
        "frame": frame,
        "path": os.path.abspath(path),
        "size": st.st_size,
        "mtime_ns": st.st_mtime_ns,
    }


# why a frame is computed again although it has a record (see resume_check)
OTHER_SETTINGS = "made with other settings"
MASK_MISSING = "its mask is missing"
WINDOW_CHANGED = "its temporal window changed"
NOT_STAMPED = "its record predates input checks"
INPUT_CHANGED = "an input frame changed"


@dataclass(frozen=True)
class Stale:
    """Why a frame's record cannot be reused: ``reason``, and for INPUT_CHANGED the frames."""

    reason: str
    changed: tuple[int, ...] = ()


def resume_check(
    out_dir: str, frame: int, fp: str, window: Sequence[int], inputs: list[dict[str, Any]]
) -> Stale | None:
    """None when ``frame``'s record can be reused; else why it must be computed again.

    Reusable means: same fingerprint, mask present, the same ``window`` (frame numbers as
    read, after mirroring and ``--exclude``), and every input file's stamp
    (:func:`input_stamp`) unchanged. A frame without a record gives ``Stale("")``: new work,
    not a recompute.
    """
    record = read_frame_record(out_dir, frame)
    if record is None:
        return Stale("")
    if record.get("fingerprint") != fp:
        return Stale(OTHER_SETTINGS)
    if not os.path.isfile(os.path.join(out_dir, str(record.get("mask", "")))):
        return Stale(MASK_MISSING)
    if record.get("window") != list(window):
        return Stale(WINDOW_CHANGED)
    before = record.get("inputs")
    if not isinstance(before, list):
        return Stale(NOT_STAMPED)
    if before != inputs:
        old = {int(i.get("frame", 0)): i for i in before if isinstance(i, dict)}
        changed = tuple(sorted(i["frame"] for i in inputs if old.get(i["frame"]) != i))
        return Stale(INPUT_CHANGED, changed)
    return None


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

    ``window`` is the frame numbers the detector saw, ``inputs`` the :func:`input_stamp` of each
    file they came from; resume compares both.
    """
    record = {
        "schema": FRAME_SCHEMA,
        "schema_version": SCHEMA_VERSION,
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


def read_report(out_dir: str) -> dict[str, Any]:
    """``out_dir/report.json``; :class:`InputError` naming the file when it is not a report."""
    path = os.path.join(out_dir, "report.json")
    fix = "pass the --out folder of hotpixel detect"
    return read_document(path, SCHEMA, SCHEMA_VERSION, fix)


def run_record_path(out_dir: str, fp: str) -> str:
    return os.path.join(out_dir, "runs", f"{fp}.json")


def write_run_record(out_dir: str, fp: str, header: dict[str, Any]) -> None:
    """Keep the settings behind fingerprint ``fp`` so the report can be rebuilt without them."""
    record = {"schema": RUN_SCHEMA, "schema_version": SCHEMA_VERSION, "fingerprint": fp, **header}
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


def build_report(
    out_dir: str, fp: str, header: dict[str, Any], frames: list[int] | tuple[int, ...] = ()
) -> dict[str, Any]:
    """Assemble ``report.json``, ``detections.csv`` and the track files from frame records.

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
        write_text(os.path.join(out_dir, "detections.csv"), _csv(report["detections"]))
        write_tracks(os.path.join(out_dir, "tracks"), report["detections"])
    return report


def _assemble(
    out_dir: str,
    fp: str,
    header: dict[str, Any],
    shot: list[int],
    done: dict[int, dict[str, Any]],
) -> dict[str, Any]:
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
    assign_ids(detections)
    groups = group_detections(detections)
    detections = [_id_first(d) for d in detections]
    kinds = Counter(d["kind"] for d in detections)
    skip = ("schema", "schema_version", "fingerprint", "warnings")
    fields = {k: v for k, v in header.items() if k not in skip}
    warnings = [*header.get("warnings", []), *frame_warnings(frame_rows)]
    source = dict(fields.pop("source"))
    source.update(
        {
            "frames": format_ranges(shot),
            "first_frame": shot[0] if shot else None,
            "last_frame": shot[-1] if shot else None,
            "frame_count": len(shot),
            "missing_frames": sorted(set(range(shot[0], shot[-1] + 1)) - set(shot)) if shot else [],
        }
    )
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


def merge_report(
    out_dir: str, expect: list[int] | None = None, fp: str | None = None
) -> dict[str, Any]:
    """Rebuild the report of ``out_dir`` from its records (after chunks ran separately).

    The settings are those of the newest run record, or of fingerprint ``fp``. Frames finished
    with other settings are named in the error or left out; ``expect`` lists frames that must
    all be finished (the shot's range on a farm), else :class:`InputError` names the rest.
    """
    out_dir = os.path.abspath(out_dir)
    runs = read_run_records(out_dir)
    if not runs:
        raise InputError(
            f"{out_dir!r} holds no hotpixel run (no runs/*.json); pass the --out folder of "
            "`hotpixel detect`"
        )
    if fp is None:
        header = runs[-1]
    else:
        matches = [r for r in runs if r.get("fingerprint") == fp]
        if not matches:
            known = ", ".join(str(r.get("fingerprint")) for r in runs)
            raise InputError(f"{out_dir!r} has no run with fingerprint {fp!r} (it has {known})")
        header = matches[-1]
    fp = str(header["fingerprint"])
    done = recorded_frames(out_dir)
    if expect:
        absent = [f for f in expect if done.get(f, {}).get("fingerprint") != fp]
        if absent:
            other = [f for f in absent if f in done]
            why = (
                f"; frames {format_ranges(other)} were made with other settings (rerun them "
                "with the same flags and --force)"
                if other
                else ""
            )
            raise InputError(
                f"frames {format_ranges(absent)} of {out_dir!r} are not finished{why}; run "
                "their chunks (a rerun resumes), then merge again"
            )
    return build_report(out_dir, fp, header, expect or [])


def _csv(detections: list[dict[str, Any]]) -> str:
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
