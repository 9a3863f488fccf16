"""Camera motion between frames: what separates a defect (fixed on the sensor) from content.

A shot is followed against a *key* frame. Each new frame's global shift from the key is measured
by phase correlation on the neighbourhood estimate (so fixed defects, which the median removes,
cannot pull the peak to zero). When the picture has moved at least :data:`MIN_SHIFT` pixels
from the key, or changed beyond recognition (a cut, a zoom: weak peak, large difference), the
frame is *evidence*: the content under every photosite is new, so a pixel that still departs
from its neighbours in the same way is fixed on the sensor. The frame then becomes the key.
Frames that moved less are not evidence: the same content sits on the same photosites.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MIN_SHIFT = 2  # px; with the 3x3 tolerance of the scene prediction, a defect cannot explain itself
CROP = 512  # phase correlation runs on the central CROP x CROP of the frame
MIN_PEAK = 0.08  # normalised phase-correlation peak below which a shift is not trusted
CHANGE = 0.03  # mean tone difference (~0.25 stop) that counts as a changed picture
MOVING_SPEED = 0.25  # px per frame from the key: below this a frame is called static


@dataclass(frozen=True)
class Step:
    """What one frame contributes. ``shift`` is (dx, dy) in px from the key frame."""

    label: str  # "first", "static", "moving" or "changed"
    evidence: bool
    shift: tuple[float, float]
    peak: float
    key_residual: np.ndarray | None  # (H, W, 3) residual of the key frame, when evidence by motion


class MotionTracker:
    """Follows the key frame; ``observe`` returns each frame's :class:`Step`."""

    def __init__(self) -> None:
        self._key_fft: np.ndarray | None = None
        self._key_luma: np.ndarray | None = None
        self._key_residual: np.ndarray | None = None
        self._since_key = 0

    def observe(self, background: np.ndarray, r: np.ndarray) -> Step:
        """``background`` and ``r`` are the frame's ``(H, W, 3)`` neighbourhood and residual."""
        luma = _crop(background.mean(axis=-1))
        spectrum = np.fft.rfft2(_window(luma))
        if self._key_fft is None or self._key_luma is None or luma.shape != self._key_luma.shape:
            self._set_key(spectrum, luma, r)
            return Step("first", False, (0.0, 0.0), 1.0, None)
        self._since_key += 1
        (dx, dy), peak = _phase_shift(self._key_fft, spectrum, luma.shape)
        if peak < MIN_PEAK:
            changed = float(np.mean(np.abs(luma - self._key_luma))) > CHANGE
            if changed:
                self._set_key(spectrum, luma, r)
                return Step("changed", True, (0.0, 0.0), peak, None)
            return Step("static", False, (0.0, 0.0), peak, None)
        if max(abs(round(dx)), abs(round(dy))) >= MIN_SHIFT:
            key_r = self._key_residual
            self._set_key(spectrum, luma, r)
            return Step("moving", True, (dx, dy), peak, key_r)
        speed = float(np.hypot(dx, dy)) / self._since_key
        return Step("moving" if speed >= MOVING_SPEED else "static", False, (dx, dy), peak, None)

    def _set_key(self, spectrum: np.ndarray, luma: np.ndarray, r: np.ndarray) -> None:
        self._key_fft, self._key_luma, self._key_residual = spectrum, luma, r
        self._since_key = 0


def _crop(a: np.ndarray) -> np.ndarray:
    h, w = a.shape
    y0, x0 = max(0, (h - CROP) // 2), max(0, (w - CROP) // 2)
    c = a[y0 : y0 + CROP, x0 : x0 + CROP]
    out: np.ndarray = c - c.mean()
    return out


def _window(a: np.ndarray) -> np.ndarray:
    wy = np.hanning(a.shape[0]) if a.shape[0] > 1 else np.ones(1)
    wx = np.hanning(a.shape[1]) if a.shape[1] > 1 else np.ones(1)
    out: np.ndarray = a * np.outer(wy, wx)
    return out


def _phase_shift(
    key: np.ndarray, cur: np.ndarray, shape: tuple[int, ...]
) -> tuple[tuple[float, float], float]:
    """Shift (dx, dy) with ``cur(p) ~ key(p - d)``, and the normalised correlation peak."""
    cross = cur * np.conj(key)
    cross /= np.maximum(np.abs(cross), 1e-12)
    corr = np.fft.irfft2(cross, s=shape)
    iy, ix = np.unravel_index(int(np.argmax(corr)), corr.shape)
    peak = float(corr[iy, ix])
    h, w = corr.shape
    fy = iy + _parabola(corr[(iy - 1) % h, ix], peak, corr[(iy + 1) % h, ix])
    fx = ix + _parabola(corr[iy, (ix - 1) % w], peak, corr[iy, (ix + 1) % w])
    dy = fy - h if fy > h / 2 else fy
    dx = fx - w if fx > w / 2 else fx
    return (float(dx), float(dy)), peak


def _parabola(left: float, centre: float, right: float) -> float:
    denom = left - 2.0 * centre + right
    if denom >= 0:
        return 0.0
    return float(np.clip(0.5 * (left - right) / denom, -0.5, 0.5))


def shift_int(a: np.ndarray, dx: int, dy: int) -> np.ndarray:
    """``out[y, x] = a[y - dy, x - dx]``, zero where that falls outside. ``(H, W, ...)``."""
    out = np.zeros_like(a)
    h, w = a.shape[:2]
    if abs(dx) >= w or abs(dy) >= h:
        return out
    ys, yd = (slice(0, h - dy), slice(dy, h)) if dy >= 0 else (slice(-dy, h), slice(0, h + dy))
    xs, xd = (slice(0, w - dx), slice(dx, w)) if dx >= 0 else (slice(-dx, w), slice(0, w + dx))
    out[yd, xd] = a[ys, xs]
    return out
