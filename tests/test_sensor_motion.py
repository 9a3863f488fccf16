"""Per-photosite motion evidence on locked-off shots: moving objects over a static
background are evidence only where they pass, and clipped highlights are not stuck."""

from __future__ import annotations

import numpy as np

from hotpixel.io.geometry import Geometry
from hotpixel.ml.synth.plates import load_plate, put_in_motion
from hotpixel.sensor import ShotAnalysis

W, H, FRAMES = 128, 96, 24
STUCK = (70, 48)  # column, row: on the moving object's path
STUCK_RGB = np.array([0.9, 0.25, 0.2], np.float32)


def _locked_off(seed: int = 4) -> list[np.ndarray]:
    """The city plate, locked off, with grain; a textured 32x32 object crosses the middle at
    2 px/frame from left to right."""
    rng = np.random.default_rng(seed)
    still = load_plate("city")
    frames = put_in_motion(still, np.zeros((FRAMES, 2)), (W, H), rng)
    patch = still[190:222, 590:622] * np.float32(1.5)  # (32, 32, 3) texture from elsewhere
    out = []
    for i, f in enumerate(frames):
        f = f.copy()
        x0 = 20 + 2 * i
        if x0 + 32 <= W:
            f[32:64, x0 : x0 + 32] = patch * rng.normal(1.0, 0.02, patch.shape).astype(np.float32)
        out.append(f)
    return out


def _analyse(frames: list[np.ndarray]):
    analysis = ShotAnalysis(H, W)
    for i, f in enumerate(frames):
        analysis.add(1001 + i, f)
    return analysis.finish(Geometry.simple(W, H))


def test_locked_off_shot_with_a_moving_object_reports_nothing():
    findings = _analyse(_locked_off())
    assert findings.defects == []
    assert findings.evidence_frames == 0  # the typical photosite saw nothing move
    assert findings.warnings and findings.warnings[0]["code"] == "insufficient_motion"


def test_stuck_pixel_under_a_moving_object_is_found_by_motion():
    frames = _locked_off()
    x, y = STUCK
    for f in frames:
        f[y, x] = STUCK_RGB
    findings = _analyse(frames)
    hits = [d for d in findings.defects if [x + 0.5, y + 0.5] in d["members"]]
    assert len(hits) == 1 and hits[0]["kind"] == "stuck"
    assert "motion" in hits[0]["evidence"] and hits[0]["evidence_frames"] >= 4
    assert hits[0]["reason"].startswith("motion: the content under it changed")
    assert len(findings.defects) == 1


def test_clipped_static_highlight_is_not_stuck():
    """A static practical clipped at the shot's ceiling holds still, as does its whole area,
    while the grain around it varies: that is the picture, not a stuck photosite."""
    frames = _locked_off()
    for f in frames:
        f[10:13, 100:103] = 1.0  # a small clipped light
        f[80:86, 10:16] = 1.0  # a larger clipped area sharing the clip level
        np.minimum(f, 1.0, out=f)
    findings = _analyse(frames)
    assert not [d for d in findings.defects if d["kind"] == "stuck"]
    assert findings.defects == []
