"""Repair: replace the flagged pixels of a plate by their clean neighbourhood, nothing else.

``hotpixel fix`` reads a QC folder (``report.json`` and masks from ``hotpixel detect``) and the
plate, and writes repaired frames to another folder: for every detection, the pixels of its
bounding box whose mask value reaches the report's threshold (grown by ``grow`` pixels) get, per
colour channel, the median of the unflagged pixels around them (a 5x5 window, widened up to
17x17 where the neighbourhood is flagged too). Every other pixel, every other channel (alpha,
depth, extra layers), the pixel format, compression, windows and metadata are kept; frames
without detections are copied byte for byte, so the output is a complete sequence.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import ndimage

from hotpixel.errors import InputError, OutputError
from hotpixel.io.atomic import atomic_path
from hotpixel.io.exr_writer import MASK_CHANNEL
from hotpixel.io.frames import find_layout, open_image
from hotpixel.io.images import read_named_channel, read_whole_image, write_whole_image
from hotpixel.io.sequence import discover
from hotpixel.outputs.report import read_report

_FIX = "rerun hotpixel detect into the QC folder, or pass the plate it was run on"


@dataclass
class FrameRepair:
    frame: int
    source: str
    output: str
    pixels: int  # pixels changed per channel


def flagged_pixels(
    mask: np.ndarray, detections: list[dict[str, Any]], threshold: float, offset: tuple[int, int]
) -> np.ndarray:
    """``(h, w)`` bool over the data window: mask >= threshold inside each detection's bbox.

    ``offset`` is the data window's origin in display pixels (bboxes are display pixels).
    Regions the detector saw but did not report (oversized ones) are never touched.
    """
    h, w = mask.shape
    out = np.zeros((h, w), bool)
    ox, oy = offset
    for d in detections:
        x0, y0, x1, y1 = d["bbox"]
        xs = slice(max(x0 - ox, 0), max(min(x1 - ox, w), 0))
        ys = slice(max(y0 - oy, 0), max(min(y1 - oy, h), 0))
        out[ys, xs] |= mask[ys, xs] >= threshold
    return out


def fill(pixels: np.ndarray, bad: np.ndarray, channels: list[int]) -> np.ndarray:
    """Median of unflagged neighbours for each flagged pixel, per channel in ``channels``."""
    out: np.ndarray = pixels.copy()
    h, w = bad.shape
    ys, xs = np.nonzero(bad)
    for y, x in zip(ys.tolist(), xs.tolist(), strict=True):
        for r in range(2, 9):
            y0, y1, x0, x1 = max(y - r, 0), min(y + r + 1, h), max(x - r, 0), min(x + r + 1, w)
            good = ~bad[y0:y1, x0:x1]
            window = pixels[y0:y1, x0:x1][good][:, channels]
            window = window[np.isfinite(window).all(axis=1)]
            if len(window) >= 3 or (r == 8 and len(window)):
                out[y, x, channels] = np.median(window, axis=0)
                break
    return out


def repair_sequence(
    pattern: str, qc_dir: str, out_dir: str, grow: int = 1, frames: list[int] | None = None
) -> Iterator[FrameRepair]:
    """Repair every frame the QC report covers (or ``frames``); yield each as it is written."""
    report = read_report(qc_dir)
    seq = discover(pattern)
    out_dir = os.path.abspath(out_dir)
    inputs = {os.path.realpath(p) for p in seq.paths.values()}
    threshold = float(report["threshold"])
    by_frame: dict[int, list[dict[str, Any]]] = {}
    for d in report["detections"]:
        by_frame.setdefault(int(d["frame"]), []).append(d)
    rows = {int(r["frame"]): r for r in report["frames"]}
    wanted = frames if frames is not None else sorted(rows)
    missing = [f for f in wanted if f not in rows]
    if missing:
        raise InputError(
            f"frames {missing[:5]} are not in {qc_dir}/report.json; {_FIX} over those frames"
        )
    os.makedirs(out_dir, exist_ok=True)
    for f in wanted:
        if f not in seq.paths:
            raise InputError(f"frame {f} is in the report but not in {seq.pattern.display()}")
        src = seq.paths[f]
        dst = os.path.join(out_dir, os.path.basename(src))
        if os.path.realpath(dst) in inputs:
            raise OutputError(f"{dst!r} would overwrite an input frame; pass a different --out")
        found = by_frame.get(f, [])
        if not found:
            with atomic_path(dst) as tmp:
                shutil.copyfile(src, tmp)
            yield FrameRepair(f, src, dst, 0)
            continue
        mask_path = os.path.join(qc_dir, rows[f]["mask"])
        changed = _repair_frame(src, f, mask_path, found, threshold, grow, dst)
        yield FrameRepair(f, src, dst, changed)


def _repair_frame(
    src: str,
    frame: int,
    mask_path: str,
    detections: list[dict[str, Any]],
    threshold: float,
    grow: int,
    dst: str,
) -> int:
    inp = open_image(src, frame)
    try:
        layout = find_layout(inp, src, frame)
        parts = 0
        while inp.seek_subimage(parts, 0):
            parts += 1
    finally:
        inp.close()
    if parts > 1:
        raise InputError(
            f"frame {frame}: {src!r} is a multi-part EXR; hotpixel fix writes single-part files "
            "only. Use the HotPixelFix gizmo in Nuke, or split the parts first"
        )
    image = read_whole_image(src, frame)
    h, w = image.pixels.shape[:2]
    mask = read_named_channel(mask_path, MASK_CHANNEL, (image.x, image.y, w, h))
    if mask is None:
        raise InputError(
            f"frame {frame}: mask {mask_path!r} cannot be read or does not match the plate's "
            f"data window; {_FIX}"
        )
    offset = (image.x - image.full_x, image.y - image.full_y)
    bad = flagged_pixels(mask, detections, threshold, offset)
    if grow > 0:
        bad = ndimage.binary_dilation(bad, iterations=grow)
    colour = [layout.chbegin + i for i in layout.rgb]
    repaired = fill(image.pixels, bad, sorted(set(colour)))
    write_whole_image(dst, image, repaired, {"hotpixel:repaired_pixels": int(bad.sum())})
    return int(bad.sum())
