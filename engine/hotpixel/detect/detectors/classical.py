"""The classical detector: spatial contrast in the centre frame, absent from its neighbours.

A pixel scores when, in the tone-compressed brightest channel,

1. it stands above every pixel on the ring two pixels away in the centre frame (a 3x3 blob or
   smaller fits inside that ring), and
2. its 3x3 neighbourhood holds more light than the same place, widened by ``motion_tolerance``
   pixels, in every other frame of the window, after matching each neighbour's overall level to
   the centre (flashes). Sums over 3x3 rather than peaks, because sub-pixel motion and focus
   changes spread a real point of light over its neighbours but keep its total.

The smaller of the two margins is compared with the frame's noise (``k_noise`` sigmas) and with
the local level (``min_relative`` of it); ``p = z^4 / (1 + z^4)`` with ``z`` the smaller ratio,
so p = 0.5 exactly where a margin meets its bar. It stays in the product as the fallback and as
the baseline the neural detector must beat.
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
from scipy import ndimage

from hotpixel.detect.windows import Window

LINEAR_CAP = 1e30  # 3x3 sums of float plates near float32's maximum would overflow to inf


def ring_max(m: np.ndarray) -> np.ndarray:
    """Maximum over the 16 pixels at Chebyshev distance 2 from each pixel (reflected edges).

    ``m`` ``(H, W)`` is 0 or more. A picture 1 or 2 px high or wide cannot be reflected: the
    ring is then what of it lies inside the picture (0 outside), so a strip's pixel is still
    compared with its neighbours two pixels along it, never with itself.
    """
    h, w = m.shape
    p = np.pad(m, 2, mode="reflect") if min(h, w) > 2 else np.pad(m, 2, mode="constant")
    rows = ndimage.maximum_filter1d(p, 5, axis=1)  # max over x-2..x+2
    cols = ndimage.maximum_filter1d(p, 3, axis=0)  # max over y-1..y+1
    top, bottom = rows[0:h, 2 : w + 2], rows[4 : h + 4, 2 : w + 2]
    left, right = cols[2 : h + 2, 0:w], cols[2 : h + 2, 4 : w + 4]
    ring: np.ndarray = np.maximum(np.maximum(top, bottom), np.maximum(left, right))
    return ring


def noise_sigma(m: np.ndarray) -> float:
    """Robust noise level of a tone map from horizontal neighbour differences (MAD)."""
    step = max(1, int(np.sqrt(m.size / 250_000)))
    sub = m[::step]
    d = np.abs(sub[:, 1:] - sub[:, :-1]) if sub.shape[1] > 1 else np.zeros(1, np.float32)
    return float(1.4826 * np.median(d) / np.sqrt(2.0))


class _Features:
    """Per-frame quantities reused by every window that contains the frame."""

    def __init__(self, rgb: np.ndarray, radius: int) -> None:
        self.source = rgb  # the cache is valid only for this very array
        linear = np.clip(rgb.max(axis=-1), 0.0, LINEAR_CAP)  # (H, W) brightest channel
        self.m = (linear / (1.0 + linear)).astype(np.float32)  # (H, W) tone-compressed
        # Light summed over 3x3 in linear, then compressed: sub-pixel motion and defocus spread
        # a real point of light over its neighbours but keep its total; a peak would not.
        energy = ndimage.uniform_filter(linear, size=3, mode="constant") * 9.0
        self.energy = (energy / (1.0 + energy)).astype(np.float32)  # (H, W)
        size = 2 * radius + 1
        self.dilated = ndimage.maximum_filter(self.energy, size=size, mode="nearest")  # (H, W)
        step = max(1, int(np.sqrt(self.m.size / 65_536)))
        sample = self.m[::step, ::step]
        # exact zeros are padding outside a smaller data window, not picture: leave them out
        lit = sample[sample > 0]
        self.level = float(np.median(lit)) if lit.size else 0.0


class ClassicalDetector:
    """Spatial + temporal contrast test; see the module docstring."""

    name = "classical"
    version = "1"
    model_version = "none"
    window_length = 5
    default_threshold = 0.5  # p = 0.5 exactly where a margin meets its bar
    runtime = "numpy/scipy (CPU)"

    def __init__(
        self, motion_tolerance: int = 3, k_noise: float = 5.0, min_relative: float = 0.1
    ) -> None:
        self.radius = motion_tolerance
        self.k_noise = k_noise
        self.min_relative = min_relative
        self._cache: OrderedDict[int, _Features] = OrderedDict()

    def _features(self, number: int, rgb: np.ndarray) -> _Features:
        feats = self._cache.get(number)
        if feats is None or feats.source is not rgb:
            feats = _Features(rgb, self.radius)
            self._cache[number] = feats
            while len(self._cache) > self.window_length + 1:
                self._cache.popitem(last=False)
        return feats

    def __call__(self, window: Window) -> np.ndarray:
        c = window.centre
        centre = self._features(window.numbers[c], window.frames[c])
        m = centre.m
        spatial = m - ring_max(m)  # (H, W) margin over the ring, tone units
        temporal = np.full_like(m, np.inf)  # (H, W) margin of 3x3 light over the neighbours
        for n in sorted(set(window.numbers) - {window.numbers[c]}):
            i = window.numbers.index(n)
            nb = self._features(n, window.frames[i])
            # only a clear brightening of the centre (a flash) rescales the neighbour; small
            # level changes come from content entering the frame and must not lower it
            ratio = centre.level / max(nb.level, 1e-6)
            gain = float(min(ratio, 4.0)) if ratio > 1.1 else 1.0
            np.minimum(temporal, centre.energy - gain * nb.dilated, out=temporal)
        sigma = max(noise_sigma(m), 1e-4)
        z = self._ratio(spatial, m, self.k_noise * sigma, self.min_relative)
        if window.has_context:
            # 3x3 sums carry three times the noise of one pixel, and a defect's share of them
            # is diluted by the background, hence the smaller relative bar
            z_t = self._ratio(
                temporal, centre.energy, 3 * self.k_noise * sigma, 0.6 * self.min_relative
            )
            np.minimum(z, z_t, out=z)
        z4 = z**4
        prob: np.ndarray = (z4 / (1.0 + z4)).astype(np.float32)
        return prob

    @staticmethod
    def _ratio(margin: np.ndarray, value: np.ndarray, noise: float, relative: float) -> np.ndarray:
        """How far ``margin`` clears both bars: ``noise`` and ``relative`` x the level below it."""
        margin = np.maximum(margin, 0.0)
        level = np.maximum(value - margin, 0.01)  # the local signal level under the pixel
        z: np.ndarray = np.minimum(margin / noise, margin / (relative * level))
        return z
