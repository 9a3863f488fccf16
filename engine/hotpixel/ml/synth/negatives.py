"""Hard negatives: real-looking things that are not hot pixels, labelled 0.

Small bright points that persist across the window (glints, catch lights, practical lights,
stars), moving with the scene or still, steady or twinkling; fast small bright things crossing
the picture for a few frames (sparks, rain, snow, dust); defects stuck on the sensor (they
persist, so they are not one-frame hot pixels); a flash on the centre frame; a scene cut inside
the window. Each function works in place on a list of ``(H, W, 3)`` frames and returns a
``(H, W)`` bool map (per frame, for :func:`add_particles`) of where it put something, so
training can weight those pixels up and evaluation can count false alerts there.
"""

from __future__ import annotations

import numpy as np


def add_points(
    frames: list[np.ndarray],
    rng: np.random.Generator,
    count: int,
    max_speed: float = 3.0,
    twinkle: float = 0.0,
) -> np.ndarray:
    """Persistent small gaussian points moving up to ``max_speed`` px/frame, in every frame.

    Brightness is relative to the local background (1.15x to 200x, log-uniform: faint stars to
    practical lights); ``twinkle`` is the
    relative per-frame brightness change (0 = steady).
    """
    h, w = frames[0].shape[:2]
    touched = np.zeros((h, w), bool)
    centre = len(frames) // 2
    for _ in range(count):
        px, py = rng.uniform(3, w - 3), rng.uniform(3, h - 3)
        speed = rng.uniform(0.0, max_speed) if rng.random() < 0.7 else 0.0
        angle = rng.uniform(0, 2 * np.pi)
        vx, vy = speed * np.cos(angle), speed * np.sin(angle)
        sigma = rng.uniform(0.35, 1.2)
        colour = rng.uniform(0.6, 1.0, 3)
        background = max(float(frames[centre][int(py), int(px)].max()), 0.02)
        peak = background * np.exp(rng.uniform(np.log(0.15), np.log(200.0)))
        r = int(np.ceil(5 * sigma)) + 1  # beyond 5 sigma the spot is below 4e-6 of its peak
        for t, frame in enumerate(frames):
            cx, cy = px + vx * (t - centre), py + vy * (t - centre)
            gain = 1.0 + twinkle * rng.uniform(-1.0, 1.0)
            x0, x1 = max(int(cx) - r, 0), min(int(cx) + r + 1, w)
            y0, y1 = max(int(cy) - r, 0), min(int(cy) + r + 1, h)
            if x1 <= x0 or y1 <= y0:
                continue
            yy, xx = np.mgrid[y0:y1, x0:x1]
            spot = np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * sigma**2))
            frame[y0:y1, x0:x1] += (spot[..., None] * colour * peak * gain).astype(np.float32)
            touched[y0:y1, x0:x1] |= spot > 0.05
    return touched


def add_stuck(frames: list[np.ndarray], rng: np.random.Generator, count: int) -> np.ndarray:
    """Photosites stuck at one bright value in every frame (dead/stuck work, not hot)."""
    h, w = frames[0].shape[:2]
    touched = np.zeros((h, w), bool)
    for _ in range(count):
        x, y = int(rng.integers(0, w)), int(rng.integers(0, h))
        value = rng.uniform(0.2, 4.0, 3).astype(np.float32)
        for frame in frames:
            frame[y, x] = value
        touched[y, x] = True
    return touched


def flash(frames: list[np.ndarray], rng: np.random.Generator) -> None:
    """Brighten the centre frame as a lightning flash or muzzle flash would (1.5x to 4x)."""
    frames[len(frames) // 2] *= np.float32(rng.uniform(1.5, 4.0))


def cut(frames: list[np.ndarray], other: list[np.ndarray], rng: np.random.Generator) -> None:
    """Replace the frames on one side of the centre with another shot (a cut in the window)."""
    centre = len(frames) // 2
    if rng.random() < 0.5:
        for t in range(centre):
            frames[t] = other[t]
    else:
        for t in range(centre + 1, len(frames)):
            frames[t] = other[t]


def add_particles(
    frames: np.ndarray | list[np.ndarray],
    rng: np.random.Generator,
    per_frame: float,
    speed: tuple[float, float] = (6.0, 60.0),
) -> list[np.ndarray]:
    """Fast small bright things crossing the picture (sparks, rain, snow, dust, a thrown glint),
    in place over a sequence of ``(H, W, 3)`` frames; per frame, an ``(H, W)`` bool map of where
    one is.

    On average ``per_frame`` are born each frame. Each lives 2 to 6 consecutive frames on a
    straight path at ``speed`` px/frame (log-uniform) in any direction, blurred along its path
    by a shutter open 10-50% of the frame (a streak ``speed x shutter`` long, at least a point),
    0.4-1.0 px wide, 1.5x-100x its local level at birth, white to spark orange. Alone in one
    frame it could pass for a defect; across the frames it is in, it is not one: it is there in
    a neighbour, further on its path.
    """
    n = len(frames)
    h, w = frames[0].shape[:2]
    where = [np.zeros((h, w), bool) for _ in range(n)]
    born = rng.poisson(per_frame * n)
    for _ in range(born):
        first = int(rng.integers(-2, n))
        life = int(rng.integers(2, 7))
        v = float(np.exp(rng.uniform(np.log(speed[0]), np.log(speed[1]))))
        angle = rng.uniform(0, 2 * np.pi)
        vx, vy = v * np.cos(angle), v * np.sin(angle)
        x0, y0 = rng.uniform(0, w), rng.uniform(0, h)
        shutter = rng.uniform(0.1, 0.5)
        sigma = rng.uniform(0.4, 1.0)
        colour = np.array([1.0, rng.uniform(0.5, 1.0), rng.uniform(0.2, 1.0)], np.float32)
        start = frames[max(first, 0)] if first < n else frames[-1]
        level = max(float(start[int(y0), int(x0)].max()), 0.02)
        peak = level * float(np.exp(rng.uniform(np.log(1.5), np.log(100.0))))
        for t in range(max(first, 0), min(first + life, n)):
            cx, cy = x0 + vx * (t - first), y0 + vy * (t - first)
            _streak(frames[t], where[t], cx, cy, vx * shutter, vy * shutter, sigma, peak * colour)
    return where


def _streak(
    frame: np.ndarray,
    where: np.ndarray,
    cx: float,
    cy: float,
    dx: float,
    dy: float,
    sigma: float,
    rgb: np.ndarray,
) -> None:
    """Add a gaussian line from ``(cx, cy) - (dx, dy) / 2`` to ``+ (dx, dy) / 2``, its brightest
    pixel ``rgb``, to ``frame``; mark where it is above 5% in ``where``."""
    h, w = where.shape
    r = int(np.ceil(4 * sigma + max(abs(dx), abs(dy)) / 2)) + 1
    bx0, bx1 = max(int(cx) - r, 0), min(int(cx) + r + 1, w)
    by0, by1 = max(int(cy) - r, 0), min(int(cy) + r + 1, h)
    if bx1 <= bx0 or by1 <= by0:
        return
    yy, xx = np.mgrid[by0:by1, bx0:bx1].astype(np.float32)
    steps = max(2, int(np.hypot(dx, dy) * 2))
    line = np.zeros(yy.shape, np.float32)
    for s in np.linspace(-0.5, 0.5, steps):
        px, py = cx + dx * s, cy + dy * s
        line += np.exp(-((xx - px) ** 2 + (yy - py) ** 2) / (2 * sigma**2))
    top = float(line.max())
    if top <= 0.0:
        return
    line /= top
    frame[by0:by1, bx0:bx1] += line[..., None] * rgb
    where[by0:by1, bx0:bx1] |= line > 0.05
