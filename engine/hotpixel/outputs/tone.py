"""The one display tone curve for every picture the engine makes (QC page, hit sheet, review).

Scene-linear (or display-referred) values, times an exposure, through ``x / (1 + x)`` and a
2.2 gamma: highlights up to 65504 roll off instead of clipping, dark plates stay readable, and
NaN/Inf show as black/white instead of breaking the picture. Analysis uses its own curves
(:func:`hotpixel.sensor.background.log_tone`, the detectors' own compression).
"""

from __future__ import annotations

import math

import numpy as np


def display(rgb: np.ndarray, exposure: float = 1.0) -> np.ndarray:
    """Any-shape values -> float32 in 0..1 (multiply by ``exposure`` first)."""
    x = np.nan_to_num(np.maximum(rgb, 0.0), nan=0.0, posinf=1e6) * np.float32(exposure)
    shown: np.ndarray = ((x / (1.0 + x)) ** (1.0 / 2.2)).astype(np.float32)
    return shown


def display8(rgb: np.ndarray, stops: float) -> np.ndarray:
    """Any-shape values -> uint8, exposure given in stops (``2 ** stops``)."""
    out: np.ndarray = np.clip(display(rgb, 2.0**stops) * 255.0 + 0.5, 0, 255).astype(np.uint8)
    return out


def auto_stops(rgb: np.ndarray) -> float:
    """Exposure (stops) putting the median of ``rgb``'s finite values at 0.18, between 0 and
    +6 stops."""
    finite = rgb[np.isfinite(rgb)]
    median = float(np.median(finite)) if finite.size else 0.18
    return float(np.clip(math.log2(0.18 / max(median, 1e-6)), 0.0, 6.0))


def thumbnail(image: np.ndarray, width: int) -> tuple[np.ndarray, int]:
    """A whole ``(H, W, 3)`` frame shrunk by a whole step to at most ``width`` pixels wide,
    exposed by :func:`auto_stops`: ``(h, w, 3)`` uint8 and the step (image pixels per
    thumbnail pixel)."""
    step = max(1, math.ceil(image.shape[1] / width))
    small = image[::step, ::step]
    return display8(small, auto_stops(small)), step
