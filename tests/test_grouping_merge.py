"""Pieces of one defect's footprint are one detection; defects genuinely apart stay apart."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from hotpixel.detect.grouping import find_detections
from hotpixel.io.geometry import Geometry

# a hot photosite after demosaicing: its corners light up, the pixels between them stay dark
CORNERS = {
    "two in a row": [(0, 0), (0, 2)],
    "two on a diagonal": [(0, 0), (2, 2)],
    "four corners": [(0, 0), (0, 2), (2, 0), (2, 2)],
    "two in a row, 3 px apart": [(0, 0), (0, 3)],
}


def _find(prob, threshold=0.9, max_area=64, rgb=None, weight=None, **kw):
    h, w = prob.shape
    rgb = np.ones((h, w, 3), np.float32) if rgb is None else rgb
    weight = prob if weight is None else weight
    return find_detections(prob, weight, rgb, Geometry.simple(w, h), 1, threshold, max_area, **kw)


def _paint(prob, pixels, y, x, value=0.95):
    for dy, dx in pixels:
        prob[y + dy, x + dx] = value


def _centre(pixels, y, x):
    """The pixels' mean position in the coordinate contract (pixel centres at +0.5)."""
    ys, xs = zip(*pixels, strict=True)
    return x + np.mean(xs) + 0.5, y + np.mean(ys) + 0.5


@pytest.mark.parametrize("dtype", [np.float16, np.float32])
@pytest.mark.parametrize("name", sorted(CORNERS))
def test_bayer_corners_are_one_detection_at_the_footprint_centre(name, dtype):
    pixels = CORNERS[name]
    prob = np.zeros((24, 24), dtype)
    _paint(prob, pixels, 10, 10)
    brightness = prob.astype(dtype) * dtype(30.0)  # equal corners: the centre is the middle
    [d] = _find(prob, weight=brightness).detections
    cx, cy = _centre(pixels, 10, 10)
    assert (d.x, d.y) == pytest.approx((cx, cy), abs=1e-3)
    assert d.area == len(pixels)
    ys, xs = zip(*pixels, strict=True)
    assert d.bbox == (10 + min(xs), 10 + min(ys), 11 + max(xs), 11 + max(ys))


def test_a_defect_split_two_and_a_half_pixels_apart_is_one_detection():
    """A true defect came out as two detections 2.5 px apart, one a false alert."""
    prob = np.zeros((20, 20), np.float32)
    prob[8, 5] = 0.95  # one piece centred at x 5.5 ...
    prob[8, 7:9] = 0.96  # ... the other at x 8.0, with a dark pixel between
    [d] = _find(prob, weight=np.ones_like(prob)).detections
    assert d.area == 3 and d.bbox == (5, 8, 9, 9)
    assert d.x == pytest.approx((5.5 + 7.5 + 8.5) / 3, abs=1e-3)
    assert d.score == pytest.approx(0.96)


@pytest.mark.parametrize("dtype", [np.float16, np.float32])
def test_one_false_place_painted_as_two_blobs_is_one_detection(dtype):
    """Two 2x2 blobs, two dark pixels apart: one area, one score, the colour at the best pixel."""
    prob = np.zeros((16, 20), dtype)
    prob[5:7, 4:6] = 0.93
    prob[6:8, 8:10] = 0.97
    prob[7, 9] = 0.99  # the highest probability of the place
    rgb = np.full((16, 20, 3), 0.1, dtype)
    rgb[7, 9] = (65504.0, -0.5, np.nan)  # half's largest value, a negative, a NaN
    [d] = _find(prob, rgb=rgb).detections
    assert d.area == 8
    assert d.bbox == (4, 5, 10, 8)
    assert d.score == pytest.approx(0.99, abs=1e-3)
    assert d.peak_rgb == (65504.0, -0.5, None)
    assert 4.0 < d.x < 10.0 and 5.0 < d.y < 8.0


@pytest.mark.parametrize("spacing", [8, 10])
def test_two_defects_apart_stay_two_each_one_detection(spacing):
    prob = np.zeros((24, 40), np.float32)
    four = CORNERS["four corners"]
    _paint(prob, four, 10, 6)
    _paint(prob, four, 10, 6 + spacing)
    found = _find(prob).detections
    assert [(d.x, d.y) for d in found] == [
        pytest.approx(_centre(four, 10, 6)),
        pytest.approx(_centre(four, 10, 6 + spacing)),
    ]
    assert [d.area for d in found] == [4, 4]


def test_defects_whose_footprints_are_four_pixels_apart_stay_two():
    """Two 5x5 footprints 8 px apart leave a gap of 3 dark pixels: just beyond the merge."""
    prob = np.zeros((20, 30), np.float32)
    prob[8:13, 6:11] = 0.95
    prob[8:13, 14:19] = 0.95
    prob[10, 12] = 0.95  # a single pixel between them joins them: one place
    assert len(_find(prob).detections) == 1
    prob[10, 12] = 0.0
    assert [d.area for d in _find(prob).detections] == [25, 25]


def test_an_elongated_streak_with_a_break_is_one_detection():
    prob = np.zeros((20, 30), np.float32)
    ys = (6 + 2 * np.sin(np.arange(5, 22) / 3.0)).round().astype(int)
    prob[ys, np.arange(5, 22)] = 0.95  # a short curved streak, 17 px long ...
    prob[:, 12:14] = 0.0  # ... fading out for two pixels
    [d] = _find(prob).detections
    assert d.area == 15
    assert (d.bbox[0], d.bbox[2]) == (5, 22)


def test_pieces_at_the_edges_of_the_image_merge():
    h, w = 18, 22
    prob = np.zeros((h, w), np.float32)
    four = CORNERS["four corners"]
    _paint(prob, four, 0, 0)
    _paint(prob, four, h - 3, w - 3)
    found = _find(prob).detections
    assert [(d.x, d.y) for d in found] == [(1.5, 1.5), (w - 1.5, h - 1.5)]
    assert [d.bbox for d in found] == [(0, 0, 3, 3), (w - 3, h - 3, w, h)]


def test_data_window_offset_applies_to_the_merged_detection():
    prob = np.zeros((12, 12), np.float32)
    _paint(prob, CORNERS["four corners"], 4, 4)
    g = Geometry(30, 20, 12, 12, 0, 0, 100, 80)  # a 12x12 data window at 30, 20
    rgb = np.ones((12, 12, 3), np.float32)
    [d] = find_detections(prob, prob, rgb, g, 7, 0.9, 64).detections
    assert (d.x, d.y) == (35.5, 25.5)
    assert (d.nuke_x, d.nuke_y) == (35.5, 80 - 25.5)
    assert d.bbox == (34, 24, 37, 27)


def test_a_scene_change_in_pieces_is_one_oversized_region_not_many_alerts():
    """Dots one dark pixel apart over 20x20 px add up to 100 px: above the area limit, once."""
    prob = np.zeros((40, 60), np.float32)
    prob[2:22:2, 2:22:2] = 0.95  # 100 one-pixel pieces
    prob[25:35, 40:50] = 0.95  # one region of 100 px
    prob[30, 36] = 0.95  # three dark pixels from it (a gap of 4): a defect of its own
    found = _find(prob, max_area=64)
    assert [(d.x, d.y, d.area) for d in found.detections] == [(36.5, 30.5, 1)]
    assert found.oversized_regions == 2


def test_a_piece_within_the_gap_of_a_large_region_belongs_to_it():
    prob = np.zeros((30, 30), np.float32)
    prob[5:15, 5:15] = 0.95
    prob[10, 17] = 0.95  # two dark pixels from the region: part of the same change
    found = _find(prob, max_area=64)
    assert found.detections == [] and found.oversized_regions == 1


def test_every_piece_of_one_cascade_footprint_joins_its_peak():
    """The cascade paints pixels up to FOOTPRINT px from a candidate: all within the gap."""
    from hotpixel.detect.cascade.detector import FOOTPRINT
    from hotpixel.detect.grouping import MERGE_GAP

    assert MERGE_GAP >= FOOTPRINT
    rng = np.random.default_rng(28)
    r = FOOTPRINT
    for _ in range(50):
        prob = np.zeros((2 * r + 1, 2 * r + 1), np.float32)
        prob[rng.random(prob.shape) < 0.2] = 0.9
        prob[r, r] = 0.95  # the candidate's own pixel is always painted
        assert len(_find(prob).detections) == 1


def test_merge_equals_labelling_a_dilated_mask():
    """Exact against the plain whole-frame rule: pixels at most MERGE_GAP apart are together."""
    from hotpixel.detect.grouping import GROUP_SHARE, MERGE_GAP

    rng = np.random.default_rng(5)
    eight = np.ones((3, 3), bool)
    for _ in range(20):
        prob = np.where(rng.random((48, 64)) < 0.05, rng.uniform(0.2, 1.0, (48, 64)), 0.0)
        grown, _ = ndimage.label(prob >= GROUP_SHARE * 0.9, structure=eight)
        flagged = np.isin(grown, np.unique(grown[prob >= 0.9])) & (grown > 0)
        # a (g, g) dilation joins 8-neighbours across at most g - 1 dark pixels
        square = np.ones((MERGE_GAP, MERGE_GAP), bool)
        merged, _ = ndimage.label(ndimage.binary_dilation(flagged, square), structure=eight)
        merged = np.where(flagged, merged, 0)
        boxes = ndimage.find_objects(merged)
        want = sorted(
            (int(np.count_nonzero(merged == i + 1)), (b[1].start, b[0].start, b[1].stop, b[0].stop))
            for i, b in enumerate(boxes)
            if b is not None
        )
        got = sorted((d.area, d.bbox) for d in _find(prob, max_area=10**6).detections)
        assert got == want


def test_merge_gap_zero_keeps_the_pieces():
    prob = np.zeros((24, 24), np.float32)
    _paint(prob, CORNERS["four corners"], 10, 10)
    assert len(_find(prob, merge_gap=0).detections) == 4
