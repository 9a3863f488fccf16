"""The real-motion evaluation set: segments per motion class, defects in every frame,
counts merged across segments. Runs on a small clip made in code (no download)."""

from __future__ import annotations

import numpy as np
import pytest

from hotpixel.detect.detectors.classical import ClassicalDetector
from hotpixel.ml import realvideo
from hotpixel.ml.evaluation import real_motion
from hotpixel.ml.evaluation.harness import Scored


def _clip(count: int, h: int = 200, w: int = 240) -> np.ndarray:
    """``(count, h, w, 3)`` a dim textured wall, a little grain: scene-linear float32."""
    rng = np.random.default_rng(11)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    wall = 0.04 + 0.02 * np.sin(xx / 5.0) * np.cos(yy / 7.0)
    base = np.repeat(wall[..., None], 3, axis=2)
    return np.stack(
        [base + rng.normal(0, 0.001, base.shape).astype(np.float32) for _ in range(count)]
    ).astype(np.float32)


@pytest.fixture
def fake_clip(monkeypatch):
    monkeypatch.setitem(realvideo.SPLITS, "test", ("wall",))
    monkeypatch.setattr(realvideo, "clip_path", lambda name, cache=None: name)
    monkeypatch.setattr(realvideo, "count_frames", lambda path: 40)
    monkeypatch.setattr(realvideo, "load", lambda name, start=0, count=None: _clip(count or 40))


def test_segments_carry_defects_in_every_frame(fake_clip):
    (seg,) = list(real_motion.segments("locked", 6, seed=3))
    assert (seg.clip, seg.motion, len(seg.samples)) == ("wall", "locked", 6)
    for s in seg.samples:
        assert s.frames.shape == (5, 200, 240, 3)
        assert len(s.defects) > 0 and s.target.max() > 0
    # the windows are views of one segment: neighbouring samples share their frames
    assert np.shares_memory(seg.samples[0].frames, seg.samples[1].frames)
    # each frame has its own defects: the centre's defects are not in its neighbours
    s = seg.samples[2]
    d = s.defects[0]
    y, x = int(d.y), int(d.x)
    assert s.frames[2, y, x].max() > s.frames[0, y, x].max()


def test_segments_are_reproducible_and_split_long_requests(fake_clip):
    a = [len(s.samples) for s in real_motion.segments("pan", 30, seed=4)]
    assert a == [real_motion.SEGMENT, 30 - real_motion.SEGMENT]
    one = next(real_motion.segments("handheld", 3, seed=5)).samples[1].frames
    two = next(real_motion.segments("handheld", 3, seed=5)).samples[1].frames
    np.testing.assert_array_equal(one, two)


def test_evaluate_merges_every_segment_per_class(fake_clip):
    out = real_motion.evaluate({"classical": ClassicalDetector()}, frames=4, seed=6)
    assert set(out) == set(real_motion.CLASSES)
    for motion in real_motion.CLASSES:
        sc = out[motion]["classical"]
        assert sc.frames == 4 and sc.pixels % 4 == 0 and sc.pixels <= 4 * 200 * 240
        assert len(sc.contrast) == sum(len(c.found) for c in [sc.at[0.5]])
        r = real_motion.row(sc, 0.5)
        assert 0.0 <= r["recall_all"] <= 1.0
        scale = 1920 * 1080 / (sc.pixels / 4)
        assert r["false_alerts_per_1080p_frame"] == pytest.approx(
            r["false_alerts_per_frame"] * scale
        )
    # a static wall with bright one-frame spots: the temporal test finds the bright ones (3x
    # the level and more; the 2x-3x ones are few per draw, and the classical test's weak spot)
    locked = out["locked"]["classical"]
    found = np.array(locked.at[0.5].found, bool)
    bright = np.array(locked.contrast) >= 2.0
    assert bright.sum() >= 10 and found[bright].mean() > 0.8


def test_merge_adds_counts():
    a, b = Scored(), Scored()
    a.at[0.5].hits, b.at[0.5].hits = 2, 3
    a.at[0.5].found, b.at[0.5].found = [True], [False, True]
    b.frames, b.pixels, b.contrast = 1, 10, [0.7, 2.0]
    real_motion.merge(a, b)
    assert (a.at[0.5].hits, a.at[0.5].found, a.frames, a.pixels) == (5, [True, False, True], 1, 10)
    assert a.contrast == [0.7, 2.0]


def test_reliability_reads_score_bands_off_the_sweep():
    sc = Scored()
    # 10 detections at or above 0.9 (8 real), 4 of them at or above 0.95 (4 real)
    sc.at[0.9].detections, sc.at[0.9].hits = 10, 8
    sc.at[0.95].detections, sc.at[0.95].hits = 4, 4
    bands = {(b["from"], b["to"]): b for b in real_motion.reliability(sc)}
    assert bands[(0.9, 0.95)]["detections"] == 6
    assert bands[(0.9, 0.95)]["defects"] == pytest.approx(4 / 6)
    assert bands[(0.95, 0.97)] == {"from": 0.95, "to": 0.97, "detections": 4, "defects": 1.0}
    assert bands[(0.999, 1.0)]["defects"] == -1  # empty band
