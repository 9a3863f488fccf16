"""The candidate stage by row bands gives exactly what the whole-picture path gives (issue 20).

The whole-picture path (``motion.align_slots`` then ``candidates.find`` and the cascade's
``encode``) is the definition the classifier was trained on; ``detect.bands`` is what the
cascade runs. Bands here are 16 rows, so a picture has many of them, each edge between two
bands inside the picture, and the picture's own edges in the first and last.
"""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pytest

from hotpixel.detect import bands, motion
from hotpixel.detect import candidates as cand
from hotpixel.detect.detectors.cascade import PATCH, encode, encode_cutouts
from test_speed_paths import assert_same_candidates, moving_window

PLANS = ([2, 1, 0, 1, 2], [3, 0, 1, 2, 3], [0, 1, 2, 3, 4], [2, 3, 4, 5, 6])


def whole_picture(
    frames: np.ndarray, numbers: list[int], params: cand.CandidateParams, scale: float = 1.0
):
    cache = motion.MotionCache(workers=1, scale=scale)
    aligned = motion.align_slots(list(frames), numbers, cache)
    found, ev = cand.find(aligned.frames, aligned.confidence, aligned.flow, params)
    return found, ev, encode(aligned.frames, list(frames), aligned.confidence, found)


@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize("params", [cand.CandidateParams(), cand.CandidateParams(threshold=2.5)])
@pytest.mark.parametrize(
    ("scale", "size"), [(1.0, (150, 124)), (0.5, (150, 124)), (0.5, (151, 125))]
)
def test_bands_match_the_whole_picture(workers, params, scale, size):
    """At scale 0.5 a 150x124 picture reads its flow by rows, a 151x125 one whole."""
    all_frames = moving_window(np.random.default_rng(31), h=size[0], w=size[1])
    cache = motion.MotionCache(workers=workers, scale=scale)
    for numbers in PLANS:
        frames = all_frames[numbers]
        got = bands.find(list(frames), numbers, cache, params, workers, pixels=16 * size[1])
        found, ev, want = whole_picture(frames, numbers, params, scale)
        assert len(found) > 0
        assert_same_candidates(got.found, found)
        # what the detector paints with: the best score, and the best channel where it counts
        np.testing.assert_array_equal(got.best.score, ev.score.max(axis=2))
        kept = np.flatnonzero(ev.score.max(axis=2) >= params.threshold)
        np.testing.assert_array_equal(got.best.index, kept)
        np.testing.assert_array_equal(got.best.channel, ev.score.reshape(-1, 3)[kept].argmax(1))
        encoded = encode_cutouts(
            got.aligned_cutouts(PATCH),
            cand.cutouts(list(frames), found.y, found.x, PATCH),
            got.confidence_cutouts(PATCH),
            got.found,
        )
        np.testing.assert_array_equal(encoded.patches, want.patches)
        np.testing.assert_array_equal(encoded.scalars, want.scalars)


def test_the_band_edges_fall_inside_the_picture_and_cover_it():
    assert motion.row_blocks(100, 10, pixels=300) == [(0, 30), (30, 60), (60, 90), (90, 100)]
    assert motion.row_blocks(20, 4000, pixels=16000) == [(0, 16), (16, 20)]  # 16 rows at least
    rows = motion.row_blocks(2160, 3840)
    assert rows[0][0] == 0 and rows[-1][1] == 2160
    assert all(a[1] == b[0] for a, b in itertools.pairwise(rows))


def test_a_neighbour_slot_showing_the_centre_picture_counts_as_the_centre():
    """A slot with the centre's own number (a short run) is the centre, fully trusted."""
    frames = moving_window(np.random.default_rng(32), n=3, h=60, w=70)
    numbers = [1, 0, 1, 2, 1]  # the centre's picture again in slots 0 and 4
    stack = frames[numbers]
    params = cand.CandidateParams(threshold=2.5)
    got = bands.find(list(stack), numbers, motion.MotionCache(workers=1), params, 1, pixels=16 * 70)
    found, _, want = whole_picture(stack, numbers, params)
    assert_same_candidates(got.found, found)
    conf = got.confidence_cutouts(PATCH)
    assert np.all(conf[:, [0, 2, 4]] == 1.0)
    aligned = got.aligned_cutouts(PATCH)
    np.testing.assert_array_equal(aligned[:, 0], aligned[:, 2])
    raw = cand.cutouts(list(stack), found.y, found.x, PATCH)
    encoded = encode_cutouts(aligned, raw, conf, got.found)
    np.testing.assert_array_equal(encoded.patches, want.patches)


def test_the_candidate_fields_are_the_definitions_types():
    frames = moving_window(np.random.default_rng(33), n=5, h=40, w=48)
    got = bands.find(
        list(frames), [0, 1, 2, 3, 4], motion.MotionCache(workers=1), cand.CandidateParams(2.5)
    )
    found, _, _ = whole_picture(frames, [0, 1, 2, 3, 4], cand.CandidateParams(2.5))
    for f in dataclasses.fields(cand.Candidates):
        assert getattr(got.found, f.name).dtype == getattr(found, f.name).dtype, f.name


@pytest.mark.parametrize("scale", [0.5, 0.25])
def test_a_flow_read_by_rows_is_the_whole_flow_scaled_up(scale):
    rng = np.random.default_rng(34)
    k = round(1 / scale)
    stored = rng.normal(0.0, 3.0, (37, 29, 2)).astype(np.float32)
    flow = motion.FullFlow(stored, (37 * k, 29 * k), scale)
    whole = flow.whole()
    assert whole.shape == (37 * k, 29 * k, 2)
    for top, bottom in [(0, 1), (0, 16), (5, 40), (17 * k, 37 * k), (37 * k - 1, 37 * k)]:
        np.testing.assert_array_equal(flow.rows(top, bottom), whole[top:bottom])
    ys = rng.integers(0, 37 * k, (40, 3, 3))
    xs = rng.integers(0, 29 * k, (40, 3, 3))
    np.testing.assert_array_equal(flow.at(ys, xs), whole[ys, xs])
