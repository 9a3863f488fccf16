"""`hotpixel eval`'s matching and figures: recall, false alerts, contrast and signal-over-noise."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from hotpixel.ml.evaluation.harness import (
    DETECTABLE_SNR,
    THRESHOLDS,
    evaluation_set,
    hard_negative_set,
    matched_recall,
    metrics,
    operating,
    recall_at_false_alert_rate,
    score_detector,
)
from hotpixel.ml.synth.windows import WindowConfig

SMALL = WindowConfig(size=(128, 96), defects=(4, 6), points=(2, 3), flash_rate=0, cut_rate=0)


@pytest.fixture(scope="module")
def samples():
    return evaluation_set(["night"], 4, seed=3, config=SMALL)


def _replay(maps):
    it = iter(maps)
    return lambda window: next(it)


def test_a_detector_that_sees_the_truth_finds_every_defect(samples):
    scored = score_detector(_replay([s.target for s in samples]), samples)
    m = metrics(scored, 0.5)
    assert m["truths"] == sum(len(s.defects) for s in samples) > 0
    assert m["recall"] == 1.0 and m["false_alerts"] == 0 and m["precision"] == 1.0
    assert m["recall_detectable"] == 1.0
    assert recall_at_false_alert_rate(scored, 0.02, "recall_detectable") == 1.0


def test_false_alerts_and_misses_are_counted(samples):
    maps = []
    for s in samples:
        prob = np.zeros_like(s.target)
        prob[2, 2] = 1.0  # nowhere near a defect (they keep off the border)
        maps.append(prob)
    m = metrics(score_detector(_replay(maps), samples), 0.5)
    assert m["recall"] == 0.0 and m["false_alerts"] == len(samples)
    assert m["false_alerts_per_frame"] == 1.0


def test_signal_over_noise_follows_contrast_background_and_grain(samples):
    s = next(s for s in samples if s.defects)
    assert SMALL.grain[0] <= s.grain <= SMALL.grain[1]
    d = s.defects[0]
    assert d.background > 0
    expected = d.background * d.contrast / (s.grain * np.sqrt(d.background + 0.01))
    assert s.snr(d) == pytest.approx(expected)
    # the grain the generator claims is the grain in the frames: frame-to-frame differences,
    # in units of grain * sqrt(level + 0.01), have the spread of a difference of two unit
    # normals (median |z| = 0.954) wherever the (slightly shaken) picture is smooth
    config = WindowConfig(size=(64, 64), defects=(0, 0), points=(0, 0), stuck=(0, 0),
                          speed=(0, 0), flash_rate=0, cut_rate=0, grain=(0.02, 0.02))  # fmt: skip
    flat = evaluation_set(["night"], 1, seed=8, config=config)[0]
    level = np.maximum(flat.frames.mean(axis=0), 0)
    z = (flat.frames[1] - flat.frames[3]) / (flat.grain * np.sqrt(level + 0.01))
    assert 0.8 < float(np.median(np.abs(z))) < 1.3


def test_detectable_share_is_reported_per_snr_bin(samples):
    scored = score_detector(_replay([s.target for s in samples]), samples)
    m = metrics(scored, 0.5)
    snr = np.array(scored.snr)
    assert m["detectable_truths"] == int((snr >= DETECTABLE_SNR).sum())
    present = [v for v in m["recall_by_snr"].values() if v is not None]
    assert present and all(v == 1.0 for v in present)


def test_hard_negative_set_is_crowded_and_holds_no_defect():
    (s,) = hard_negative_set(["night"], 1, seed=5)
    assert s.frames.shape == (5, 1080, 1920, 3)
    assert not s.defects and not s.target.any()
    _, lights = ndimage.label(s.hard)
    assert lights >= 100


def test_matched_recall_compares_false_alerts_at_the_same_recall(samples):
    # "ours" finds every defect at full confidence and fires on no hard negative; "other"
    # finds them at 0.6 and fires at 0.6 on every hard-negative footprint
    hard = [s for s in samples if s.hard.any()]
    assert hard
    ours = score_detector(_replay([s.target for s in samples]), samples)
    ours_hard = score_detector(_replay([np.zeros_like(s.target) for s in hard]), hard)
    other = score_detector(_replay([s.target * 0.6 for s in samples]), samples)
    other_hard = score_detector(_replay([s.hard * np.float32(0.6) for s in hard]), hard)
    rows = matched_recall(ours, ours_hard, other, other_hard)
    assert rows and all(r["recall"] == 1.0 for r in rows)
    assert {r["other_threshold"] for r in rows} == {t for t in THRESHOLDS if t <= 0.6}
    assert all(r["threshold"] == max(THRESHOLDS) and r["on_hard"] == 0 for r in rows)
    assert all(r["other_on_hard"] > 0 and r["other_on_hard"] == r["other_false"] for r in rows)


def test_the_hard_negative_comparison_keeps_usable_thresholds_only():
    rows = [
        {"false_alerts_per_frame": 4000.0, "other_false_alerts_per_frame": 2.0},
        {"false_alerts_per_frame": 1.0, "other_false_alerts_per_frame": 30.0},
        {"false_alerts_per_frame": 1.0, "other_false_alerts_per_frame": 8.0},
    ]
    assert operating(rows) == rows[2:]
    assert operating(rows, limit=50.0) == rows[1:]
