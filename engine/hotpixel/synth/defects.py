"""Injected hot pixels: symmetrical shapes placed by a dark-and-static heatmap.

Shapes are symmetric along at least one axis, as real hot pixels are: a single photosite, a
plus, a 2x2 and a 3x3 blob with symmetric fall-off, in one dominant channel or white. The
brightness is set relative to the local background, from faint to far above 1.0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

SHAPES: dict[str, np.ndarray] = {
    "single": np.array([[1.0]]),
    "plus": np.array([[0.0, 0.5, 0.0], [0.5, 1.0, 0.5], [0.0, 0.5, 0.0]]),
    "blob2": np.ones((2, 2)),
    "blob3": np.array([[0.4, 0.7, 0.4], [0.7, 1.0, 0.7], [0.4, 0.7, 0.4]]),
}
COLOURS: dict[str, np.ndarray] = {
    "white": np.array([1.0, 1.0, 1.0]),
    "red": np.array([1.0, 0.15, 0.1]),
    "green": np.array([0.15, 1.0, 0.15]),
    "blue": np.array([0.1, 0.2, 1.0]),
    "magenta": np.array([1.0, 0.2, 1.0]),
}


@dataclass(frozen=True)
class Defect:
    """An injected defect; ``x, y`` is its true centroid in the coordinate contract."""

    frame: int
    x: float
    y: float
    shape: str
    colour: str
    contrast: float  # peak / local background - 1

    def as_dict(self) -> dict[str, object]:
        return {
            "frame": self.frame,
            "x": self.x,
            "y": self.y,
            "shape": self.shape,
            "colour": self.colour,
            "contrast": round(self.contrast, 3),
        }


def placement_heatmap(window: list[np.ndarray], uniform_share: float = 0.2) -> np.ndarray:
    """``(H, W)`` probabilities favouring dark, static places (sums to 1).

    Darkness from the centre frame's luminance, stillness from the largest absolute difference
    to the other frames; ``uniform_share`` of the mass is spread everywhere so bright and busy
    areas are covered too.
    """
    centre = window[len(window) // 2]
    luma = np.maximum(centre.mean(axis=-1), 0.0)
    dark = 1.0 / (1.0 + 20.0 * luma)
    motion = np.zeros_like(luma)
    for f in window:
        motion = np.maximum(motion, np.abs(f.mean(axis=-1) - centre.mean(axis=-1)))
    still = np.exp(-motion / (0.05 * (luma + 0.02)))
    heat = ndimage.uniform_filter(dark * still, 5)
    heat = heat / heat.sum()
    mixed: np.ndarray = (1.0 - uniform_share) * heat + uniform_share / heat.size
    heat_out: np.ndarray = mixed / mixed.sum()
    return heat_out


def inject(
    frame: np.ndarray,
    frame_number: int,
    heatmap: np.ndarray,
    count: int,
    rng: np.random.Generator,
    contrast: tuple[float, float] = (0.5, 50.0),
) -> list[Defect]:
    """Paint ``count`` hot pixels into ``frame`` (in place) at places drawn from ``heatmap``.

    Contrast is drawn log-uniformly; the peak is ``background * (1 + contrast)`` with the
    background floored at 0.02 so defects on black are visible. Defects keep 6 px apart and
    5 px from the border.
    """
    h, w = heatmap.shape
    placed: list[Defect] = []
    flat = heatmap.ravel()
    for _ in range(count * 20):
        if len(placed) == count:
            break
        idx = int(rng.choice(flat.size, p=flat))
        y, x = divmod(idx, w)
        if not (5 <= x < w - 5 and 5 <= y < h - 5):
            continue
        if any(abs(d.x - x) < 6 and abs(d.y - y) < 6 for d in placed):
            continue
        placed.append(_paint(frame, frame_number, x, y, rng, contrast))
    return placed


def _paint(
    frame: np.ndarray,
    number: int,
    x: int,
    y: int,
    rng: np.random.Generator,
    contrast_range: tuple[float, float],
) -> Defect:
    shape_name = str(rng.choice(list(SHAPES)))
    colour_name = str(rng.choice(list(COLOURS)))
    shape = SHAPES[shape_name]
    colour = COLOURS[colour_name]
    lo, hi = np.log(contrast_range[0]), np.log(contrast_range[1])
    contrast = float(np.exp(rng.uniform(lo, hi)))
    sh, sw = shape.shape
    y0, x0 = y - sh // 2, x - sw // 2
    patch = frame[y0 : y0 + sh, x0 : x0 + sw]
    background = max(float(np.median(frame[y - 3 : y + 4, x - 3 : x + 4].max(axis=-1))), 0.02)
    peak = background * (1.0 + contrast)
    add = shape[..., None] * colour[None, None, :] * peak
    np.maximum(patch, add.astype(np.float32), out=patch)
    cx, cy = x0 + sw / 2.0, y0 + sh / 2.0
    return Defect(number, cx, cy, shape_name, colour_name, contrast)
