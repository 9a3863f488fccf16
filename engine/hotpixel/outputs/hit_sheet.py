"""A picture of every hit: zoomed crops of the detection's frame and its neighbours.

One row per detection, in report order; five columns t-2..t+2 with the centre outlined in red.
Crops are nearest-neighbour zoomed, exposed per row so the centre crop's median sits at 0.18
(between 1x and 64x), and shown through ``(x / (1 + x)) ** (1 / 2.2)`` so scene-linear and
display-referred plates both read. Missing neighbours are left grey.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from hotpixel.io.images import write_png8
from hotpixel.outputs.tone import display


def crop(rgb: np.ndarray, cx: float, cy: float, radius: int) -> np.ndarray:
    """``(2r+1, 2r+1, 3)`` crop of a display-window image centred on pixel (cx, cy), zero-padded."""
    size = 2 * radius + 1
    out = np.zeros((size, size, 3), np.float32)
    x0, y0 = int(np.floor(cx)) - radius, int(np.floor(cy)) - radius
    h, w = rgb.shape[:2]
    sx0, sy0 = max(x0, 0), max(y0, 0)
    sx1, sy1 = min(x0 + size, w), min(y0 + size, h)
    if sx1 > sx0 and sy1 > sy0:
        out[sy0 - y0 : sy1 - y0, sx0 - x0 : sx1 - x0] = rgb[sy0:sy1, sx0:sx1]
    return out


def build_sheet(
    detections: Sequence[dict[str, Any]],
    load: Callable[[int], np.ndarray | None],
    radius: int = 8,
    zoom: int = 8,
) -> np.ndarray:
    """The sheet as ``(rows * cell, 5 * cell, 3)`` float32 in 0..1.

    ``load(frame)`` returns a display-window ``(H, W, 3)`` frame or None when it does not exist.
    """
    cell = (2 * radius + 1) * zoom + 4
    sheet = np.full((max(len(detections), 1) * cell, 5 * cell, 3), 0.18, np.float32)
    for row, det in enumerate(detections):
        crops = {}
        for dt in range(-2, 3):
            frame = load(int(det["frame"]) + dt)
            if frame is not None:
                crops[dt] = crop(frame, det["x"] - 0.5, det["y"] - 0.5, radius)
        if 0 not in crops:
            continue
        background = float(np.nanmedian(np.where(np.isfinite(crops[0]), crops[0], np.nan)))
        exposure = float(np.clip(0.18 / max(background, 1e-6), 1.0, 64.0))
        for col, dt in enumerate(range(-2, 3)):
            if dt not in crops:
                continue
            tile = display(crops[dt], exposure)
            tile = np.repeat(np.repeat(tile, zoom, axis=0), zoom, axis=1)
            y, x = row * cell + 2, col * cell + 2
            if dt == 0:
                sheet[y - 2 : y + tile.shape[0] + 2, x - 2 : x + tile.shape[1] + 2] = (1, 0, 0)
            sheet[y : y + tile.shape[0], x : x + tile.shape[1]] = tile
    return sheet


def write_sheet(path: str, sheet: np.ndarray) -> None:
    """Write the sheet as an 8-bit PNG, atomically."""
    write_png8(path, sheet)
