"""The review app's pictures as 8-bit RGB arrays: the flip-book crops and the locator."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from hotpixel.outputs.hit_sheet import crop
from hotpixel.outputs.tone import display8

Loader = Callable[[int], "np.ndarray | None"]


def auto_stops(centre: np.ndarray) -> float:
    """Exposure (stops) putting the crop's median at 0.18, between 0 and +6 stops."""
    finite = centre[np.isfinite(centre)]
    median = float(np.median(finite)) if finite.size else 0.18
    return float(np.clip(math.log2(0.18 / max(median, 1e-6)), 0.0, 6.0))


def zoom(image: np.ndarray, factor: int) -> np.ndarray:
    """Nearest-neighbour enlargement, so single pixels stay square."""
    big: np.ndarray = np.repeat(np.repeat(image, factor, axis=0), factor, axis=1)
    return big


def context(
    load: Loader, detection: dict[str, Any], radius: int = 10
) -> list[tuple[int, np.ndarray | None]]:
    """(frame, crop) for frames t-2..t+2 around the detection; None where a frame is missing."""
    out: list[tuple[int, np.ndarray | None]] = []
    for dt in range(-2, 3):
        frame = int(detection["frame"]) + dt
        image = load(frame)
        cx, cy = detection["x"] - 0.5, detection["y"] - 0.5
        out.append((frame, None if image is None else crop(image, cx, cy, radius)))
    return out


def locator(image: np.ndarray, detection: dict[str, Any], width: int = 320) -> np.ndarray:
    """The whole frame shrunk to ``width`` px with a red box around the detection."""
    w = image.shape[1]
    step = max(1, math.ceil(w / width))
    small = display8(image[::step, ::step], auto_stops(image[::step, ::step]))
    x, y = int(detection["x"] / step), int(detection["y"] / step)
    r = 4
    y0, y1 = max(y - r, 0), min(y + r, small.shape[0] - 1)
    x0, x1 = max(x - r, 0), min(x + r, small.shape[1] - 1)
    red = np.array([255, 0, 0], np.uint8)
    small[y0, x0 : x1 + 1] = red
    small[y1, x0 : x1 + 1] = red
    small[y0 : y1 + 1, x0] = red
    small[y0 : y1 + 1, x1] = red
    return np.ascontiguousarray(small)
