"""Per-frame residuals: each pixel against a robust estimate of its spatial neighbourhood.

Work happens in the engine's log tone, ``t = (log2(max(x, 0) + 2^-8) + 8) / 8`` (0 -> 0,
1.0 -> 1, 65504 -> 3, one stop = 0.125), so "departs by 10%" is the same step at every exposure
and scene-linear values far above 1.0 stay well behaved. The neighbourhood estimate is a
separable 5x5 median (a 5-tap median along rows, then along columns): it ignores a single
photosite, two or three adjacent ones and a one-pixel-wide column or row segment of any length,
and costs a few elementwise min/max passes instead of a sort.
"""

from __future__ import annotations

import numpy as np

TONE_OFFSET = 2.0**-8
NOISE_FLOOR = 0.012  # tone units (~0.1 stop): departures smaller than this are never counted
MAD_TO_SIGMA = 1.4826


def log_tone(linear: np.ndarray) -> np.ndarray:
    """Log tone of scene-linear values (any shape); negatives count as 0, result float32 >= 0."""
    x = np.maximum(linear, 0.0, dtype=np.float32)
    t: np.ndarray = (np.log2(x + np.float32(TONE_OFFSET)) + np.float32(8.0)) / np.float32(8.0)
    return t.astype(np.float32, copy=False)


def linear_of_tone(t: np.ndarray) -> np.ndarray:
    """Scene-linear values of log tone ``t`` (any shape), the inverse of :func:`log_tone` for
    non-negative values; float64."""
    out: np.ndarray = np.exp2(t.astype(np.float64) * 8.0 - 8.0) - TONE_OFFSET
    return out


def _med3(x: np.ndarray, y: np.ndarray, z: np.ndarray) -> np.ndarray:
    out: np.ndarray = np.maximum(np.minimum(x, y), np.minimum(np.maximum(x, y), z))
    return out


def _med5_along(a: np.ndarray, axis: int) -> np.ndarray:
    """5-tap running median along ``axis`` (edges reflected), by a min/max network."""
    pad = [(0, 0)] * a.ndim
    pad[axis] = (2, 2)
    p = np.pad(a, pad, mode="reflect")
    n = a.shape[axis]
    v = [np.take(p, np.arange(k, k + n), axis=axis) for k in range(5)]
    f = np.maximum(np.minimum(v[0], v[1]), np.minimum(v[3], v[4]))
    g = np.minimum(np.maximum(v[0], v[1]), np.maximum(v[3], v[4]))
    return _med3(v[2], f, g)


def median5(a: np.ndarray) -> np.ndarray:
    """Separable 5x5 median of ``(H, W)`` or ``(H, W, C)`` (per channel); same shape, float32.

    Images smaller than 3 pixels on a side are returned unchanged (no neighbourhood).
    """
    if a.shape[0] < 3 or a.shape[1] < 3:
        return a.astype(np.float32, copy=True)
    return _med5_along(_med5_along(a.astype(np.float32, copy=False), 1), 0)


def background(t: np.ndarray) -> np.ndarray:
    """Robust estimate of each pixel's neighbourhood in ``t`` ``(H, W)`` or ``(H, W, C)``.

    The separable 5x5 median, except on the outermost rows and columns: there the reflected
    window holds the next row (or column) twice and the pixel's own once, so on any gradient
    across the edge the median is the next row's value and the edge row departs from it in
    every frame, the same way, wherever the camera points. The outermost row is compared with
    the 5-tap median along itself instead (and the outermost column with the median down it),
    which a gradient across the edge does not bias. Corners keep the 5x5 median.
    """
    bg = median5(t)
    h, w = t.shape[:2]
    if h < 5 or w < 5:
        return bg
    t32 = t.astype(np.float32, copy=False)
    for row in (0, h - 1):
        bg[row, 1:-1] = _med5_along(t32[row : row + 1], 1)[0, 1:-1]
    for col in (0, w - 1):
        bg[1:-1, col] = _med5_along(t32[:, col : col + 1], 0)[1:-1, 0]
    return bg


def residual(t: np.ndarray, k_sigma: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Residual, neighbourhood and per-pixel threshold of one frame's log tone ``(H, W, 3)``.

    Returns ``(r, background, threshold)``, all ``(H, W, 3)`` float32 (the background is
    :func:`background`): ``r = t - background``;
    ``threshold = max(k_sigma * local noise, NOISE_FLOOR)`` where the local noise is the 5x5
    median of ``|r|`` scaled to a gaussian sigma (it rises in texture, so picture detail needs a
    larger departure to count, and stays at the grain level in flat areas).
    """
    bg = background(t)
    r = t - bg
    noise = median5(np.abs(r)) * np.float32(MAD_TO_SIGMA)
    thr = np.maximum(noise * np.float32(k_sigma), np.float32(NOISE_FLOOR))
    return r, bg, thr
