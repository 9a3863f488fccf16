"""Persistent sensor defects injected into a plate sequence: dead, stuck, persistent hot.

A defect sits at the same photosites in every frame, whatever the camera does. ``dead`` reads
black, ``stuck`` holds one colour at one level (both with a little read noise, no photon noise);
``hot`` adds a fixed offset to whatever the scene puts there, so it keeps the scene's grain and
changes. Shapes: a single photosite, two or three adjacent ones, and one-pixel-wide column or row
segments. Everything is drawn from an explicit ``np.random.Generator``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hotpixel.ml.synth.plates import camera_path, put_in_motion

KINDS = ("dead", "stuck", "hot")
SHAPES = ("single", "pair", "triple", "column", "row")
_PAIR = ((1, 0), (0, 1), (1, 1))
_TRIPLE = (((0, 0), (1, 0), (2, 0)), ((0, 0), (0, 1), (0, 2)), ((0, 0), (1, 0), (0, 1)))
_COLOURS = (
    (1.0, 1.0, 1.0),
    (1.0, 0.2, 0.15),
    (0.2, 1.0, 0.2),
    (0.15, 0.3, 1.0),
    (1.0, 0.3, 1.0),
)


@dataclass(frozen=True)
class PersistentDefect:
    """One injected defect; ``pixels`` are (column, row); ``x, y`` its centroid (contract)."""

    kind: str
    shape: str
    pixels: tuple[tuple[int, int], ...]
    colour: tuple[float, float, float]
    level: float  # dead: black level; stuck: value of the brightest channel; hot: offset / local

    @property
    def x(self) -> float:
        return float(np.mean([p[0] for p in self.pixels])) + 0.5

    @property
    def y(self) -> float:
        return float(np.mean([p[1] for p in self.pixels])) + 0.5

    def as_dict(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "shape": self.shape,
            "x": self.x,
            "y": self.y,
            "pixels": [list(p) for p in self.pixels],
            "colour": list(self.colour),
            "level": round(self.level, 5),
        }


def plan_defects(
    rng: np.random.Generator,
    size: tuple[int, int],
    count: int,
    cluster_share: float = 0.3,
    spacing: int = 8,
    margin: int = 4,
) -> list[PersistentDefect]:
    """``count`` defects over a ``size`` = (w, h) frame, kinds equally likely, none closer than
    ``spacing`` pixels to another (so their neighbourhoods do not overlap)."""
    w, h = size
    taken = np.zeros((h, w), bool)
    out: list[PersistentDefect] = []
    tries = 0
    while len(out) < count and tries < count * 200:
        tries += 1
        kind = KINDS[int(rng.integers(len(KINDS)))]
        shape = "single" if rng.random() >= cluster_share else SHAPES[int(rng.integers(1, 5))]
        offsets = _offsets(rng, shape)
        x0 = int(rng.integers(margin, w - margin - 12))
        y0 = int(rng.integers(margin, h - margin - 12))
        pixels = tuple((x0 + a, y0 + b) for a, b in offsets)
        cols = [p[0] for p in pixels]
        rows = [p[1] for p in pixels]
        box = taken[
            max(0, min(rows) - spacing) : max(rows) + spacing + 1,
            max(0, min(cols) - spacing) : max(cols) + spacing + 1,
        ]
        if box.any():
            continue
        taken[min(rows) : max(rows) + 1, min(cols) : max(cols) + 1] = True
        colour = _COLOURS[int(rng.integers(len(_COLOURS)))]
        level = {
            "dead": float(rng.uniform(0.0, 0.0015)),
            "stuck": float(np.exp(rng.uniform(np.log(0.02), np.log(2.0)))),
            "hot": float(np.exp(rng.uniform(np.log(0.5), np.log(8.0)))),
        }[kind]
        out.append(PersistentDefect(kind, shape, pixels, colour, level))
    return out


def _offsets(rng: np.random.Generator, shape: str) -> tuple[tuple[int, int], ...]:
    if shape == "pair":
        dx, dy = _PAIR[int(rng.integers(len(_PAIR)))]
        return ((0, 0), (dx, dy))
    if shape == "triple":
        return _TRIPLE[int(rng.integers(len(_TRIPLE)))]
    if shape in ("column", "row"):
        n = int(rng.integers(4, 11))
        return tuple((0, i) if shape == "column" else (i, 0) for i in range(n))
    return ((0, 0),)


def inject(
    frames: list[np.ndarray], defects: list[PersistentDefect], rng: np.random.Generator
) -> list[np.ndarray]:
    """Copies of ``frames`` (each ``(H, W, 3)`` float32) with ``defects`` at fixed photosites.

    A hot defect's offset is its ``level`` times the shot's mean local level there (at least
    0.01), so it is visible against dark and bright places alike.
    """
    out = [f.copy() for f in frames]
    mean = np.mean(frames, axis=0)  # (H, W, 3) the shot's average, for hot offsets
    for d in defects:
        cols = np.array([p[0] for p in d.pixels])
        rows = np.array([p[1] for p in d.pixels])
        colour = np.array(d.colour, np.float32)
        if d.kind == "hot":
            local = max(float(mean[rows, cols].max(axis=-1).mean()), 0.01)
            offset = colour * np.float32(d.level * local)
        for f in out:
            if d.kind == "dead":
                noise = np.abs(rng.normal(0.0, 0.0003, (rows.size, 3)))
                f[rows, cols] = np.float32(d.level) + noise.astype(np.float32)
            elif d.kind == "stuck":
                value = colour * np.float32(d.level) + rng.normal(0.0, 0.0003, (rows.size, 3))
                f[rows, cols] = value.astype(np.float32)
            else:
                f[rows, cols] = f[rows, cols] + offset
    return out


def shot_path(
    rng: np.random.Generator, frames: int, motion: str, speed: float = 2.0, shake: float = 0.6
) -> np.ndarray:
    """``(frames, 2)`` camera offsets: ``moving`` (pan + shake), ``static`` (locked off) or
    ``partial`` (locked off for the first half, then a pan with shake)."""
    if motion == "static":
        return np.zeros((frames, 2))
    path = camera_path(rng, frames, speed, shake)
    if motion == "partial":
        half = frames // 2
        path[:half] = 0.0
        path[half:] -= path[half]
    elif motion != "moving":
        raise ValueError(f"motion must be moving, static or partial; got {motion!r}")
    return path


def defect_shot(
    still: np.ndarray,
    rng: np.random.Generator,
    size: tuple[int, int],
    frames: int,
    motion: str,
    count: int,
    grain: float = 0.01,
    speed: float = 2.0,
) -> tuple[list[np.ndarray], list[PersistentDefect]]:
    """A ``size`` = (w, h) sequence cropped from ``still`` along a camera path, with defects."""
    path = shot_path(rng, frames, motion, speed)
    plate = put_in_motion(still, path - path.mean(axis=0), size, rng, grain)
    defects = plan_defects(rng, size, count)
    return inject(plate, defects, rng), defects
