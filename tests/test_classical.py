"""The classical detector: what it must flag and what it must leave alone."""

from __future__ import annotations

import numpy as np
import pytest

from hotpixel.detect.detectors.classical import ClassicalDetector, ring_max
from hotpixel.detect.windows import Window
from imagegen import dark_plate


def _window(frames, numbers=(1, 2, 3, 4, 5)):
    return Window(tuple(frames), tuple(numbers), len(frames) // 2)


def _frames(seed=0, n=5):
    rng = np.random.default_rng(seed)
    base = dark_plate(rng)
    return [base + rng.normal(0, 0.001, base.shape).astype(np.float32) for _ in range(n)]


def test_shapes_and_range():
    prob = ClassicalDetector()(_window(_frames()))
    assert prob.shape == (48, 64) and prob.dtype == np.float32
    assert np.all((prob >= 0) & (prob <= 1))


@pytest.mark.parametrize("shape", ["single", "blob2", "blob3", "plus"])
def test_one_frame_defects_are_flagged(shape):
    frames = _frames(1)
    centre = frames[2]
    if shape == "single":
        centre[20, 30] = 1.0
    elif shape == "blob2":
        centre[20:22, 30:32] = 1.0
    elif shape == "blob3":
        centre[19:22, 29:32] = 0.6
        centre[20, 30] = 1.0
    else:
        centre[20, 29:32] = 0.5
        centre[19:22, 30] = 0.5
        centre[20, 30] = 1.0
    prob = ClassicalDetector()(_window(frames))
    assert prob[20, 30] > 0.9
    assert np.count_nonzero(prob > 0.5) <= 9


def test_single_channel_defect_is_flagged():
    frames = _frames(2)
    frames[2][10, 10, 2] = 0.5  # blue only
    assert ClassicalDetector()(_window(frames))[10, 10] > 0.9


def test_moving_glint_is_not_flagged():
    """A bright point moving 2 px per frame persists: a glint, not a hot pixel."""
    frames = _frames(3)
    for t, f in enumerate(frames):
        f[24, 20 + 2 * t] = 5.0
    assert ClassicalDetector(motion_tolerance=3)(_window(frames)).max() < 0.5


def test_static_light_is_not_flagged():
    frames = _frames(4)
    for f in frames:
        f[12, 40] = 2.0
    assert ClassicalDetector()(_window(frames)).max() < 0.5


def test_subpixel_blurred_neighbours_do_not_make_a_sharp_light_a_defect():
    """The same light, sharp in the centre, spread over 2x2 in the neighbours (sub-pixel pan)."""
    frames = _frames(5)
    for t, f in enumerate(frames):
        if t == 2:
            f[30, 30] = 4.0
        else:
            f[30:32, 30:32] = 1.0
    assert ClassicalDetector()(_window(frames)).max() < 0.5


def test_flash_in_centre_frame_does_not_flag_texture():
    frames = _frames(6)
    frames[2] = frames[2] * 3.0
    assert np.count_nonzero(ClassicalDetector()(_window(frames)) > 0.5) == 0


def test_scene_cut_inside_window_does_not_flag_the_frame():
    rng = np.random.default_rng(7)
    a, b = dark_plate(rng), dark_plate(rng)[::-1, ::-1].copy() * 1.5
    frames = [a, a.copy(), b, b.copy(), b.copy()]
    assert np.count_nonzero(ClassicalDetector()(_window(frames)) > 0.5) == 0


def test_no_context_uses_spatial_evidence_only():
    """A one-frame run: the window repeats the centre; a hot pixel must still be found."""
    frame = _frames(8)[0]
    frame[5, 5] = 1.0
    window = Window((frame,) * 5, (7, 7, 7, 7, 7), 2)
    assert not window.has_context
    assert ClassicalDetector()(window)[5, 5] > 0.9


def test_ring_max_excludes_the_inner_3x3():
    m = np.zeros((9, 9), np.float32)
    m[4, 4] = 1.0
    m[3:6, 3:6] = np.maximum(m[3:6, 3:6], 0.5)
    assert ring_max(m)[4, 4] == 0.0
    m[2, 6] = 0.7  # on the ring (distance 2)
    assert ring_max(m)[4, 4] == pytest.approx(0.7)


def test_tiny_images_do_not_crash():
    for h, w in [(1, 1), (2, 3), (5, 5)]:
        frames = [np.full((h, w, 3), 0.1, np.float32) for _ in range(5)]
        prob = ClassicalDetector()(_window(frames))
        assert prob.shape == (h, w) and np.isfinite(prob).all()
