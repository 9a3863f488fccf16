"""Reading the engine's ``report.json`` (schema ``hotpixel-report`` version 1).

Coordinates: every detection carries ``nuke_x``, ``nuke_y`` in Nuke's convention (origin at the
bottom-left of the display window, pixel centres at .5), and ``bbox`` ``[x0, y0, x1, y1]`` in
display pixels from the top-left, x1/y1 exclusive. Nothing here converts coordinates again: the
plugin uses the engine's ``nuke_x``/``nuke_y`` and turns a bbox into Nuke rows with
:func:`nuke_bbox`, the one place that flips.
"""

import json
import math
import os

from . import frame_ranges
from .errors import PluginError

SCHEMA = "hotpixel-report"
SCHEMA_VERSION = 1


def load(path):
    """The report at ``path`` (a file or the output folder), checked; raises PluginError."""
    if os.path.isdir(path):
        path = os.path.join(path, "report.json")
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, ValueError) as exc:
        raise PluginError(f"cannot read the report {path} ({exc}); run Analyze first") from exc
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        raise PluginError(f"{path} is not a hotpixel report")
    if data.get("schema_version") != SCHEMA_VERSION:
        raise PluginError(
            "{} has report schema_version {!r}; this plugin reads {}: update the plugin".format(
                path, data.get("schema_version"), SCHEMA_VERSION
            )
        )
    data["_path"] = os.path.abspath(path)
    return data


def out_dir(report):
    """The output folder the report lives in."""
    return os.path.dirname(report["_path"])


def size(report):
    """``(width, height)`` of the display window."""
    return int(report["source"]["width"]), int(report["source"]["height"])


def mask_pattern(report):
    """Absolute ``####`` pattern of the mask files."""
    return os.path.join(out_dir(report), report["mask"]["pattern"])


def detections(report, kinds=None):
    """The detections (optionally only those of ``kinds``), ordered by frame then position.

    Dead, stuck and persistent hot positions of the shot-level pass (the report's ``sensor``
    section, after ``hotpixel sensor``) are included once per frame they were seen in, so the
    tracker gets one track per position and the paint fix one stroke per frame.
    """
    found = list(report.get("detections", [])) + sensor_detections(report)
    found = [d for d in found if kinds is None or d["kind"] in kinds]
    return sorted(found, key=lambda d: (d["frame"], d["nuke_y"], d["nuke_x"]))


def sensor_detections(report):
    """The sensor section's positions as per-frame detections (``frames_seen`` expanded)."""
    sensor = report.get("sensor") or {}
    out = []
    for d in sensor.get("defects", []):
        for frame in frame_list(d.get("frames_seen") or ""):
            out.append(
                {
                    "frame": frame,
                    "kind": d["kind"],
                    "x": d["x"],
                    "y": d["y"],
                    "nuke_x": d["nuke_x"],
                    "nuke_y": d["nuke_y"],
                    "bbox": d.get("bbox"),
                    "area": d.get("area", 1),
                    "score": d.get("confidence", 1.0),
                    "sensor_id": d.get("id"),
                }
            )
    return out


def frame_list(text):
    """``"1001-1003, 1007"`` (the engine's frame ranges, steps such as ``1011-1015x2``
    included) as ``[1001, 1002, 1003, 1007]``; raises PluginError on a part it cannot read."""
    frames = []
    for part in text.replace(" ", "").split(","):
        if part and part != "none":  # the engine writes "none" for no frame
            frames.extend(frame_ranges.parse(part).frames())
    return frames


def nuke_bbox(detection, height):
    """The detection's box in Nuke pixels ``(x0, y0, x1, y1)``, origin bottom-left, exclusive."""
    x0, y0, x1, y1 = detection["bbox"]
    return float(x0), float(height - y1), float(x1), float(height - y0)


def diameter(detection):
    """The defect's width in pixels: the larger side of its box (or a disc of its area)."""
    if detection.get("bbox"):
        x0, y0, x1, y1 = detection["bbox"]
        return float(max(x1 - x0, y1 - y0, 1))
    return max(1.0, 2.0 * math.sqrt(float(detection.get("area", 1)) / math.pi))


def locations(found, radius=1.5):
    """Group detections at one defect location (same kind, centroids within ``radius`` px).

    A stuck or recurring defect becomes one group with one detection per frame; a group never
    holds two detections of the same frame. Returns lists ordered by first frame.
    """
    groups = []
    for d in found:
        for group in groups:
            head = group[0]
            near = math.hypot(d["nuke_x"] - head["nuke_x"], d["nuke_y"] - head["nuke_y"])
            frames = {g["frame"] for g in group}
            if head["kind"] == d["kind"] and near <= radius and d["frame"] not in frames:
                group.append(d)
                break
        else:
            groups.append([d])
    return groups


def summary_text(report, cancelled=False):
    """One line for the node's status knob."""
    s = report.get("summary", {})
    text = "{} detection(s) on {} frame(s) of {}; {} frame(s) analysed".format(
        s.get("detections", 0),
        s.get("frames_with_detections", 0),
        report["source"].get("frames", "?"),
        s.get("frames_processed", 0),
    )
    pending = s.get("frames_pending") or []
    pending = len(pending) if isinstance(pending, list) else int(pending)
    if cancelled or pending:
        text += f"; cancelled, {pending} frame(s) to go: Analyze resumes"
    warnings = [w for w in report.get("warnings") or [] if isinstance(w, dict)]
    if warnings:  # the engine's warnings (no temporal context, an assumed colour space, ...)
        more = f" (+{len(warnings) - 1} more in the report)" if len(warnings) > 1 else ""
        text += "; warning: " + str(warnings[0].get("message", "")) + more
    return text
