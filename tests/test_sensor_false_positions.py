"""False positions found on real clips, each reduced to its cause: the reflected
median at the picture's edge, highlights held by the ceiling of display-referred video, still
blocks of compressed video a code or two off their neighbours, and persistence scores where the
content's evidence frames are not independent."""

from __future__ import annotations

import numpy as np

from hotpixel.io.geometry import Geometry
from hotpixel.ml.synth.plates import load_plate, put_in_motion
from hotpixel.sensor import SensorParams, ShotAnalysis
from hotpixel.sensor.background import background, residual
from hotpixel.sensor.classify import NEAR_CLIP, PERSISTENT_FLOOR, _persistence_test
from hotpixel.sensor.stats import ShotStats

W, H, FRAMES = 96, 72, 20


def _analyse(frames: list[np.ndarray]):
    h, w = frames[0].shape[:2]
    analysis = ShotAnalysis(h, w)
    for i, f in enumerate(frames):
        analysis.add(1001 + i, f)
    return analysis.finish(Geometry.simple(w, h))


def _locked_off(seed: int = 3) -> list[np.ndarray]:
    """The city plate, locked off, with grain."""
    rng = np.random.default_rng(seed)
    return put_in_motion(load_plate("city"), np.zeros((FRAMES, 2)), (W, H), rng)


def test_edge_rows_do_not_depart_on_a_gradient_across_the_edge():
    """The reflected 5x5 window of an edge row holds the next row twice: on a gradient across
    the edge the old median made the whole row depart, the same way in every frame."""
    ramp = np.linspace(0.1, 0.9, 40, dtype=np.float32)
    t = np.repeat(np.repeat(ramp[:, None, None], 30, axis=1), 3, axis=2)
    r, _, _ = residual(t, 3.0)
    inner = np.abs(r[:, 1:-1])  # the corners keep the 5x5 median
    assert float(inner.max()) < 1e-6
    columns = np.abs(residual(np.ascontiguousarray(t.transpose(1, 0, 2)), 3.0)[0][1:-1])
    assert float(columns.max()) < 1e-6
    # a dead photosite on the edge row still departs from the median along the row
    t[0, 12] = 0.0
    assert float(background(t)[0, 12, 0]) > 0.05
    assert float(residual(t, 3.0)[0][0, 12, 0]) < -0.05


def test_held_highlight_near_the_clip_level_is_not_stuck():
    """Compressed video holds a highlight a code or two below its clip level still while the
    edge of the highlight flickers; within 1/8 stop of a clip level invariance proves nothing."""
    frames = _locked_off()
    rng = np.random.default_rng(8)
    level = np.float32(NEAR_CLIP * 1.0 + 0.01)  # inside the band, below the clip level
    for f in frames:
        np.minimum(f, 1.0, out=f)
        f[5:10, 5:10] = 1.0  # a clipped area shares the clip level
        # the flickering edge of a highlight: 2% grain around 0.75
        f[34:47, 54:67] = rng.normal(0.75, 0.015, (13, 13, 3)).astype(np.float32)
        f[40, 60] = level  # held still, 0.3 stop above its neighbours
        f[40, 30] = 0.03  # and a photosite clearly stuck, far from any highlight
    found = _analyse(frames)
    positions = {(round(d["x"] - 0.5), round(d["y"] - 0.5)) for d in found.defects}
    assert (60, 40) not in positions
    assert (30, 40) in positions
    stuck = [d for d in found.defects if (round(d["x"] - 0.5), round(d["y"] - 0.5)) == (30, 40)]
    assert stuck[0]["kind"] in ("stuck", "dead") and "invariance" in stuck[0]["evidence"]


def test_still_block_a_code_off_its_neighbours_is_not_stuck():
    """A block copied from frame to frame in compressed video is exactly still, and about a
    code off its flickering neighbours: too little departure to be a visible stuck photosite
    (it departs by more than the per-frame floor, so it used to pass as stuck)."""
    frames = _locked_off()
    rng = np.random.default_rng(9)
    off = np.float32(2.0 ** (0.75 * PERSISTENT_FLOOR * 8))  # 3/4 of the floor, in gain
    for f in frames:
        f[30:41, 35:46] = rng.normal(0.5, 0.01, (11, 11, 3)).astype(np.float32)
        f[35, 40] = 0.5 * off
    found = _analyse(frames)
    assert not [d for d in found.defects if 38 <= d["x"] <= 43 and 33 <= d["y"] <= 38]


def _stats_with_scores(spread: float, centre: float, n_ev: int = 30) -> ShotStats:
    """A 41x41 ShotStats whose persistence scores are ``spread`` (alternating sign) around a
    centre pixel scoring ``centre``, all with ``n_ev`` evidence frames and a mean departure
    well above the floor the same way."""
    st = ShotStats(41, 41)
    st.n[...] = n_ev
    st.n_ev[...] = n_ev
    signs = np.where((np.indices((41, 41)).sum(axis=0) % 2) == 0, 1.0, -1.0)
    scores = spread * signs
    scores[20, 20] = centre
    st.sum_un[...] = (scores * np.sqrt(n_ev))[..., None].astype(np.float32)
    st.sum_r[...] = (np.sign(scores) * 0.1 * n_ev)[..., None].astype(np.float32)
    return st


def test_persistence_score_must_stand_above_its_neighbours_spread():
    """Where the scores around a pixel spread wide (evidence frames that are not independent:
    a pan going back and forth, soft or upscaled footage), a score just over --persistence is
    what that content does, not a photosite fixed on the sensor."""
    p = SensorParams()
    quiet, _, _ = _persistence_test(_stats_with_scores(0.3, 4.0), p)
    assert quiet[20, 20]
    busy, _, _ = _persistence_test(_stats_with_scores(1.0, 4.0), p)
    assert not busy[20, 20]
    strong, _, _ = _persistence_test(_stats_with_scores(1.0, 12.0), p)
    assert strong[20, 20]
