"""The sensor pass on locked-off shots: lone photosites sharper than the optics, with a constant
offset while the exposure changes, are hot pixels; blurred point sources (stars, small lights)
that stand as still are not (regression: a locked-off shot confirmed nothing)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from hotpixel.io.geometry import Geometry
from hotpixel.ml import realsensor
from hotpixel.ml.realvideo import shared_data_dir
from hotpixel.sensor import SensorParams, ShotAnalysis
from hotpixel.sensor import optics as lens

H = W = 96
HOT = [(20, 30), (70, 15), (50, 60), (15, 80)]  # (x, y) additive offsets
STARS = [(30.4, 70.2, 0.0), (75.0, 75.0, 0.04), (60.3, 30.6, 0.0)]  # x, y, px/frame drift


def _scene(rng: np.random.Generator) -> np.ndarray:
    """A locked-off picture through optics of gaussian spread 0.8 px: blocks, a gradient."""
    sharp = np.full((H, W), 0.08, np.float32) + np.linspace(0.0, 0.04, W, dtype=np.float32)
    for _ in range(6):
        x, y = rng.integers(5, W - 25, 2)
        sharp[y : y + rng.integers(8, 20), x : x + rng.integers(8, 20)] += rng.uniform(0.1, 0.3)
    out: np.ndarray = ndimage.gaussian_filter(sharp, 0.8)
    return out


def _star(x: float, y: float) -> np.ndarray:
    yy, xx = np.mgrid[0:H, 0:W]
    out: np.ndarray = np.exp(-((xx - x) ** 2 + (yy - y) ** 2) / (2 * 0.8**2)).astype(np.float32)
    return out


def _shot(frames: int = 30, seed: int = 7) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    scene = _scene(rng)
    shot = []
    for t in range(frames):
        exposure = rng.uniform(0.6, 1.4)  # the light (or the exposure) changes from frame to frame
        f = scene * exposure
        for x, y, drift in STARS:
            f = f + 0.4 * exposure * rng.uniform(0.8, 1.2) * _star(x + drift * t, y)
        f = f + rng.normal(0.0, 0.002, f.shape).astype(np.float32)
        for x, y in HOT:
            f[y, x] += 0.06  # dark charge: the same offset whatever the exposure
        shot.append(np.repeat(f[..., None], 3, axis=2).astype(np.float32))
    return shot


def _run(frames: list[np.ndarray]) -> tuple[list[dict], dict]:
    h, w = frames[0].shape[:2]
    a = ShotAnalysis(h, w, SensorParams())
    for i, f in enumerate(frames):
        a.add(1001 + i, f)
    found = a.finish(Geometry.simple(w, h))
    return found.defects, found.optics


def test_lone_photosites_with_a_constant_offset_are_hot_and_blurred_points_are_not():
    defects, optics = _run(_shot())
    where = {(int(d["x"]), int(d["y"])): d for d in defects}
    assert set(where) == set(HOT)  # every offset, and no star
    for d in defects:
        assert (d["kind"], d["evidence"], d["area"]) == ("hot", "footprint", 1)
        assert "footprint:" in d["reason"] and "optics" in d["reason"]
    # the optics were measured from the picture's edges, not assumed
    assert optics["edges"] >= lens.MIN_EDGES and 0.5 < optics["spread"] < 1.2


def test_a_lone_point_that_follows_the_exposure_is_not_hot():
    """A one-photosite point of light as sharp as an offset, but whose excess scales with the
    exposure (a scene light that happens to fall on one photosite), is not reported: the
    offset must hold while the level around it changes."""
    rng = np.random.default_rng(11)
    shot = _shot()
    light = (40, 45)
    for f in shot:
        level = float(np.median(f[light[1] - 2 : light[1] + 3, light[0] - 2 : light[0] + 3]))
        f[light[1], light[0]] += 0.6 * level * rng.uniform(0.95, 1.05)
    defects, _ = _run(shot)
    found = {(int(d["x"]), int(d["y"])) for d in defects}
    assert light not in found and set(HOT) <= found


def test_optics_measure_matches_a_known_blur():
    """Squares through gaussian optics onto square photosites (made at 8x and averaged down):
    the spread measured from their edges is the optics' own."""
    rng = np.random.default_rng(3)
    fine = np.zeros((128 * 8, 128 * 8), np.float32)
    for _ in range(20):
        x, y = rng.integers(0, 110 * 8, 2)
        fine[y : y + 120, x : x + 120] += 1.0
    for spread in (0.5, 1.0):
        blurred = ndimage.gaussian_filter(fine, spread * 8)
        picture = blurred.reshape(128, 8, 128, 8).mean(axis=(1, 3))
        picture = picture + rng.normal(0, 1e-3, picture.shape)
        got = lens.measure(picture.astype(np.float32))
        assert got.spread is not None and abs(got.spread - spread) < 0.25 * spread
    flat = lens.measure(np.full((64, 64), 0.1, np.float32))
    assert flat.spread is None and flat.edges < lens.MIN_EDGES


def test_no_edges_means_no_footprint_confirmation_and_says_so():
    """A picture with no measurable edge (flat grey) confirms no lone photosite, and says why."""
    rng = np.random.default_rng(5)
    frames = []
    for _ in range(20):
        f = np.full((64, 64), 0.1, np.float32)
        f = f + rng.normal(0.0, 0.002, f.shape).astype(np.float32)
        f[30, 30] += 0.06
        frames.append(np.repeat(f[..., None], 3, axis=2))
    h, w = 64, 64
    a = ShotAnalysis(h, w)
    for i, f in enumerate(frames):
        a.add(1001 + i, f)
    found = a.finish(Geometry.simple(w, h))
    assert not found.defects and found.optics["spill_allowed"] is None
    assert "needed to measure its optics" in found.warnings[0]["message"]
    (candidate,) = found.candidates
    assert (candidate["x"], candidate["y"]) == (30.5, 30.5)
    assert "footprint not judged" in candidate["reason"]


def _real_or_skip(name: str) -> None:
    if not (shared_data_dir() / "sensor" / name).is_dir():
        pytest.skip(f"the real sensor sequence {name} is missing (set HOTPIXEL_SHARED_DATA)")


def test_real_ccd_hot_photosites_are_reported_and_a_real_star_is_not():
    """On a real locked-off all-sky CCD, each position reported is one photosite whose excess
    over its 5x5 median stays where it is and as it is over the shot (checked here from the
    frames); on a real near-infrared CCD a slowly moving, nearly pixel-sharp star is not."""
    _real_or_skip("themis_ccd_allsky_120f")
    frames = realsensor.load("themis_ccd_allsky_120f", 40)
    defects, _ = _run(list(frames))
    assert defects
    grey = frames[..., 0]
    for d in defects:
        x, y = int(d["x"]), int(d["y"])
        assert d["area"] == 1 and d["kind"] == "hot"
        excess = []
        for part in np.array_split(grey, 3):
            mean = part.mean(axis=0)
            assert mean[y - 1 : y + 2, x - 1 : x + 2].max() == mean[y, x]
            excess.append(mean[y, x] - np.median(mean[y - 2 : y + 3, x - 2 : x + 3]))
        assert np.ptp(excess) <= 0.25 * np.mean(excess)
    _real_or_skip("trex_nir_ccd_60f")
    nir, _ = _run(list(realsensor.load("trex_nir_ccd_60f", 40)))
    assert not [d for d in nir if abs(d["x"] - 154.5) < 3 and abs(d["y"] - 100.5) < 3]
