"""From a probability map to detections: threshold with hysteresis, 8-connected groups, centroids.

A group is an 8-connected region where the probability is at least ``GROUP_SHARE`` of the
threshold and that reaches the threshold somewhere. Grouping below the threshold keeps one
defect one detection: at a strict threshold a blob or a short curve otherwise breaks into
pieces whose centroids stray from the defect's, each piece a false alert.

Each group becomes one :class:`Detection` with an intensity-weighted centroid in the coordinate
contract of :mod:`hotpixel.io.geometry`, its area, bounding box, score (highest probability in the
group) and the plate colour at its peak.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from hotpixel.io.geometry import Geometry, to_nuke
from hotpixel.outputs.schema import Detection

_EIGHT = np.ones((3, 3), dtype=bool)
CORE_SHARE = 0.25
GROUP_SHARE = 0.5  # groups grow down to this share of the threshold (hysteresis)

# centroid weights: a full (h, w) array, or a function giving them at flagged pixels (ys, xs)
Weight = np.ndarray | Callable[[np.ndarray, np.ndarray], np.ndarray]


@dataclass(frozen=True)
class FrameResult:
    """Detections of one frame plus the regions too large to be pixel defects."""

    detections: list[Detection]
    oversized_regions: int


def find_detections(
    prob: np.ndarray,
    weight: Weight,
    rgb: np.ndarray,
    geometry: Geometry,
    frame: int,
    threshold: float,
    max_area: int,
    kind: str = "hot",
    group_share: float = GROUP_SHARE,
) -> FrameResult:
    """Group pixels with ``prob >= threshold`` into detections (see the module docstring).

    ``prob`` and ``weight`` are ``(h, w)`` over the data window (``weight`` >= 0 sets the
    centroid weighting, e.g. brightness above the local background; only pixels with at least
    ``CORE_SHARE`` of their group's largest weight count; a function of ``(ys, xs)`` instead
    computes them at the flagged pixels alone); ``rgb`` is ``(h, w, 3)`` for the peak colour.
    Groups larger than ``max_area`` pixels are counted, not reported.
    """
    shape = getattr(weight, "shape", prob.shape)
    if prob.shape != rgb.shape[:2] or shape != prob.shape:
        raise ValueError(f"shape mismatch: prob {prob.shape}, weight {shape}, rgb {rgb.shape}")
    binary = prob >= threshold
    if not binary.any():
        return FrameResult([], 0)
    if group_share < 1.0:
        # label once at the lower level, keep the regions that reach the threshold, renumbered
        grown, n = ndimage.label(prob >= group_share * threshold, structure=_EIGHT)
        reached = np.zeros(n + 1, bool)
        reached[grown[binary]] = True
        renumber = np.zeros(n + 1, grown.dtype)
        count = int(reached.sum())
        renumber[reached] = np.arange(1, count + 1)
        labels = renumber[grown]
        binary = labels > 0
    else:
        labels, count = ndimage.label(binary, structure=_EIGHT)
    ys, xs = np.nonzero(binary)
    lab = labels[ys, xs] - 1  # (N,) component index of each flagged pixel
    area = np.bincount(lab, minlength=count)
    at = weight(ys, xs) if callable(weight) else weight[ys, xs]
    w = np.maximum(np.asarray(at, np.float64), 0.0)
    # the centroid is that of the group's core: pixels carrying at least CORE_SHARE of the
    # group's strongest weight, so a faint flagged halo pixel does not pull it
    wmax = np.zeros(count)
    np.maximum.at(wmax, lab, w)
    w = np.where(w >= CORE_SHARE * wmax[lab], w, 0.0) + 1e-12
    wsum = np.bincount(lab, w, minlength=count)
    cx = np.bincount(lab, w * (xs + 0.5), minlength=count) / wsum
    cy = np.bincount(lab, w * (ys + 0.5), minlength=count) / wsum
    p = prob[ys, xs]
    order = np.lexsort((-p, lab))  # by component, highest probability first
    first = np.searchsorted(lab[order], np.arange(count))
    peak = order[first]  # (count,) index into ys/xs of each component's peak
    x0 = np.full(count, np.iinfo(np.int64).max)
    y0 = np.full(count, np.iinfo(np.int64).max)
    x1 = np.full(count, -1)
    y1 = np.full(count, -1)
    np.minimum.at(x0, lab, xs)
    np.minimum.at(y0, lab, ys)
    np.maximum.at(x1, lab, xs)
    np.maximum.at(y1, lab, ys)
    dx, dy = geometry.offset
    out: list[Detection] = []
    for i in range(count):
        if area[i] > max_area:
            continue
        px, py = int(xs[peak[i]]), int(ys[peak[i]])
        x, y = float(cx[i] + dx), float(cy[i] + dy)
        nx, ny = to_nuke(x, y, geometry.full_height)
        colour = tuple(_finite_or_none(v) for v in rgb[py, px])
        out.append(
            Detection(
                frame=frame,
                x=round(x, 3),
                y=round(y, 3),
                nuke_x=round(nx, 3),
                nuke_y=round(ny, 3),
                score=round(float(p[peak[i]]), 4),
                area=int(area[i]),
                kind=kind,
                bbox=(int(x0[i] + dx), int(y0[i] + dy), int(x1[i] + dx + 1), int(y1[i] + dy + 1)),
                peak_rgb=(colour[0], colour[1], colour[2]),
            )
        )
    return FrameResult(out, int(np.count_nonzero(area > max_area)))


def _finite_or_none(v: float) -> float | None:
    f = float(v)
    return round(f, 6) if math.isfinite(f) else None
