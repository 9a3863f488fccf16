"""Injected hot pixels: symmetrical and curvilinear shapes placed by a dark-and-static heatmap.

Symmetrical shapes are symmetric along at least one axis, as most real hot pixels are: a single
photosite, a plus, a 2x2 and a 3x3 blob with symmetric fall-off, a cross-shaped colour fringe as
demosaicing leaves around a hot photosite, in one dominant channel or white. Curvilinear shapes
are short faint arcs and irregular lines a few pixels long. The brightness is set relative to
the local background, from barely visible to far above 1.0.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

SHAPES: dict[str, np.ndarray] = {
    "single": np.array([[1.0]]),
    "plus": np.array([[0.0, 0.5, 0.0], [0.5, 1.0, 0.5], [0.0, 0.5, 0.0]]),
    "blob2": np.ones((2, 2)),
    "blob3": np.array([[0.4, 0.7, 0.4], [0.7, 1.0, 0.7], [0.4, 0.7, 0.4]]),
    "fringe": np.array([[0.0, 0.4, 0.0], [0.4, 1.0, 0.4], [0.0, 0.4, 0.0]]),
    "hline": np.array([[0.6, 1.0, 0.6]]),
    "vline": np.array([[0.6], [1.0], [0.6]]),
}
APART = 10  # px a defect keeps from those of the frames around it (see inject)
LABEL_LEVEL = 0.3  # pixels carrying at least this share of a defect's peak are labelled 1
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
    background: float = 0.0  # the local background level the contrast is relative to

    def as_dict(self) -> dict[str, object]:
        return {
            "frame": self.frame,
            "x": self.x,
            "y": self.y,
            "shape": self.shape,
            "colour": self.colour,
            "contrast": round(self.contrast, 3),
            "background": round(self.background, 6),
        }


def placement_heatmap(window: list[np.ndarray], uniform_share: float = 0.2) -> np.ndarray:
    """``(H, W)`` probabilities favouring dark, static places (sums to 1).

    Darkness from the centre frame's luminance, stillness from the largest absolute difference
    to the other frames; ``uniform_share`` of the mass is spread everywhere so bright and busy
    areas are covered too.
    """

    def luma_of(frame: np.ndarray) -> np.ndarray:
        luma: np.ndarray = np.clip(np.nan_to_num(frame.mean(axis=-1), nan=0.0), 0.0, 1e4)
        return luma

    luma = luma_of(window[len(window) // 2])
    dark = 1.0 / (1.0 + 20.0 * luma)
    motion = np.zeros_like(luma)
    for f in window:
        motion = np.maximum(motion, np.abs(luma_of(f) - luma))
    still = np.exp(-motion / (0.05 * (luma + 0.02)))
    heat = ndimage.uniform_filter(dark * still, 5)
    heat = np.nan_to_num(heat, nan=0.0) + 1e-12  # a cut or a flash can leave nothing still
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
    label: np.ndarray | None = None,
    curvilinear_share: float = 0.0,
    apart: Sequence[Defect] = (),
) -> list[Defect]:
    """Paint ``count`` hot pixels into ``frame`` (in place) at places drawn from ``heatmap``.

    Contrast is drawn log-uniformly; the peak is ``background * (1 + contrast)`` with the
    background floored at 0.02 so defects on black are visible. Defects keep 6 px apart and
    5 px from the border, and :data:`APART` px from the defects of ``apart`` (those of the
    frames around this one: independent one-frame defects at a real sensor's rate almost never
    fall within a few pixels of each other on neighbouring frames, so a test set dense with
    defects must not make them do so).
    """
    h, w = heatmap.shape
    placed: list[Defect] = []
    flat = heatmap.ravel().astype(np.float64)
    flat = flat / flat.sum()
    for _ in range(count * 20):
        if len(placed) == count:
            break
        idx = int(rng.choice(flat.size, p=flat))
        y, x = divmod(idx, w)
        if not (5 <= x < w - 5 and 5 <= y < h - 5):
            continue
        if any(abs(d.x - x) < 6 and abs(d.y - y) < 6 for d in placed):
            continue
        if any(abs(d.x - x) < APART and abs(d.y - y) < APART for d in apart):
            continue
        curved = rng.random() < curvilinear_share
        shape = curve_shape(rng) if curved else None
        placed.append(_paint(frame, frame_number, x, y, rng, contrast, label, shape))
    return placed


def curve_shape(rng: np.random.Generator) -> np.ndarray:
    """A short arc or irregular line, 3-8 px long, as a ``(7, 7)`` weight patch peaking at 1."""
    patch = np.zeros((7, 7))
    length = rng.uniform(3.0, 8.0)
    angle = rng.uniform(0, np.pi)
    bend = rng.uniform(-0.5, 0.5)
    for t in np.linspace(-0.5, 0.5, 24):
        a = angle + bend * t * 2
        px = 3.0 + length * t * np.cos(a) + rng.normal(0, 0.15)
        py = 3.0 + length * t * np.sin(a) + rng.normal(0, 0.15)
        x0, y0 = int(np.floor(px)), int(np.floor(py))
        fx, fy = px - x0, py - y0
        for dy, dx, wgt in (
            (0, 0, (1 - fx) * (1 - fy)),
            (0, 1, fx * (1 - fy)),
            (1, 0, (1 - fx) * fy),
            (1, 1, fx * fy),
        ):
            if 0 <= y0 + dy < 7 and 0 <= x0 + dx < 7:
                patch[y0 + dy, x0 + dx] += wgt
    patch *= rng.uniform(0.6, 1.0, patch.shape)  # irregular brightness along the line
    curve: np.ndarray = patch / patch.max()
    return curve


def _paint(
    frame: np.ndarray,
    number: int,
    x: int,
    y: int,
    rng: np.random.Generator,
    contrast_range: tuple[float, float],
    label: np.ndarray | None,
    curve: np.ndarray | None,
) -> Defect:
    shape_name = "curve" if curve is not None else str(rng.choice(list(SHAPES)))
    colour_name = str(rng.choice(list(COLOURS)))
    shape = curve if curve is not None else SHAPES[shape_name]
    colour = COLOURS[colour_name]
    lo, hi = np.log(contrast_range[0]), np.log(contrast_range[1])
    contrast = float(np.exp(rng.uniform(lo, hi)))
    sh, sw = shape.shape
    y0, x0 = y - sh // 2, x - sw // 2
    patch = frame[y0 : y0 + sh, x0 : x0 + sw]
    background = max(float(np.median(frame[y - 3 : y + 4, x - 3 : x + 4].max(axis=-1))), 0.02)
    peak = background * (1.0 + contrast)
    add = shape[..., None] * colour[None, None, :] * peak  # (sh, sw, 3)
    if shape_name == "fringe":  # demosaicing: the arms take the complementary colour
        arms = (shape > 0) & (shape < 1)
        add[arms] = shape[arms, None] * (1.05 - colour)[None, :] * peak
    np.maximum(patch, add.astype(np.float32), out=patch)
    if curve is None:
        cx, cy = x0 + sw / 2.0, y0 + sh / 2.0
    else:  # the centroid of the labelled pixels, weighted by the shape
        ys, xs = np.nonzero(shape >= LABEL_LEVEL)
        wts = shape[ys, xs]
        cx = float(x0 + (wts * (xs + 0.5)).sum() / wts.sum())
        cy = float(y0 + (wts * (ys + 0.5)).sum() / wts.sum())
    if label is not None:
        region = label[y0 : y0 + sh, x0 : x0 + sw]
        region[shape >= LABEL_LEVEL] = 1.0
    return Defect(number, cx, cy, shape_name, colour_name, contrast, background)
