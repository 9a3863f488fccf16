"""Motion compensation: flow recovers known shifts, marks occlusion, ignores spikes."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from hotpixel.detect.motion import MotionCache, align, consistency, flow_image, warp


def texture(rng: np.random.Generator, h: int = 128, w: int = 160) -> np.ndarray:
    """A smooth random scene ``(h, w, 3)`` float32 in about 0.02..0.8, detail at 3-10 px."""
    noise = rng.random((h, w, 3)).astype(np.float32)
    scene = cv2.GaussianBlur(noise, (0, 0), 2.0) + 0.5 * cv2.GaussianBlur(noise, (0, 0), 6.0)
    scene = (scene - scene.min()) / (scene.max() - scene.min())
    out: np.ndarray = (0.02 + 0.8 * scene**2).astype(np.float32)
    return out


def shifted(frame: np.ndarray, dx: float, dy: float) -> np.ndarray:
    """``frame`` with its content moved by ``(dx, dy)`` px (bilinear)."""
    m = np.array([[1, 0, dx], [0, 1, dy]], np.float32)
    out: np.ndarray = cv2.warpAffine(frame, m, frame.shape[1::-1], borderMode=cv2.BORDER_REFLECT)
    return out


def test_flow_image_is_8_bit_grey_and_takes_hdr_and_nan():
    frame = np.full((8, 8, 3), 0.18, np.float32)
    frame[0, 0] = np.nan
    frame[1, 1] = 65504.0
    frame[2, 2] = -1.0
    image = flow_image(frame)
    assert image.shape == (8, 8) and image.dtype == np.uint8


@pytest.mark.parametrize(("dx", "dy"), [(2.3, -1.6), (-4.7, 3.2), (0.4, 0.0)])
def test_known_subpixel_shift_recovered_to_a_tenth_of_a_pixel(dx: float, dy: float):
    rng = np.random.Generator(np.random.PCG64(1))
    centre = texture(rng)
    neighbour = shifted(centre, dx, dy)  # the point at x in the centre is at x + dx here
    cache = MotionCache()
    flow = cache.flow(0, centre, 1, neighbour)
    inner = flow[16:-16, 16:-16].reshape(-1, 2)
    assert np.median(inner[:, 0]) == pytest.approx(dx, abs=0.1)
    assert np.median(inner[:, 1]) == pytest.approx(dy, abs=0.1)
    # the neighbour warped back lands on the centre
    back = warp(neighbour, flow)
    assert np.abs(back - centre)[16:-16, 16:-16].mean() < 0.01


def test_occlusion_marked_low_confidence():
    rng = np.random.Generator(np.random.PCG64(2))
    background = texture(rng)
    square = texture(np.random.Generator(np.random.PCG64(3)))
    a, b = background.copy(), background.copy()
    a[40:80, 40:80] = square[40:80, 40:80]  # a square moves 12 px right over a still background
    b[40:80, 52:92] = square[40:80, 40:80]
    cache = MotionCache()
    motion = cache.motion(0, a, 1, b)
    # background that the square covers in b: visible in a, hidden in b
    hidden = motion.confidence[44:76, 82:90]
    still = motion.confidence[90:120, 10:150]
    assert np.median(still) > 0.9
    assert np.median(hidden) < 0.5


def test_points_carried_outside_the_picture_get_no_confidence():
    flow = np.zeros((10, 10, 2), np.float32)
    flow[..., 0] = 3.0
    conf = consistency(flow, -flow)
    assert conf[:, :6].min() > 0.99
    assert conf[:, 7:].max() == 0.0


def test_a_spike_does_not_drag_the_flow():
    rng = np.random.Generator(np.random.PCG64(4))
    centre = texture(rng)
    neighbour = shifted(centre, 3.0, 0.0)
    spiked = centre.copy()
    spiked[60:62, 70:72] = 20.0  # a 2x2 hot blob, far above the scene
    cache = MotionCache()
    clean = cache.flow(0, centre, 1, neighbour)
    with_spike = cache.flow(2, spiked, 1, neighbour)
    near = (slice(52, 70), slice(62, 80))
    assert np.abs(with_spike[near] - clean[near]).max() < 0.1
    assert np.median(with_spike[near][..., 0]) == pytest.approx(3.0, abs=0.1)


def test_cache_computes_each_pair_once_across_windows():
    rng = np.random.Generator(np.random.PCG64(5))
    base = texture(rng, 64, 80)
    frames = np.stack([shifted(base, 1.5 * k, 0.0) for k in range(7)])  # (7, 64, 80, 3)
    cache = MotionCache()
    for centre in range(2, 5):
        idx = list(range(centre - 2, centre + 3))
        aligned = align(frames[idx], idx, cache)
        assert aligned.frames.shape == (5, 64, 80, 3)
        assert aligned.confidence.shape == (5, 64, 80)
        assert np.array_equal(aligned.frames[2], frames[centre])
    # 3 windows x 4 pairs x 2 directions = 24 runs if nothing were shared; pairs are shared:
    # (2,0..4), (3,1..5), (4,2..6) are 12 ordered pairs, with backward ones 18 distinct
    assert cache.computed == 18


def test_mirrored_window_reuses_flow_and_centre_slot_is_identity():
    rng = np.random.Generator(np.random.PCG64(6))
    base = texture(rng, 48, 64)
    frames = np.stack([shifted(base, k, 0.0) for k in range(3)])
    idx = [2, 1, 0, 1, 2]  # the window at the start of a sequence
    cache = MotionCache()
    aligned = align(frames[idx], idx, cache)
    assert cache.computed == 4  # 0->1, 1->0, 0->2, 2->0
    assert np.array_equal(aligned.frames[0], aligned.frames[4])
    assert np.all(aligned.flow[2] == 0) and np.all(aligned.confidence[2] == 1)


def test_align_checks_shapes():
    with pytest.raises(ValueError, match="one number each"):
        align(np.zeros((5, 8, 8, 3), np.float32), [0, 1, 2], MotionCache())
    with pytest.raises(ValueError, match="unknown DIS preset"):
        MotionCache("slowest")


@pytest.mark.parametrize("scale", [1.0, 0.5])
def test_unrelated_pictures_across_a_cut_get_low_confidence(scale: float):
    """At a flow scale below 1 both checks run on the shrunk images; a cut still shows."""
    a = texture(np.random.Generator(np.random.PCG64(7)), 256, 320)
    b = texture(np.random.Generator(np.random.PCG64(8)), 256, 320) * 3.0
    motion = MotionCache(scale=scale).motion(0, a, 1, b)
    assert np.median(motion.confidence) < 0.3
    same = MotionCache(scale=scale).motion(0, a, 1, shifted(a, 2.0, 1.0))
    assert np.median(same.confidence) > 0.8
    # a flat picture: the flow is still and consistent both ways, only the match says no
    flat = MotionCache(scale=scale).motion(0, a, 1, np.full_like(a, 3.0))
    assert np.median(flat.confidence) < 0.3


def test_flow_at_half_size_is_kept_small_and_handed_out_at_full_size():
    """At scale 0.5 the cache stores the flow at half size (a quarter of the memory), hands it
    out at full size in full-size pixels, and judges consistency in full-size pixels."""
    rng = np.random.Generator(np.random.PCG64(2))
    centre = cv2.resize(texture(rng, 96, 120), (240, 192), interpolation=cv2.INTER_CUBIC)
    neighbour = shifted(centre, 4.6, -2.4)
    cache = MotionCache(scale=0.5)
    motions = cache.motions(0, centre, [(1, neighbour)])
    assert all(f.shape == (96, 120, 2) for f in cache._flows.values())
    flow = motions[1].flow
    assert flow.shape == (192, 240, 2)
    inner = flow[24:-24, 24:-24].reshape(-1, 2)
    assert np.median(inner[:, 0]) == pytest.approx(4.6, abs=0.15)
    assert np.median(inner[:, 1]) == pytest.approx(-2.4, abs=0.15)
    assert np.median(motions[1].confidence[24:-24, 24:-24]) > 0.9
    # a round trip 1 px off at half size is 2 px at full size: well past the 0.7 px slack
    small = np.zeros((96, 120, 2), np.float32)
    off = small.copy()
    off[..., 0] = 1.0
    assert consistency(small, off, slack=0.35)[40, 60] < 0.05
    assert consistency(small, off)[40, 60] > 0.3


def test_flow_image_by_rows_is_the_whole_frame_expression():
    """flow_image works a few rows at a time (small temporaries at 4K); the numbers are those
    of the plain expression over the whole frame."""
    rng = np.random.default_rng(9)
    frame = (rng.random((301, 977, 3), dtype=np.float32) ** 3) * 40.0
    frame[5, 5] = np.nan
    frame[7, 9] = -2.0
    grey = frame @ np.array([0.2126, 0.7152, 0.0722], np.float32)
    grey = np.nan_to_num(np.maximum(grey, 0.0), nan=0.0, posinf=1e6)
    grey = grey / (1.0 + grey)
    code = np.where(grey <= 0.0031308, 12.92 * grey, 1.055 * np.power(grey, 1 / 2.4) - 0.055)
    want = cv2.medianBlur((code * 255.0 + 0.5).astype(np.uint8), 3)
    assert frame.shape[0] * frame.shape[1] > 1 << 18  # several blocks of rows
    np.testing.assert_array_equal(flow_image(frame), want)
