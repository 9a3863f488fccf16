"""What ``hotpixel fix`` will repair, decided before anything is written.

A QC folder holds ``report.json`` (``hotpixel detect``), ``sensor/sensor.json``
(``hotpixel sensor``) or both. The plate is checked against each (:func:`check_plate`: source
path, image size, each frame's size and modification time as detection read it), and review
verdicts in ``labels.json`` choose which detections and sensor positions are repaired
(:func:`review_verdicts`).
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from hotpixel.errors import InputError, UsageError
from hotpixel.fix.sensor_positions import SENSOR_FILE, SensorRepair, choose_positions
from hotpixel.fix.sensor_positions import covered_frames as sensor_frames
from hotpixel.io.frames import read_spec
from hotpixel.io.sequence import FrameSequence, discover, format_ranges
from hotpixel.outputs.labels import detection_ids, labels_path, load_labels
from hotpixel.outputs.report import read_report
from hotpixel.outputs.sensor_results import load_sensor_result

FIX_HINT = "rerun hotpixel detect into the QC folder, or pass the plate it was run on"
VERDICTS = ("accepted", "unrejected", "all")  # which detections --verdicts repairs


@dataclass
class RepairPlan:
    """What ``hotpixel fix`` will do.

    ``report`` is ``report.json`` (None in a folder that holds only a sensor pass);
    ``detections`` maps frame -> the detections to repair; ``sensor`` the sensor positions to
    repair and the frames they cover (None without a sensor pass); ``skipped`` counts the
    detections left alone because of review verdicts, by label (``reject``, ``skip``,
    ``unlabelled``); ``verdicts`` is the choice in force; ``uncovered`` the plate frames that
    neither the report nor the sensor pass covers.
    """

    report: dict[str, Any] | None
    seq: FrameSequence
    frames: list[int]
    detections: dict[int, list[dict[str, Any]]]
    verdicts: str
    skipped: Counter[str] = field(default_factory=Counter)
    uncovered: list[int] = field(default_factory=list)
    sensor: SensorRepair | None = None

    def sensor_defects(self, frame: int) -> list[dict[str, Any]]:
        """The sensor positions to repair on ``frame`` (none outside the sensor pass)."""
        if self.sensor is None or frame not in self.sensor.frames:
            return []
        return self.sensor.defects


def plan_repair(
    pattern: str,
    qc_dir: str,
    frames: list[int] | None = None,
    verdicts: str | None = None,
    force: bool = False,
) -> RepairPlan:
    """Check the plate against ``qc_dir``; choose the detections and sensor positions to repair.

    ``verdicts``: ``accepted`` (only what a reviewer accepted), ``unrejected`` (all but the
    rejected), ``all`` (ignore review labels); None means ``accepted`` when
    ``qc_dir/labels.json`` exists, else ``all``. ``force`` repairs a plate that does not match
    the QC folder. Raises :class:`InputError` naming what differs, :class:`UsageError` for a
    verdict choice that cannot be honoured.
    """
    sensor = load_sensor_result(qc_dir)
    has_report = sensor is None or os.path.isfile(os.path.join(qc_dir, "report.json"))
    report = read_report(qc_dir) if has_report else None  # neither: names report.json
    seq = discover(pattern)
    if seq.pattern.movie:  # repairs are written per frame, and a movie is never re-encoded
        raise InputError(
            f"{seq.pattern.movie!r} is a movie file; hotpixel fix repairs image sequences "
            "only. Export the movie's frames as an image sequence (e.g. EXR) and detect and "
            "fix that"
        )
    rows = {int(r["frame"]): r for r in report["frames"]} if report else {}
    by_sensor = set(sensor_frames(sensor)) if sensor else set()
    covered = set(rows) | by_sensor
    wanted = frames if frames is not None else sorted(covered)
    _check_frames(wanted, covered, seq, qc_dir, report is not None)
    if not force:
        if report is not None:
            check_plate(report, seq, qc_dir, [f for f in wanted if f in rows])
        if sensor is not None:
            check_plate(sensor, seq, qc_dir, [f for f in wanted if f in by_sensor], SENSOR_FILE)
    verdict, used = review_verdicts(report, qc_dir, verdicts)
    detections = list(report["detections"]) if report else []
    chosen, skipped = _choose(detections, verdict, used)
    by_frame: dict[int, list[dict[str, Any]]] = {}
    for d in chosen:
        by_frame.setdefault(int(d["frame"]), []).append(d)
    uncovered = [f for f in seq.frames if f not in covered] if frames is None else []
    positions = choose_positions(sensor, verdict, used) if sensor else None
    return RepairPlan(report, seq, wanted, by_frame, used, skipped, uncovered, positions)


def _check_frames(
    wanted: list[int], covered: set[int], seq: FrameSequence, qc_dir: str, has_report: bool
) -> None:
    missing = [f for f in wanted if f not in covered]
    if missing:
        what = "report.json" if has_report else SENSOR_FILE
        raise InputError(
            f"frames {format_ranges(missing)} are not in {qc_dir}/{what}; {FIX_HINT} over "
            "those frames"
        )
    absent = [f for f in wanted if f not in seq.paths]
    if absent:
        raise InputError(
            f"frames {format_ranges(absent)} are in the QC folder but not in "
            f"{seq.pattern.display()}; pass --frames to repair the others"
        )


def check_plate(
    document: dict[str, Any],
    seq: FrameSequence,
    qc_dir: str,
    frames: list[int],
    what: str = "report.json",
) -> None:
    """Refuse a plate other than the one ``document`` (a report or sensor.json) was made from.

    Compared: the source pattern (absolute, symbolic links resolved), the display size, and
    for each frame of the report its file's size and modification time as detection recorded
    them (reports from before those were recorded, and sensor passes, are checked on path and
    size only).
    """
    source = document["source"]
    problems = []
    given, recorded = _real_pattern(seq.pattern.display()), _real_pattern(source["pattern"])
    if given != recorded:
        problems.append(f"source: the QC was made from {recorded}, this plate is {given}")
    if frames:
        g, _, _, _ = read_spec(seq.path(frames[0]), frames[0])
        size, qc_size = (g.full_width, g.full_height), (source["width"], source["height"])
        if tuple(size) != tuple(qc_size):
            problems.append(
                f"size: the QC is {qc_size[0]}x{qc_size[1]}, this plate {size[0]}x{size[1]}"
            )
    rows = {int(r["frame"]): r for r in document.get("frames", [])}
    changed = [f for f in frames if f in rows and _changed(rows[f], seq.path(f))]
    if changed:
        problems.append(
            f"input fingerprint: frames {format_ranges(changed)} differ from the files the QC "
            "read (size or modification time)"
        )
    if problems:
        made = qc_dir if what == "report.json" else os.path.join(qc_dir, what)
        raise InputError(
            f"{made!r} was made from a different plate than {seq.pattern.display()}: "
            + "; ".join(problems)
            + f". Repairing from it would paint the wrong pixels: {FIX_HINT}, or pass --force"
        )


def _real_pattern(pattern: str) -> str:
    folder, name = os.path.split(os.path.abspath(pattern))
    return os.path.join(os.path.realpath(folder), name)


def _changed(row: dict[str, Any], path: str) -> bool:
    if "size" not in row or "mtime_ns" not in row:
        return False  # a report from before the stamps were recorded
    st = os.stat(path)
    return (st.st_size, st.st_mtime_ns) != (row["size"], row["mtime_ns"])


def review_verdicts(
    report: dict[str, Any] | None, qc_dir: str, verdicts: str | None
) -> tuple[dict[str, str] | None, str]:
    """The reviewer's label by id (None when labels are not used), and the choice in force.

    Labels are matched by id (``<kind>_<frame>_<n>`` for detections, ``sensor_<kind>_<id>``
    for sensor positions), so they must come from a review of this very report: labels of
    another run (another fingerprint) are refused.
    """
    path = labels_path(qc_dir)
    has_labels = os.path.exists(path)
    used = verdicts or ("accepted" if has_labels else "all")
    if used not in VERDICTS:
        raise UsageError(f"--verdicts must be one of {', '.join(VERDICTS)}; got {used!r}")
    if used == "all":
        return None, used
    if not has_labels:
        raise UsageError(
            f"--verdicts {used}: {qc_dir!r} has no labels.json; review it first "
            "(hotpixel review) or pass --verdicts all"
        )
    labels = load_labels(path)
    theirs = labels.get("fingerprint")
    if report is not None and theirs and theirs != report.get("fingerprint"):
        raise InputError(
            f"{path!r} was reviewed on another run of this folder (fingerprint "
            f"{theirs}, the report's is {report.get('fingerprint')}); review "
            "the current report again, or pass --verdicts all"
        )
    return {k: str(v.get("label")) for k, v in labels.get("labels", {}).items()}, used


def _choose(
    detections: list[dict[str, Any]], verdict: dict[str, str] | None, used: str
) -> tuple[list[dict[str, Any]], Counter[str]]:
    if verdict is None:
        return detections, Counter()
    keep: list[dict[str, Any]] = []
    skipped: Counter[str] = Counter()
    for det_id, d in zip(detection_ids(detections), detections, strict=True):
        label = verdict.get(str(d.get("id") or det_id), "unlabelled")  # newer reports carry ids
        if label == "accept" or (used == "unrejected" and label != "reject"):
            keep.append(d)
        else:
            skipped[label] += 1
    return keep, skipped
