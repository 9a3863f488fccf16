"""The candidate stage: per-channel aligned residuals, features and cutouts."""

from __future__ import annotations

import numpy as np
import pytest

from hotpixel.detect.cascade.candidates import CandidateParams, cutouts, find, local_level
from hotpixel.detect.motion import MotionCache, align
from test_motion import shifted, texture


def moving_window(seed: int, dx: float = 2.5, grain: float = 0.004) -> np.ndarray:
    """``(5, 96, 128, 3)`` float32: a textured scene panning ``dx`` px/frame, with grain."""
    rng = np.random.Generator(np.random.PCG64(seed))
    base = texture(rng, 96, 128)
    frames = np.stack([shifted(base, dx * (t - 2), 0.0) for t in range(5)])
    frames += rng.normal(0.0, grain, frames.shape).astype(np.float32)
    return frames.astype(np.float32)


def test_defect_only_in_blue_is_found_in_the_blue_channel():
    frames = moving_window(10)
    y, x = 50, 70
    level = float(frames[2, y, x, 2])
    frames[2, y, x, 2] += max(level, 0.02) * 1.5  # 2.5x its level in blue; red, green untouched
    aligned = align(frames, range(5), MotionCache())
    found, _ = find(aligned.frames, aligned.confidence, aligned.flow)
    near = (np.abs(found.y - y) <= 1) & (np.abs(found.x - x) <= 1)
    assert near.sum() == 1
    assert found.channel[near][0] == 2


def test_a_static_window_gives_few_candidates_and_finds_a_dim_spike():
    frames = moving_window(11, dx=0.0)
    frames[2, 30, 40] += max(float(frames[2, 30, 40].max()), 0.02)  # white, 2x its level
    found, _ = find(frames)
    assert len(found) <= 3
    assert np.any((found.y == 30) & (found.x == 40))


def test_moving_scene_flow_finds_defects_a_tolerance_window_loses():
    frames = moving_window(12, dx=6.0)
    spots = [(15 + 10 * (i // 6), 15 + 18 * (i % 6)) for i in range(42)]  # (y, x) 10-18 px apart
    for y, x in spots:
        frames[2, y, x] += 2.0 * np.maximum(frames[2, y, x], 0.02)  # 3x its level
    aligned = align(frames, range(5), MotionCache())
    with_flow, _ = find(aligned.frames, aligned.confidence, aligned.flow)
    without, _ = find(frames, params=CandidateParams(tolerance=3))

    def found(c: object) -> int:
        hits = {(int(y), int(x)) for y, x in zip(c.y, c.x, strict=True)}  # type: ignore[attr-defined]
        return sum((y, x) in hits for y, x in spots)

    assert found(with_flow) == len(spots)
    assert found(without) < 0.8 * len(spots)
    assert len(with_flow) <= len(spots) + 2


def test_a_glint_present_in_every_frame_is_not_a_candidate():
    frames = moving_window(13, dx=3.0)
    for t in range(5):  # a small light moving with the scene
        frames[t, 48, 60 + 3 * (t - 2)] += 1.0
    aligned = align(frames, range(5), MotionCache())
    found, _ = find(aligned.frames, aligned.confidence, aligned.flow)
    assert not np.any((np.abs(found.y - 48) <= 2) & (np.abs(found.x - 60) <= 2))


def test_features_and_cutouts_shapes():
    frames = moving_window(14)
    frames[2, 20, 30, 0] += 0.5
    frames[2, 70, 100] += 0.5
    aligned = align(frames, range(5), MotionCache())
    found, evidence = find(aligned.frames, aligned.confidence, aligned.flow)
    assert len(found) >= 2
    matrix, names = found.features()
    assert matrix.shape == (len(found), len(names)) and matrix.dtype == np.float32
    assert {"score", "residual", "sigma", "channel", "confidence", "level", "contrast"} <= set(
        names
    )
    assert evidence.score.shape == (96, 128, 3)
    patches = cutouts(aligned.frames, found.y, found.x, 15)
    assert patches.shape == (len(found), 5, 15, 15, 3)
    i = int(np.argmax((found.y == 20) & (found.x == 30)))
    assert patches[i, 2, 7, 7, 0] == pytest.approx(frames[2, 20, 30, 0])
    conf = cutouts(aligned.confidence[..., None], found.y, found.x, 9)
    assert conf.shape == (len(found), 5, 9, 9, 1)
    corner = cutouts(frames, np.array([0]), np.array([0]), 5)  # reflected at the border
    assert corner[0, 2, 2, 2] == pytest.approx(frames[2, 0, 0])
    assert corner[0, 2, 0, 0] == pytest.approx(frames[2, 2, 2])
    empty = found.select(np.zeros(len(found), bool))
    assert len(empty) == 0 and empty.features()[0].shape == (0, len(names))


def test_local_level_ignores_the_3x3_core():
    frame = np.full((9, 9, 1), 0.1, np.float32)
    frame[3:6, 3:6] = 5.0
    assert local_level(frame)[4, 4, 0] == pytest.approx(0.1)


def test_cutouts_check_arguments():
    with pytest.raises(ValueError, match="odd"):
        cutouts(np.zeros((5, 8, 8, 3)), np.array([1]), np.array([1]), 4)


def test_defect_next_to_a_cut_is_found_from_the_frames_on_its_side():
    """Regression: across a cut the far neighbours' content hid defects."""
    frames = moving_window(15, dx=2.0)
    other = moving_window(16, dx=2.0) * 3.0  # a brighter, different shot after the cut
    frames[3:] = other[3:]
    y, x = 40, 60
    frames[2, y, x] += 2.0 * max(float(frames[2, y, x].max()), 0.02)
    aligned = align(frames, range(5), MotionCache())
    found, _ = find(aligned.frames, aligned.confidence, aligned.flow)
    assert np.any((np.abs(found.y - y) <= 1) & (np.abs(found.x - x) <= 1))
    assert len(found) <= 5
