"""The review app's pictures as 8-bit RGB arrays: the flip-book crops and the locator.

Crops are the same five frames as on the QC page (:func:`hotpixel.outputs.hit_sheet.
context_frames`): t-2..t+2 for a detection, five frames spread over the shot for a sensor
defect. The flagged pixels are outlined one pixel outside them (:func:`mark`), and a frame
that is missing or cannot be read is a grey tile that says "no frame" (:func:`missing_tile`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import cv2
import numpy as np

from hotpixel.outputs.hit_sheet import context_frames, crop, marked_box
from hotpixel.outputs.tone import auto_stops, display8, thumbnail

__all__ = ["auto_stops", "context", "display8", "locator", "mark", "missing_tile", "zoom"]
Loader = Callable[[int], "np.ndarray | None"]


def zoom(image: np.ndarray, factor: int) -> np.ndarray:
    """Nearest-neighbour enlargement, so single pixels stay square."""
    big: np.ndarray = np.repeat(np.repeat(image, factor, axis=0), factor, axis=1)
    return big


def context(
    load: Loader, detection: dict[str, Any], radius: int = 10
) -> list[tuple[int, np.ndarray | None]]:
    """(frame, crop) for the five frames shown for a hit; None where a frame is missing."""
    frames, _, _ = context_frames(detection)
    out: list[tuple[int, np.ndarray | None]] = []
    for frame in frames:
        image = load(frame)
        cx, cy = detection["x"] - 0.5, detection["y"] - 0.5
        out.append((frame, None if image is None else crop(image, cx, cy, radius)))
    return out


def missing_tile(size: int) -> np.ndarray:
    """A ``(size, size, 3)`` grey uint8 tile that says "no frame"."""
    tile = np.full((size, size, 3), 60, np.uint8)
    scale = max(size / 160.0, 0.3)
    (w, h), _ = cv2.getTextSize("no frame", cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
    at = (max((size - w) // 2, 0), (size + h) // 2)
    cv2.putText(tile, "no frame", at, cv2.FONT_HERSHEY_SIMPLEX, scale, (200, 200, 200), 1)
    return tile


def mark(tile: np.ndarray, item: dict[str, Any], radius: int, factor: int) -> None:
    """Outline the flagged pixels on a zoomed crop in place, one pixel outside them (cyan)."""
    x0, y0, x1, y1 = (v * factor for v in marked_box(item, radius))
    h, w = tile.shape[:2]
    xa, ya, xb, yb = max(x0 - 2, 0), max(y0 - 2, 0), min(x1 + 1, w - 1), min(y1 + 1, h - 1)
    cyan = np.array([25, 230, 255], np.uint8)
    tile[ya, xa : xb + 1] = cyan
    tile[yb, xa : xb + 1] = cyan
    tile[ya : yb + 1, xa] = cyan
    tile[ya : yb + 1, xb] = cyan


def locator(image: np.ndarray, detection: dict[str, Any], width: int = 320) -> np.ndarray:
    """The whole frame shrunk to ``width`` px with a red box around the detection."""
    small, step = thumbnail(image, width)
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
