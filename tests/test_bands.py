"""The candidate stage by row bands gives exactly what the whole-picture path gives.

The whole-picture path (``motion.align_slots`` then ``candidates.find`` and the cascade's
``encode``) is the definition the classifier was trained on; ``stage.find_candidates`` is what
the cascade, its training and fine-tuning run. Bands here are 16 rows, so a picture has many of
them, each edge between two bands inside the picture, and the picture's own edges in the first
and last.
"""

from __future__ import annotations

import dataclasses
import itertools
import pathlib

import numpy as np
import pytest

from hotpixel.detect import motion
from hotpixel.detect.cascade import candidates as cand
from hotpixel.detect.cascade import stage
from hotpixel.detect.cascade.encoding import PATCH, encode, encode_cutouts, encode_window
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
        got = stage.find_candidates(
            list(frames), numbers, cache, params, workers, pixels=16 * size[1]
        )
        found, ev, want = whole_picture(frames, numbers, params, scale)
        assert len(found) > 0
        assert_same_candidates(got.found, found)
        # what the detector paints with: the best score, and the best channel where it counts
        np.testing.assert_array_equal(got.best.score, ev.score.max(axis=2))
        kept = np.flatnonzero(ev.score.max(axis=2) >= params.threshold)
        np.testing.assert_array_equal(got.best.index, kept)
        np.testing.assert_array_equal(got.best.channel, ev.score.reshape(-1, 3)[kept].argmax(1))
        encoded = encode_window(got, PATCH)
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
    got = stage.find_candidates(
        list(stack), numbers, motion.MotionCache(workers=1), params, 1, pixels=16 * 70
    )
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
    got = stage.find_candidates(
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


@pytest.mark.parametrize("size", [(32, 16), (33, 17), (40, 20)])
def test_pictures_near_the_cutout_size_go_through_the_one_stage(size):
    """Small pictures need no path of their own: cutouts reflect as often as they must (the
    smallest the flow takes; smaller ones fall back to the classical test)."""
    frames = moving_window(np.random.default_rng(35), n=5, h=size[0], w=size[1])
    numbers = [0, 1, 2, 3, 4]
    params = cand.CandidateParams(threshold=1.0)
    got = stage.find_candidates(list(frames), numbers, motion.MotionCache(workers=1), params, 1)
    found, ev, want = whole_picture(frames, numbers, params)
    assert_same_candidates(got.found, found)
    np.testing.assert_array_equal(got.best.score, ev.score.max(axis=2))
    encoded = encode_window(got, PATCH)
    np.testing.assert_array_equal(encoded.patches, want.patches)
    np.testing.assert_array_equal(encoded.scalars, want.scalars)


@pytest.mark.parametrize("n", [1, 2, 3, 5, 9])
def test_cutouts_reflect_like_numpy_pad_for_any_picture_size(n):
    rng = np.random.default_rng(36)
    picture = rng.random((n, n + 1, 2), dtype=np.float32)
    r = 7
    ys, xs = np.meshgrid(np.arange(n), np.arange(n + 1), indexing="ij")
    got = cand.cutouts([picture], ys.ravel(), xs.ravel(), 2 * r + 1)[:, 0]
    padded = np.pad(picture, ((r, r), (r, r), (0, 0)), mode="reflect" if n > 1 else "edge")
    if n == 1:  # one row: every row of the cutout is that row
        padded = np.pad(picture, ((r, r), (0, 0), (0, 0)), mode="edge")
        padded = np.pad(padded, ((0, 0), (r, r), (0, 0)), mode="reflect")
    want = np.stack(
        [
            padded[y : y + 2 * r + 1, x : x + 2 * r + 1]
            for y, x in zip(ys.ravel(), xs.ravel(), strict=True)
        ]
    )
    np.testing.assert_array_equal(got, want)


def test_detection_training_and_benchmarks_all_run_the_one_candidate_stage(monkeypatch):
    """One function is the candidate stage: the detector, the trainer's collection (which
    fine-tuning shares) and the benchmarks' detector runs all go through it."""
    import hotpixel.detect.cascade.detector as detector_mod
    import hotpixel.ml.training.cascade_data as training
    from hotpixel.detect.cascade.detector import CascadeDetector
    from hotpixel.detect.windows import Window

    calls: list[str] = []
    real = stage.find_candidates

    def spy(*args, **kwargs):
        calls.append("called")
        return real(*args, **kwargs)

    monkeypatch.setattr(detector_mod, "find_candidates", spy)
    monkeypatch.setattr(training, "find_candidates", spy)
    frames = moving_window(np.random.default_rng(37), n=5, h=48, w=64)
    CascadeDetector(device="cpu")(Window(tuple(frames), (0, 1, 2, 3, 4), 2))
    assert calls == ["called"]
    target = np.zeros((48, 64), np.float32)
    training.collect(iter([(frames, [0, 1, 2, 3, 4], target, [])]), cand.CandidateParams(2.5))
    assert calls == ["called", "called"]
    # nothing else in the engine or the benchmarks reaches the candidate test itself
    root = pathlib.Path(__file__).resolve().parents[1]
    allowed = {"detect/cascade/stage.py", "detect/cascade/candidates.py", "detect/motion.py"}
    allowed.add("benchmarks/evidence.py")  # times the candidate test alone, not a detector run
    offenders = []
    engine = root / "engine" / "hotpixel"
    for path in [*engine.rglob("*.py"), *(root / "benchmarks").glob("*.py")]:
        rel = path.relative_to(engine) if "engine" in path.parts else path.relative_to(root)
        text = path.read_text(encoding="utf-8")
        whole_path = ("cand.evidence(", "align_slots(", "= align(", "cand.find(aligned")
        if str(rel) not in allowed and any(call in text for call in whole_path):
            offenders.append(str(rel))
    assert offenders == [], offenders
