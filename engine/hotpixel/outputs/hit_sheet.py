"""Pictures of hits: crops of a detection's frame and its neighbours, with the pixel marked.

Every picture of a hit shows the same five crops: for a detection, frames t-2..t+2 around it;
for a sensor defect (dead, stuck, persistent hot), five frames spread over the frames it was
seen in (:func:`context_frames`). A strip (:func:`build_strip`) holds the five crops at 1x, for
the QC page, which enlarges it in the browser and draws its labels and marker in HTML. The hit
sheet (``hits.png``, :func:`build_sheet`) enlarges the strips nearest-neighbour, so pixels stay
square, and draws on it: the hit's id, frame, position, kind and score above each row, each
crop's frame offset, the hit's frame outlined in red and the flagged pixels outlined in cyan,
one pixel outside them, so the outline never covers what it marks. A missing frame is a grey
tile labelled "no frame".

Crops are exposed per row so the hit frame's median sits at 0.18 (between 1x and 64x) and shown
through :func:`hotpixel.outputs.tone.display`, so scene-linear and display-referred plates both
read.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import cv2
import numpy as np

from hotpixel.io.images import write_png8
from hotpixel.io.sequence import parse_frame_range
from hotpixel.outputs.tone import display

SHEET = "hits.png"  # the contact sheet's name in a QC folder (hotpixel.outputs.contact_sheet)
MAX_ROWS = 100  # rows a contact sheet holds: 100 are 17,800 x 710 pixels, ~150 MB while drawn
RADIUS = 8  # crops are (2 * RADIUS + 1) pixels square
MISSING = 0.18  # the grey of a tile whose frame does not exist or cannot be read
RED = (1.0, 0.2, 0.15)
CYAN = (0.1, 0.9, 1.0)
Loader = Callable[[int], "np.ndarray | None"]


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


def context_frames(item: dict[str, Any]) -> tuple[list[int], int, list[str]]:
    """The five frames shown for a hit, which of them is the hit's own, and their labels.

    A detection (``frame``): t-2..t+2, the centre its own, labelled ``t-2 (1045)`` and so on.
    A sensor defect (``frames_seen``, ranges): its first and last frame seen and three between,
    labelled with the frame number; the middle one stands for the defect.
    """
    if "frames_seen" in item:
        seen = parse_frame_range(str(item["frames_seen"])) if item.get("frames_seen") else []
        if not seen:
            return [], 0, []
        picks = sorted({seen[round(k * (len(seen) - 1) / 4)] for k in range(5)})
        return picks, len(picks) // 2, [str(f) for f in picks]
    f = int(item["frame"])
    frames = [f + dt for dt in range(-2, 3)]
    labels = ["t" if dt == 0 else f"t{dt:+d}" for dt in range(-2, 3)]
    return frames, 2, [f"{lab} ({n})" for lab, n in zip(labels, frames, strict=True)]


def marked_box(item: dict[str, Any], radius: int = RADIUS) -> tuple[int, int, int, int]:
    """The flagged pixels within a crop, ``(x0, y0, x1, y1)`` in crop pixels, exclusive.

    The detection's ``bbox`` when it has one, else the pixel under its centroid; clipped to
    the crop.
    """
    cx, cy = int(np.floor(item["x"] - 0.5)), int(np.floor(item["y"] - 0.5))
    x0, y0, x1, y1 = item.get("bbox") or (cx, cy, cx + 1, cy + 1)
    size = 2 * radius + 1
    ox, oy = cx - radius, cy - radius

    def clip(v: int) -> int:
        return int(min(max(v, 0), size))

    box = (clip(x0 - ox), clip(y0 - oy), clip(x1 - ox), clip(y1 - oy))
    if box[2] <= box[0] or box[3] <= box[1]:  # a box outside the crop: mark the centre
        return radius, radius, radius + 1, radius + 1
    return box


def build_strip(
    item: dict[str, Any], load: Loader, radius: int = RADIUS
) -> tuple[np.ndarray, list[bool]]:
    """The five crops of :func:`context_frames` side by side, ``(2r+1, 5 (2r+1), 3)`` in 0..1.

    Returns the strip and, per crop, whether its frame could be read (grey where not).
    ``load(frame)`` gives a display-window ``(H, W, 3)`` frame, or None.
    """
    frames, own, _ = context_frames(item)
    size = 2 * radius + 1
    strip = np.full((size, 5 * size, 3), MISSING, np.float32)
    crops = {}
    for k, f in enumerate(frames):
        image = load(f)
        if image is not None:
            crops[k] = crop(image, item["x"] - 0.5, item["y"] - 0.5, radius)
    if own in crops:
        centre = crops[own]
        finite = centre[np.isfinite(centre)]
        background = float(np.median(finite)) if finite.size else 0.18  # none: exposure 1
        exposure = float(np.clip(0.18 / max(background, 1e-6), 1.0, 64.0))
    else:
        exposure = 1.0
    for k, tile in crops.items():
        strip[:, k * size : (k + 1) * size] = display(tile, exposure)
    return strip, [k in crops for k in range(5)]


def caption(item: dict[str, Any]) -> str:
    """One line about a hit: id, frame, position, kind, score (as on the sheet's rows)."""
    where = f"x {item['x']:.1f} y {item['y']:.1f}"
    if "frames_seen" not in item:
        group = f" ({item['group']})" if item.get("group") else ""
        return f"{item.get('id', '')}{group}  frame {item['frame']}  {where}  {item['kind']}  " + (
            f"score {item['score']:.2f}"
        )
    return f"{item.get('id', '')}  frames {item.get('frames_seen', '')}  {where}  {item['kind']}"


def build_sheet(
    detections: Sequence[dict[str, Any]],
    load: Loader,
    radius: int = RADIUS,
    zoom: int = 8,
) -> np.ndarray:
    """The hit sheet as ``(rows * row_height, 5 * cell, 3)`` float32 in 0..1.

    One row per detection (or sensor defect), in the order given: a caption line (id, frame,
    position, kind, score), a label above each crop (frame offset, or "no frame"), and the
    crops enlarged ``zoom`` times with the hit's frame outlined in red and the flagged pixels
    in cyan (module docstring). ``load(frame)`` returns a display-window ``(H, W, 3)`` frame or
    None when it does not exist.
    """
    size = 2 * radius + 1
    cell = size * zoom + 6
    head, label = 20, 16
    row_h = head + label + cell
    sheet = np.full((max(len(detections), 1) * row_h, 5 * cell, 3), 0.11, np.float32)
    for row, det in enumerate(detections):
        top = row * row_h
        _text(sheet, caption(det), 4, top + 15, 0.45, (0.95, 0.95, 0.95))
        strip, present = build_strip(det, load, radius)
        _, own, labels = context_frames(det)
        box = marked_box(det, radius)
        for k in range(5):
            x, y = k * cell + 3, top + head + label + 3
            tile = np.repeat(np.repeat(strip[:, k * size : (k + 1) * size], zoom, 0), zoom, 1)
            if k == own:
                sheet[y - 3 : y + tile.shape[0] + 3, x - 3 : x + tile.shape[1] + 3] = RED
            sheet[y : y + tile.shape[0], x : x + tile.shape[1]] = tile
            if present[k]:
                x0, y0, x1, y1 = (x + box[0] * zoom, y + box[1] * zoom, x + box[2] * zoom,
                                  y + box[3] * zoom)  # fmt: skip
                _outline(sheet, x0, y0, x1, y1)
            text = labels[k] if k < len(labels) and present[k] else "no frame"
            _text(sheet, text, x, top + head + label - 3, 0.4, (0.8, 0.8, 0.8))
    return sheet


def _outline(sheet: np.ndarray, x0: int, y0: int, x1: int, y1: int) -> None:
    """A 1-pixel cyan rectangle one pixel outside the box ``[x0, x1) x [y0, y1)``."""
    h, w = sheet.shape[:2]
    xa, ya, xb, yb = max(x0 - 2, 0), max(y0 - 2, 0), min(x1 + 1, w - 1), min(y1 + 1, h - 1)
    sheet[ya, xa : xb + 1] = CYAN
    sheet[yb, xa : xb + 1] = CYAN
    sheet[ya : yb + 1, xa] = CYAN
    sheet[ya : yb + 1, xb] = CYAN


def _text(
    sheet: np.ndarray, text: str, x: int, y: int, scale: float, colour: tuple[float, ...]
) -> None:
    """Draw ``text`` with its baseline at (x, y), in place (OpenCV's plain Hershey font).

    OpenCV draws on 8-bit images only: the text is drawn as coverage on an 8-bit band around
    its line and blended into the float sheet.
    """
    top, bottom = max(y - 24, 0), min(y + 8, sheet.shape[0])
    cover = np.zeros((bottom - top, sheet.shape[1]), np.uint8)
    font = cv2.FONT_HERSHEY_SIMPLEX
    cv2.putText(cover, text, (x, y - top), font, scale, 255, 1, cv2.LINE_AA)
    alpha = (cover.astype(np.float32) / 255.0)[..., None]
    band = sheet[top:bottom]
    band[...] = band * (1.0 - alpha) + np.asarray(colour, np.float32) * alpha


def write_sheet(path: str, sheet: np.ndarray) -> None:
    """Write the sheet as an 8-bit PNG, atomically."""
    write_png8(path, sheet)
