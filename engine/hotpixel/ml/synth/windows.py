"""Training and evaluation windows: real plates in motion, defects and hard negatives.

One function, :func:`make_window`, makes every sample the project uses (training, tests,
evaluation, benchmarks): five ``(h, w, 3)`` frames cut from a real plate along a camera path,
with grain, the centre frame carrying injected one-frame defects, and hard negatives.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import ndimage

from hotpixel.ml.synth import negatives
from hotpixel.ml.synth.defects import Defect, inject, placement_heatmap

WINDOW = 5


@dataclass(frozen=True)
class WindowConfig:
    """How samples vary. Ranges are (low, high), drawn uniformly unless said otherwise."""

    size: tuple[int, int] = (64, 64)  # (w, h)
    zoom: tuple[float, float] = (0.6, 1.6)  # plate pixels per output pixel
    exposure_stops: tuple[float, float] = (-4.0, 1.5)
    speed: tuple[float, float] = (0.0, 3.5)  # camera pan, px/frame
    grain: tuple[float, float] = (0.001, 0.02)
    defects: tuple[int, int] = (0, 4)
    contrast: tuple[float, float] = (0.1, 100.0)  # log-uniform, relative to the background
    curvilinear_share: float = 0.25
    points: tuple[int, int] = (0, 4)  # persistent glints, lights, stars
    point_speed: float = 3.0  # the fastest the points move on their own, px/frame
    stuck: tuple[int, int] = (0, 1)
    flash_rate: float = 0.05
    cut_rate: float = 0.05
    mirror_rate: float = 0.0  # windows mirrored as at a sequence's ends (t+2, t+1, t, t+1, t+2)
    # share of the placement mass put 1-4 px beside the persistent points' paths, where a defect
    # sits within the motion tolerance of a light that is brighter in a neighbouring frame
    beside_points_share: float = 0.0


@dataclass
class Sample:
    """``frames`` ``(T, h, w, 3)`` float32; ``target`` ``(h, w)`` 1 on centre-frame defects."""

    frames: np.ndarray
    target: np.ndarray
    hard: np.ndarray  # (h, w) bool, where hard negatives were put
    defects: list[Defect] = field(default_factory=list)
    grain: float = 0.0  # noise sd at level v is grain * sqrt(v + 0.01) (see :func:`render`)

    def snr(self, d: Defect) -> float:
        """How many noise sigmas ``d``'s peak stands above its background (approximate)."""
        sigma = self.grain * float(np.sqrt(d.background + 0.01))
        return d.background * d.contrast / sigma if sigma > 0 else float("inf")

    def faint(self, min_snr: float) -> np.ndarray:
        """``(h, w)`` bool: the labelled footprints (grown by 1 px) of defects below ``min_snr``.

        A footprint is an 8-connected region of ``target``; one shared with a defect at or
        above ``min_snr`` is not faint.
        """
        out = np.zeros(self.target.shape, bool)
        if min_snr <= 0 or not self.defects:
            return out
        labels, count = ndimage.label(self.target > 0, np.ones((3, 3), int))
        if count == 0:
            return out
        # every pixel's nearest labelled pixel, so a curve's centroid off the curve finds it
        _, (iy, ix) = ndimage.distance_transform_edt(labels == 0, return_indices=True)
        h, w = self.target.shape
        faint: set[int] = set()
        strong: set[int] = set()
        for d in self.defects:
            y, x = min(max(int(d.y), 0), h - 1), min(max(int(d.x), 0), w - 1)
            region = int(labels[iy[y, x], ix[y, x]])
            (faint if self.snr(d) < min_snr else strong).add(region)
        chosen = sorted(faint - strong)
        if chosen:
            out = ndimage.binary_dilation(np.isin(labels, chosen), np.ones((3, 3), bool))
        return out


def render(
    plate: np.ndarray, rng: np.random.Generator, config: WindowConfig, frames: int = WINDOW
) -> tuple[list[np.ndarray], float]:
    """Frames ``(h, w, 3)`` cut from ``plate`` along a random camera path, with grain.

    Also returns the grain scale: the noise standard deviation at level ``v`` is
    ``grain * sqrt(v + 0.01)``.
    """
    w, h = config.size
    zoom = rng.uniform(*config.zoom)
    speed = rng.uniform(*config.speed) if rng.random() < 0.85 else 0.0
    angle = rng.uniform(0, 2 * np.pi)
    exposure = np.float32(2.0 ** rng.uniform(*config.exposure_stops))
    grain = rng.uniform(*config.grain)
    span_x, span_y = w * zoom + 2 * speed * frames + 4, h * zoom + 2 * speed * frames + 4
    ox = rng.uniform(0, max(plate.shape[1] - span_x, 1)) + speed * frames + 2
    oy = rng.uniform(0, max(plate.shape[0] - span_y, 1)) + speed * frames + 2
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    out = []
    for t in range(frames):
        dx = speed * np.cos(angle) * (t - frames // 2) + rng.normal(0, 0.2)
        dy = speed * np.sin(angle) * (t - frames // 2) + rng.normal(0, 0.2)
        coords = [oy + dy + yy * zoom, ox + dx + xx * zoom]
        rgb = np.stack(
            [
                ndimage.map_coordinates(plate[..., c], coords, order=1, mode="reflect")
                for c in range(3)
            ],
            axis=-1,
        )
        rgb = rgb * exposure
        noise = rng.normal(0.0, 1.0, rgb.shape) * grain * np.sqrt(np.maximum(rgb, 0) + 0.01)
        out.append((rgb + noise).astype(np.float32))
    return out, float(grain)


def make_window(
    plates: list[np.ndarray], rng: np.random.Generator, config: WindowConfig | None = None
) -> Sample:
    """One labelled window from a random plate of ``plates``."""
    config = config or WindowConfig()
    plate = plates[int(rng.integers(len(plates)))]
    frames, grain = render(plate, rng, config)
    w, h = config.size
    hard = np.zeros((h, w), bool)
    points = negatives.add_points(
        frames,
        rng,
        int(rng.integers(*config.points, endpoint=True)),
        max_speed=config.point_speed,
        twinkle=rng.choice([0.0, 0.3]),
    )
    hard |= points
    hard |= negatives.add_stuck(frames, rng, int(rng.integers(*config.stuck, endpoint=True)))
    if rng.random() < config.flash_rate:
        negatives.flash(frames, rng)
    if rng.random() < config.cut_rate:
        other = plates[int(rng.integers(len(plates)))]
        negatives.cut(frames, render(other, rng, config)[0], rng)
    if rng.random() < config.mirror_rate:
        at_start = rng.random() < 0.5
        for t in range(WINDOW // 2):
            src = WINDOW - 1 - t
            if at_start:
                frames[t] = frames[src].copy()
            else:
                frames[src] = frames[t].copy()
    target = np.zeros((h, w), np.float32)
    centre = WINDOW // 2
    heat = placement_heatmap(frames)
    if config.beside_points_share > 0 and points.any():
        heat = beside(heat, points, config.beside_points_share)
    count = int(rng.integers(*config.defects, endpoint=True))
    defects = inject(
        frames[centre], 0, heat, count, rng, config.contrast, target, config.curvilinear_share
    )
    return Sample(np.stack(frames), target, hard, defects, grain)


def beside(heat: np.ndarray, points: np.ndarray, share: float) -> np.ndarray:
    """``heat`` with ``share`` of its mass moved to the pixels 1-4 px from ``points``."""
    distance = ndimage.distance_transform_edt(~points)
    ring = ((distance >= 1) & (distance <= 4)).astype(np.float64)
    if not ring.any():
        return heat
    out: np.ndarray = (1.0 - share) * heat / heat.sum() + share * ring / ring.sum()
    return out
