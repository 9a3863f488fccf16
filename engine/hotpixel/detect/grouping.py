"""From a probability map to detections: hysteresis, 8-connected groups, merged pieces, centroids.

A group is an 8-connected region where the probability is at least ``GROUP_SHARE`` of the
threshold and that reaches the threshold somewhere. Grouping below the threshold keeps one
defect one detection: at a strict threshold a blob or a short curve otherwise breaks into
pieces whose centroids stray from the defect's, each piece a false alert.

Groups whose pixels come within ``MERGE_GAP`` (3) px of each other (Chebyshev distance, so at
most two dark pixels between them, diagonals included) are then one detection. One defect's
footprint is not always connected: a demosaiced photosite lights up its corners as separate
bright pixels with a darker pixel between, a streak fades out for a pixel or two, and the
cascade paints a candidate's probability wherever its residual stands out within ``FOOTPRINT``
(3) px of its peak (:func:`hotpixel.detect.cascade.detector.footprint_map`), so every piece
of one footprint lies within 3 px of the piece holding the peak. Defects farther apart stay
apart: two whose footprints reach ``r`` px from their peaks are two detections when the peaks
are more than ``3 + 2r`` px apart (4 px for single pixels, 6 for 3x3 footprints, 8 for 5x5).

The area limit applies to the merged detection, not to its pieces: it asks whether what would
be reported as one defect can be one, and that is the merged detection. A scene change that
breaks into many small pieces at the threshold (a flash over texture, a window lighting up
behind bars) is then one oversized region, not one alert per piece, and a piece within the gap
of a region larger than ``max_area`` is part of that region's change (its fringe, cut off at
the threshold), counted with it. The price: a defect closer than the gap to such a region is
not reported.

Each detection has an intensity-weighted centroid over all its pieces in the coordinate
contract of :mod:`hotpixel.io.geometry`, its summed area, the union of the pieces' bounding
boxes, its score (the highest probability of any piece) and the plate colour at that
highest-probability pixel.

The merge looks only at groups whose bounding boxes come within the gap of another's (a sweep
over the boxes sorted by x); of each such pair it probes the smaller group, looking up the
pixels within the gap of its pixels among the flagged ones. Isolated groups cost nothing and
no image is dilated: a 4K frame with 1,500 groups merges in a few milliseconds.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import ndimage
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from hotpixel.io.geometry import Geometry, to_nuke
from hotpixel.outputs.schema import Detection

_EIGHT = np.ones((3, 3), dtype=bool)
CORE_SHARE = 0.25
GROUP_SHARE = 0.5  # groups grow down to this share of the threshold (hysteresis)
MERGE_GAP = 3  # px; groups this close are one detection: the cascade's footprint radius

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
    merge_gap: int = MERGE_GAP,
) -> FrameResult:
    """Group pixels with ``prob >= threshold`` into detections (see the module docstring).

    ``prob`` and ``weight`` are ``(h, w)`` over the data window (``weight`` >= 0 sets the
    centroid weighting, e.g. brightness above the local background; only pixels with at least
    ``CORE_SHARE`` of their detection's largest weight count; a function of ``(ys, xs)``
    instead computes them at the flagged pixels alone); ``rgb`` is ``(h, w, 3)`` for the peak
    colour. Groups within ``merge_gap`` px of each other are one detection (0: no merging).
    Detections larger than ``max_area`` pixels are counted, not reported.
    """
    shape = getattr(weight, "shape", prob.shape)
    if prob.shape != rgb.shape[:2] or shape != prob.shape:
        raise ValueError(f"shape mismatch: prob {prob.shape}, weight {shape}, rgb {rgb.shape}")
    labels, count = _groups(prob, threshold, group_share)
    if count == 0:
        return FrameResult([], 0)
    ys, xs = np.nonzero(labels)
    piece = labels[ys, xs] - 1  # (N,) group index of each flagged pixel
    root = _merge_groups(ys, xs, piece, _boxes(piece, ys, xs, count), merge_gap)
    lab = root[piece]  # (N,) detection index of each flagged pixel
    count = int(root.max()) + 1
    area = np.bincount(lab, minlength=count)
    at = weight(ys, xs) if callable(weight) else weight[ys, xs]
    cx, cy = _centroids(np.asarray(at, np.float64), ys, xs, lab, count)
    p = prob[ys, xs]
    order = np.lexsort((-p, lab))  # by detection, highest probability first
    peak = order[np.searchsorted(lab[order], np.arange(count))]  # (count,) into ys/xs
    box = _boxes(lab, ys, xs, count)
    dx, dy = geometry.offset
    out: list[Detection] = []
    for i in np.flatnonzero(area <= max_area).tolist():
        px, py = int(xs[peak[i]]), int(ys[peak[i]])
        x, y = float(cx[i] + dx), float(cy[i] + dy)
        nx, ny = to_nuke(x, y, geometry.full_height)
        colour = tuple(_finite_or_none(v) for v in rgb[py, px])
        x0, y0, x1, y1 = box[i].tolist()
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
                bbox=(x0 + dx, y0 + dy, x1 + dx + 1, y1 + dy + 1),
                peak_rgb=(colour[0], colour[1], colour[2]),
            )
        )
    return FrameResult(out, int(np.count_nonzero(area > max_area)))


def _groups(prob: np.ndarray, threshold: float, share: float) -> tuple[np.ndarray, int]:
    """``(h, w)`` labels 1..n of the hysteresis groups (0 elsewhere) and n."""
    binary = prob >= threshold
    if not binary.any():
        return np.zeros(prob.shape, np.int32), 0
    if share >= 1.0:
        labels, count = ndimage.label(binary, structure=_EIGHT)
        return labels, int(count)
    # label once at the lower level, keep the regions that reach the threshold, renumbered
    grown, n = ndimage.label(prob >= share * threshold, structure=_EIGHT)
    reached = np.zeros(n + 1, bool)
    reached[grown[binary]] = True
    renumber = np.zeros(n + 1, grown.dtype)
    count = int(reached.sum())
    renumber[reached] = np.arange(1, count + 1)
    return renumber[grown], count


def _boxes(lab: np.ndarray, ys: np.ndarray, xs: np.ndarray, count: int) -> np.ndarray:
    """``(count, 4)`` int64 inclusive ``x0, y0, x1, y1`` of the pixels of each index in ``lab``."""
    box = np.empty((count, 4), np.int64)
    box[:, :2] = np.iinfo(np.int64).max
    box[:, 2:] = -1
    np.minimum.at(box[:, 0], lab, xs)
    np.minimum.at(box[:, 1], lab, ys)
    np.maximum.at(box[:, 2], lab, xs)
    np.maximum.at(box[:, 3], lab, ys)
    return box


def _merge_groups(
    ys: np.ndarray, xs: np.ndarray, piece: np.ndarray, box: np.ndarray, gap: int
) -> np.ndarray:
    """``(n,)`` detection index of each group: groups within ``gap`` px are one detection.

    ``ys, xs`` ``(N,)`` are the flagged pixels in raster order, ``piece`` ``(N,)`` their group
    0..n-1, ``box`` ``(n, 4)`` the groups' inclusive bounding boxes. Distances are Chebyshev
    between pixels; detections are numbered in the order of their first group, so isolated
    groups keep their order.
    """
    n = len(box)
    i, j = _near_boxes(box, gap) if gap > 0 else (np.zeros(0, np.int64),) * 2
    if len(i) == 0:
        return np.arange(n)
    src, dst = _touching(ys, xs, piece, box, i, j, gap)
    graph = coo_matrix((np.ones(len(src), bool), (src, dst)), shape=(n, n))
    k, comp = connected_components(graph, directed=False)
    first = np.full(k, n)
    np.minimum.at(first, comp, np.arange(n))
    rank = np.empty(k, np.int64)
    rank[np.argsort(first)] = np.arange(k)
    merged: np.ndarray = rank[comp]
    return merged


def _near_boxes(box: np.ndarray, gap: int) -> tuple[np.ndarray, np.ndarray]:
    """Pairs ``(i, j)`` of groups whose bounding boxes come within ``gap`` px of each other.

    A sweep over the boxes sorted by left edge: the work grows with the pairs that overlap in
    x, not with the square of the number of groups.
    """
    order = np.argsort(box[:, 0], kind="stable")
    b = box[order]
    start = np.arange(1, len(b) + 1)
    end = np.searchsorted(b[:, 0], b[:, 2] + gap, side="right")  # past the last within x
    length = np.maximum(end - start, 0)
    i = np.repeat(np.arange(len(b)), length)
    j = i + 1 + np.arange(int(length.sum())) - np.repeat(np.cumsum(length) - length, length)
    keep = (b[j, 1] <= b[i, 3] + gap) & (b[i, 1] <= b[j, 3] + gap)
    return order[i[keep]], order[j[keep]]


def _touching(
    ys: np.ndarray,
    xs: np.ndarray,
    piece: np.ndarray,
    box: np.ndarray,
    i: np.ndarray,
    j: np.ndarray,
    gap: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Edges ``(a, b)`` between groups with pixels at most ``gap`` px apart.

    Only the smaller group of each near pair ``(i, j)`` is probed: every pixel within ``gap``
    of its pixels is looked up among the flagged pixels (raster order, so their flat indices
    are sorted), which costs ``(2 gap + 1)^2`` look-ups per probed pixel and no image.
    """
    size = (box[:, 2] - box[:, 0] + 1) * (box[:, 3] - box[:, 1] + 1)
    probe = np.zeros(len(box), bool)
    probe[np.where(size[i] <= size[j], i, j)] = True
    width = int(xs.max()) + 2 * gap + 1  # a row pitch no reach can wrap across
    flat = ys * width + xs  # (N,) ascending
    at = np.flatnonzero(probe[piece])  # (M,) probed pixels
    reach = np.arange(-gap, gap + 1)
    step = (reach[:, None] * width + reach[None, :]).ravel()  # ((2 gap + 1)^2,)
    near = (flat[at, None] + step[None, :]).ravel()  # (M * (2 gap + 1)^2,)
    pos = np.minimum(np.searchsorted(flat, near), len(flat) - 1)
    src = np.repeat(piece[at], len(step))
    hit = (flat[pos] == near) & (piece[pos] != src)
    return src[hit], piece[pos[hit]]


def _centroids(
    w: np.ndarray, ys: np.ndarray, xs: np.ndarray, lab: np.ndarray, count: int
) -> tuple[np.ndarray, np.ndarray]:
    """``(count,)`` x and y: intensity-weighted over each detection's core pixels.

    The core is the pixels carrying at least ``CORE_SHARE`` of the detection's strongest
    weight, so a faint flagged halo pixel does not pull the centroid; pixel centres at +0.5.
    """
    w = np.maximum(w, 0.0)
    wmax = np.zeros(count)
    np.maximum.at(wmax, lab, w)
    w = np.where(w >= CORE_SHARE * wmax[lab], w, 0.0) + 1e-12
    wsum = np.bincount(lab, w, minlength=count)
    cx = np.bincount(lab, w * (xs + 0.5), minlength=count) / wsum
    cy = np.bincount(lab, w * (ys + 0.5), minlength=count) / wsum
    return cx, cy


def _finite_or_none(v: float) -> float | None:
    f = float(v)
    return round(f, 6) if math.isfinite(f) else None
