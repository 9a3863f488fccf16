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
import OpenImageIO as oiio
from scipy import ndimage

from .atomic import atomic_path
from .errors import FrameReadError, InputError, OutputError
from .exr_writer import MASK_CHANNEL
from .frame_reader import find_layout, open_image
from .report import read_report
from .sequence import discover

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
    buf = oiio.ImageBuf(src)
    spec = buf.spec()
    pixels = buf.get_pixels(oiio.FLOAT)
    if buf.has_error or pixels is None:
        raise FrameReadError(f"frame {frame}: {src!r} could not be decoded ({buf.geterror()})")
    pixels = np.asarray(pixels, np.float32).reshape(spec.height, spec.width, spec.nchannels)
    mask = _read_mask(mask_path, frame, spec)
    offset = (spec.x - spec.full_x, spec.y - spec.full_y)
    bad = flagged_pixels(mask, detections, threshold, offset)
    if grow > 0:
        bad = ndimage.binary_dilation(bad, iterations=grow)
    colour = [layout.chbegin + i for i in layout.rgb]
    repaired = fill(pixels, bad, sorted(set(colour)))
    spec.attribute("hotpixel:repaired_pixels", int(bad.sum()))
    out = oiio.ImageBuf(spec)
    if not out.set_pixels(oiio.ROI(), repaired):
        raise OutputError(f"cannot prepare the repaired frame {frame} ({out.geterror()})")
    with atomic_path(dst) as tmp:
        if not out.write(tmp, spec.format):
            raise OutputError(f"cannot write {dst!r} ({out.geterror()})")
    return int(bad.sum())


def _read_mask(path: str, frame: int, spec: oiio.ImageSpec) -> np.ndarray:
    inp = oiio.ImageInput.open(path)
    if inp is None:
        raise InputError(f"frame {frame}: mask {path!r} cannot be read; {_FIX}")
    try:
        m = inp.spec()
        idx = m.channelindex(MASK_CHANNEL)
        if idx < 0 or (m.x, m.y, m.width, m.height) != (spec.x, spec.y, spec.width, spec.height):
            raise InputError(
                f"frame {frame}: mask {path!r} does not match the plate's data window; {_FIX}"
            )
        data = inp.read_image(0, 0, idx, idx + 1, "float")
    finally:
        inp.close()
    return np.asarray(data, np.float32).reshape(m.height, m.width)
