"""Hits at one place in the picture, across frames: detection ids and groups by place.

A QC operator sees a street light flagged on every frame as one thing, not twelve. Detections
of one kind are linked frame to frame, like a tracker: a group predicts where its next hit is
from its last two (constant velocity) and takes the nearest hit of a later frame within
``LINK_RADIUS`` px of that prediction plus ``SLACK`` px per frame of gap; a group of a single
hit has no velocity yet and reaches ``DRIFT`` px per frame instead. At most ``MAX_GAP - 1``
frames may pass without a hit. So a light that drifts with a pan or a shake stays one group
while it moves steadily. A second hit in the same frame within ``SPLIT_RADIUS`` px of the
group's hit there (a light broken in two by the threshold) joins the group too.

This is grouping by image position, not by scene position: it follows steady motion only. A
whip pan or a cut splits a light into several groups. Grouping that follows the measured flow
belongs with the flow in ``detect/`` (this layer may not import it); a group key computed there
would replace :func:`group_detections`.

A verdict on a group applies to all its hits; labels stay per hit
(:mod:`hotpixel.outputs.labels`).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from scipy.spatial import cKDTree

from hotpixel.io.sequence import format_ranges

LINK_RADIUS = 3.0  # px around the predicted position
SLACK = 1.0  # px per frame of gap: how far a steady motion may wander from the prediction
DRIFT = 2.0  # px per frame: the reach of a group of one hit, whose motion is not known yet
MAX_GAP = 4  # frames from one hit of a group to the next (three frames without a hit)
SPLIT_RADIUS = 6.0  # px: another hit of the same frame this close is the same light


def detection_id(detection: dict[str, Any], index: int) -> str:
    """``<kind>_<frame>_<n>``: the n-th detection of that kind in that frame (report order).

    The same id names the track file (``tracks/<id>.txt``), the crop on the QC page and the
    review label.
    """
    return f"{detection['kind']}_{detection['frame']}_{index}"


def assign_ids(detections: Sequence[dict[str, Any]]) -> list[str]:
    """Set ``id`` on every detection (in report order) and return the ids."""
    seen: Counter[tuple[str, int]] = Counter()
    ids = []
    for d in detections:
        key = (d["kind"], int(d["frame"]))
        d["id"] = detection_id(d, seen[key])
        seen[key] += 1
        ids.append(d["id"])
    return ids


@dataclass
class _Open:
    kind: str
    members: list[int] = field(default_factory=list)  # indices into the detections
    track: list[tuple[int, float, float]] = field(default_factory=list)  # (frame, x, y)

    @property
    def frame(self) -> int:
        return self.track[-1][0]

    def reach(self, frame: int) -> tuple[float, float, float]:
        """Where the next hit is expected in ``frame`` (x, y) and how far from there (px)."""
        f1, x1, y1 = self.track[-1]
        gap = frame - f1
        if len(self.track) < 2:
            return x1, y1, LINK_RADIUS + DRIFT * gap
        f0, x0, y0 = self.track[-2]
        vx, vy = (x1 - x0) / (f1 - f0), (y1 - y0) / (f1 - f0)
        return x1 + vx * gap, y1 + vy * gap, LINK_RADIUS + SLACK * gap


def group_detections(detections: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Group hits by place (module docstring); set ``group`` on each detection.

    ``detections`` need ``id`` (:func:`assign_ids`), ``frame``, ``x``, ``y``, ``kind`` and
    ``score``. Returns one record per group, ordered by first frame then position: ``id``
    (``g1``, ``g2``, ...), ``kind``, ``x``, ``y`` (mean centroid), ``count``, ``frames``
    (ranges such as ``1003-1010``), ``first_frame``, ``last_frame``, ``score`` (the highest),
    ``representative`` (the id of the highest-scoring hit) and ``detections`` (ids, by frame).
    """
    by_frame: dict[int, list[int]] = {}
    for i in sorted(range(len(detections)), key=lambda i: _key(detections[i])):
        by_frame.setdefault(int(detections[i]["frame"]), []).append(i)
    groups: list[_Open] = []
    active: list[_Open] = []  # groups whose latest hit is within MAX_GAP frames
    for frame in sorted(by_frame):
        active = [g for g in active if frame - g.frame <= MAX_GAP]
        groups.extend(_link(detections, by_frame[frame], frame, active))
    groups.sort(key=lambda g: _key(detections[g.members[0]]))
    records = []
    for n, g in enumerate(groups, start=1):
        records.append(_record(f"g{n}", g, detections))
    return records


def _key(d: dict[str, Any]) -> tuple[int, float, float]:
    return (int(d["frame"]), float(d["y"]), float(d["x"]))


def _link(
    detections: Sequence[dict[str, Any]], here: list[int], frame: int, groups: list[_Open]
) -> list[_Open]:
    """Give the hits of ``frame`` to open groups, closest pairs first (module docstring).

    Hits left over start groups of their own, added to ``groups`` and returned.
    """
    points = [(float(detections[i]["x"]), float(detections[i]["y"])) for i in here]
    pairs = []
    if groups:  # a tree, so a shot with thousands of hits per frame stays fast
        tree = cKDTree(points)
        widest = LINK_RADIUS + max(DRIFT, SLACK) * MAX_GAP
        for gi, g in enumerate(groups):
            px, py, reach = g.reach(frame)
            for k in tree.query_ball_point((px, py), min(reach, widest)):
                if detections[here[k]]["kind"] == g.kind:
                    pairs.append((math.hypot(points[k][0] - px, points[k][1] - py), k, gi))
    taken: dict[int, int] = {}  # hit (position in here) -> group
    linked: set[int] = set()
    for _, k, gi in sorted(pairs):
        if k not in taken and gi not in linked:
            taken[k] = gi
            linked.add(gi)
            groups[gi].members.append(here[k])
            groups[gi].track.append((frame, *points[k]))
    new: list[_Open] = []
    for k, i in enumerate(here):
        if k in taken:
            continue
        home = _split_of(points[k], str(detections[i]["kind"]), frame, [*groups, *new])
        if home is not None:
            home.members.append(i)  # not on the track: the group's position stays its main hit
            continue
        new.append(_Open(kind=str(detections[i]["kind"]), members=[i]))
        new[-1].track.append((frame, *points[k]))
    groups.extend(new)
    return new


def _split_of(
    point: tuple[float, float], kind: str, frame: int, groups: list[_Open]
) -> _Open | None:
    """The group whose hit in ``frame`` lies within ``SPLIT_RADIUS`` of ``point``, if any."""
    for g in groups:
        if g.kind == kind and g.frame == frame:
            _, x, y = g.track[-1]
            if math.hypot(point[0] - x, point[1] - y) <= SPLIT_RADIUS:
                return g
    return None


def _record(gid: str, g: _Open, detections: Sequence[dict[str, Any]]) -> dict[str, Any]:
    hits = [detections[i] for i in g.members]
    for d in hits:
        d["group"] = gid
    hits.sort(key=_key)
    frames = sorted({int(d["frame"]) for d in hits})
    best = max(hits, key=lambda d: float(d["score"]))
    return {
        "id": gid,
        "kind": g.kind,
        "x": round(sum(float(d["x"]) for d in hits) / len(hits), 3),
        "y": round(sum(float(d["y"]) for d in hits) / len(hits), 3),
        "count": len(hits),
        "frames": format_ranges(frames),
        "first_frame": frames[0],
        "last_frame": frames[-1],
        "score": float(best["score"]),
        "representative": best["id"],
        "detections": [d["id"] for d in hits],
    }


def sensor_hit_id(defect: dict[str, Any]) -> str:
    """``sensor_<kind>_<id>``: a sensor defect's id on the QC page and in review labels.

    The stem of its track file (``tracks/sensor_<kind>_<id>.txt``); never the form of a
    detection id, so the two cannot collide.
    """
    return f"sensor_{defect['kind']}_{defect['id']}"


def ensure_ids_and_groups(
    report: dict[str, Any],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The report's detections with ``id`` and ``group``, and its groups.

    Reports written before ids and groups existed get them here (computed the same way), in
    copies; the report itself is not changed.
    """
    detections = [dict(d) for d in report.get("detections", [])]
    groups = report.get("groups")
    if detections and ("id" not in detections[0] or "group" not in detections[0] or not groups):
        assign_ids(detections)
        groups = group_detections(detections)
    return detections, [dict(g) for g in groups or []]
