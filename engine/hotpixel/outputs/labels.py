"""Review labels: a person's verdict on each detection, kept beside the report.

``OUT/labels.json``, schema ``hotpixel-labels`` version 1, written atomically after every
verdict (so a crash loses nothing and a second session resumes)::

    {"schema": "hotpixel-labels", "schema_version": 1,
     "pattern": "/abs/plate.####.exr",       # the plate the report was made from
     "fingerprint": "...", "threshold": 0.8, "model_version": "...",
     "labels": {"hot_1002_0": {"label": "reject", "frame": 1002, "x": 20.5, "y": 8.5,
                               "kind": "hot", "bbox": [20, 8, 21, 9], "score": 0.93,
                               "user": "anna", "time": "2026-11-24T19:30:00+00:00"}}}

``label`` is ``accept`` (a real defect), ``reject`` (a false positive) or ``skip``. Keys are the
detection ids used for track files and crops (``<kind>_<frame>_<n>``). ``hotpixel finetune``
turns rejects into hard negatives and accepts into positives.
"""

from __future__ import annotations

import datetime
import getpass
import json
import os
from collections import Counter
from typing import Any

from hotpixel.io.atomic import write_text
from hotpixel.io.documents import read_document
from hotpixel.outputs.schema import LABELS_SCHEMA, LABELS_VERSION
from hotpixel.outputs.tables import track_name

SCHEMA, SCHEMA_VERSION = LABELS_SCHEMA, LABELS_VERSION
VERDICTS = ("accept", "reject", "skip")


def detection_ids(detections: list[dict[str, Any]]) -> list[str]:
    """The id of each detection, in report order (the stem of its track file)."""
    seen: Counter[tuple[str, int]] = Counter()
    ids = []
    for d in detections:
        key = (d["kind"], d["frame"])
        ids.append(track_name(d, seen[key])[: -len(".txt")])
        seen[key] += 1
    return ids


def labels_path(out_dir: str) -> str:
    return os.path.join(out_dir, "labels.json")


def new_labels(report: dict[str, Any]) -> dict[str, Any]:
    """An empty label set for ``report``."""
    return {
        "schema": SCHEMA,
        "schema_version": SCHEMA_VERSION,
        "pattern": os.path.abspath(report["source"]["pattern"]),
        "fingerprint": report.get("fingerprint", ""),
        "threshold": report["threshold"],
        "model_version": report["detector"].get("model_version", ""),
        "labels": {},
    }


def load_labels(path: str) -> dict[str, Any]:
    """Read a label file; :class:`InputError` naming the file when it is not one."""
    fix = "pass the labels.json that hotpixel review wrote"
    return read_document(path, SCHEMA, SCHEMA_VERSION, fix)


def open_labels(out_dir: str, report: dict[str, Any]) -> dict[str, Any]:
    """The folder's labels (resuming an earlier session) or a new set for ``report``."""
    path = labels_path(out_dir)
    return load_labels(path) if os.path.exists(path) else new_labels(report)


def set_label(
    labels: dict[str, Any], det_id: str, detection: dict[str, Any], verdict: str | None
) -> None:
    """Record ``verdict`` for a detection (``None`` removes it: undo to unlabelled)."""
    if verdict is None:
        labels["labels"].pop(det_id, None)
        return
    if verdict not in VERDICTS:
        raise ValueError(f"verdict must be one of {VERDICTS}; got {verdict!r}")
    labels["labels"][det_id] = {
        "label": verdict,
        "frame": detection["frame"],
        "x": detection["x"],
        "y": detection["y"],
        "kind": detection["kind"],
        "bbox": list(detection["bbox"]),
        "score": detection["score"],
        "user": user_name(),
        "time": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }


def save_labels(out_dir: str, labels: dict[str, Any]) -> None:
    write_text(labels_path(out_dir), json.dumps(labels, indent=1) + "\n")


def user_name() -> str:
    """The login name of who runs this (``$USER``, else ``unknown``, where there is none)."""
    try:
        return getpass.getuser()
    except Exception:  # no login name (containers, farm services)
        return os.environ.get("USER", "unknown")
