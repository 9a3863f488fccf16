"""The one display tone curve for every picture the engine makes (QC page, hit sheet, review).

Scene-linear (or display-referred) values, times an exposure, through ``x / (1 + x)`` and a
2.2 gamma: highlights up to 65504 roll off instead of clipping, dark plates stay readable, and
NaN/Inf show as black/white instead of breaking the picture. Analysis uses its own curves
(:func:`hotpixel.sensor.background.log_tone`, the detectors' own compression).
"""

from __future__ import annotations

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
