"""The synthetic pixel-error generator: determinism, shapes, labels, placement, negatives."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from hotpixel.ml.synth import negatives
from hotpixel.ml.synth.defects import (
    APART,
    LABEL_LEVEL,
    SHAPES,
    curve_shape,
    inject,
    placement_heatmap,
)
from hotpixel.ml.synth.plates import EVAL_PLATES, bundled_plates, load_plate, training_plate_names
from hotpixel.ml.synth.windows import WindowConfig, make_window


@pytest.fixture(scope="module")
def plates():
    return [load_plate(n) for n in training_plate_names()[:2]]


def test_bundled_plates_and_held_out_split():
    names = bundled_plates()
    assert len(names) == 8
    assert set(EVAL_PLATES) <= set(names)
    assert not set(EVAL_PLATES) & set(training_plate_names())
    plate = load_plate("night")
    assert plate.shape == (512, 1024, 3) and plate.dtype == np.float32
    assert plate.max() > 100.0  # real scene-linear highlights, far above 1.0


def test_same_seed_same_window(plates):
    a = make_window(plates, np.random.default_rng(5))
    b = make_window(plates, np.random.default_rng(5))
    np.testing.assert_array_equal(a.frames, b.frames)
    np.testing.assert_array_equal(a.target, b.target)
    assert a.defects == b.defects
    c = make_window(plates, np.random.default_rng(6))
    assert not np.array_equal(a.frames, c.frames)


def test_window_shapes_and_labels(plates):
    config = WindowConfig(size=(80, 48), defects=(3, 3))
    s = make_window(plates, np.random.default_rng(1), config)
    assert s.frames.shape == (5, 48, 80, 3) and s.frames.dtype == np.float32
    assert s.target.shape == (48, 80) and s.hard.shape == (48, 80)
    assert len(s.defects) == 3
    for d in s.defects:  # every true centroid sits on labelled pixels
        assert s.target[int(d.y), int(d.x)] == 1.0 or s.target[int(d.y - 0.5), int(d.x - 0.5)] == 1


def test_defects_are_one_frame_only(plates):
    config = WindowConfig(size=(64, 64), defects=(4, 4), points=(0, 0), stuck=(0, 0),
                          flash_rate=0, cut_rate=0, grain=(0.0, 0.0))  # fmt: skip
    s = make_window(plates, np.random.default_rng(2), config)
    d = s.defects[0]
    x, y = int(d.x), int(d.y)
    centre = s.frames[2, y - 1 : y + 1, x - 1 : x + 1].max()
    others = max(s.frames[t, y - 1 : y + 1, x - 1 : x + 1].max() for t in (0, 1, 3, 4))
    assert centre > others


def test_symmetric_shapes_are_symmetric():
    for name, shape in SHAPES.items():
        assert np.allclose(shape, shape[::-1]) or np.allclose(shape, shape[:, ::-1]), name


def test_curves_are_connected_lines():
    from scipy import ndimage

    for seed in range(20):
        patch = curve_shape(np.random.default_rng(seed))
        assert patch.max() == 1.0
        labelled = patch >= LABEL_LEVEL
        assert 2 <= labelled.sum() <= 20
        _, groups = ndimage.label(labelled, structure=np.ones((3, 3)))
        assert groups <= 2


def test_heatmap_favours_dark_static_areas():
    bright = np.full((40, 40, 3), 2.0, np.float32)
    frames = [bright.copy() for _ in range(5)]
    for f in frames:
        f[:, :20] = 0.01  # dark left half
    for t, f in enumerate(frames):  # a moving texture in the top rows
        f[:10] = np.random.default_rng(t).uniform(0, 1, (10, 40, 3))
    heat = placement_heatmap(frames)
    assert heat.sum() == pytest.approx(1.0)
    dark_static = heat[15:, :20].mean()
    assert dark_static > 5 * heat[15:, 20:].mean()  # dark beats bright
    assert dark_static > 5 * heat[:8, :20].mean()  # static beats moving
    assert heat.min() > 0  # a share lands anywhere


def test_inject_respects_count_spacing_and_label():
    frame = np.full((50, 50, 3), 0.05, np.float32)
    heat = np.full((50, 50), 1 / 2500)
    label = np.zeros((50, 50), np.float32)
    placed = inject(frame, 7, heat, 5, np.random.default_rng(3), label=label)
    assert len(placed) == 5 and all(d.frame == 7 for d in placed)
    for a in placed:
        for b in placed:
            if a is not b:
                assert max(abs(a.x - b.x), abs(a.y - b.y)) >= 5
    assert label.sum() >= 5 and frame.max() > 0.05


def test_hard_negatives_persist_across_the_window():
    frames = [np.full((32, 32, 3), 0.02, np.float32) for _ in range(5)]
    touched = negatives.add_points(frames, np.random.default_rng(4), 1, max_speed=0.0)
    assert touched.any()
    peaks = [f.max() for f in frames]
    assert min(peaks) > 0.1  # present in every frame
    stuck = negatives.add_stuck(frames, np.random.default_rng(5), 2)
    ys, xs = np.nonzero(stuck)
    assert all(np.allclose(frames[0][y, x], frames[4][y, x]) for y, x in zip(ys, xs, strict=True))


def test_defects_can_be_placed_beside_moving_lights(plates):
    config = WindowConfig(size=(96, 96), defects=(3, 3), points=(2, 2), stuck=(0, 0),
                          flash_rate=0, cut_rate=0, curvilinear_share=0,
                          beside_points_share=1.0)  # fmt: skip
    for seed in range(4):
        s = make_window(plates, np.random.default_rng(seed), config)
        assert s.defects
        # every defect's centre lies 1-4 px (up to the shape's half-width more) from a point
        # footprint, i.e. within the motion tolerance of a light in some frame of the window
        ys, xs = np.nonzero(s.hard)
        for d in s.defects:
            nearest = np.hypot(xs + 0.5 - d.x, ys + 0.5 - d.y).min()
            assert 0.5 <= nearest <= 6.0


def test_faint_marks_only_the_footprints_of_defects_below_the_snr(plates):
    config = WindowConfig(size=(96, 96), defects=(6, 6), points=(0, 0), stuck=(0, 0),
                          flash_rate=0, cut_rate=0, contrast=(0.1, 30.0))  # fmt: skip
    seen_faint = seen_strong = False
    for seed in range(6):
        s = make_window(plates, np.random.default_rng(seed), config)
        assert not s.faint(0.0).any()
        faint = s.faint(5.0)
        assert not (
            faint & (s.target == 0) & ~ndimage.binary_dilation(s.target > 0, np.ones((3, 3), bool))
        ).any()
        for d in s.defects:
            y, x = int(d.y), int(d.x)
            near = faint[max(y - 1, 0) : y + 2, max(x - 1, 0) : x + 2].any()
            if s.snr(d) < 5.0:
                seen_faint = True
                assert near, f"faint defect at ({d.x}, {d.y}) not marked"
            else:
                seen_strong = True
                assert not faint[y, x], f"strong defect at ({d.x}, {d.y}) marked faint"
    assert seen_faint and seen_strong


def test_inject_keeps_apart_from_the_neighbouring_frames_defects():
    frame = np.full((60, 60, 3), 0.1, np.float32)
    heat = np.zeros((60, 60), np.float32)
    heat[20:30, 20:30] = 1.0  # every draw lands in one small patch
    near = inject(frame.copy(), 0, heat, 1, np.random.default_rng(0))
    rng = np.random.default_rng(1)
    placed = inject(frame.copy(), 1, heat, 3, rng, apart=near)
    for d in placed:
        assert max(abs(d.x - near[0].x), abs(d.y - near[0].y)) >= APART
    free = inject(frame.copy(), 1, heat, 3, np.random.default_rng(1))
    assert any(max(abs(d.x - near[0].x), abs(d.y - near[0].y)) < APART for d in free)


def test_particles_cross_the_picture_for_a_few_frames():
    frames = [np.full((120, 160, 3), 0.05, np.float32) for _ in range(8)]
    before = [f.copy() for f in frames]
    where = negatives.add_particles(frames, np.random.default_rng(4), per_frame=1.0)
    assert len(where) == len(frames)
    assert sum(int(w.sum()) for w in where) > 0
    for f, b, w in zip(frames, before, where, strict=True):
        change = np.abs(f - b).max(axis=2)
        assert (change[~w] <= 0.06 * change.max()).all()  # each marked where it is above 5%
    # one particle: it lives at least two frames, somewhere else in each
    single = [np.full((200, 200, 3), 0.05, np.float32) for _ in range(6)]
    for seed in range(20):
        marks = negatives.add_particles(single, np.random.default_rng(seed), per_frame=0.2)
        lit = [i for i, m in enumerate(marks) if m.any()]
        if len(lit) >= 2:
            a, b = (ndimage.center_of_mass(marks[i]) for i in lit[:2])
            assert np.hypot(a[0] - b[0], a[1] - b[1]) > 3.0
            break
    else:
        pytest.fail("no particle lived two frames in 20 seeds")
