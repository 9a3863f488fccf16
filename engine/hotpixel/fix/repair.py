"""Repair: replace the flagged pixels of a plate by their clean neighbourhood, nothing else.

``hotpixel fix`` reads a QC folder and the plate, and writes repaired frames to another folder.
Two kinds of findings are repaired:

- the detections of ``report.json`` (``hotpixel detect``): the pixels of each one's bounding box
  whose mask value reaches the report's threshold, on its frame;
- the dead, stuck and persistent positions of ``sensor/sensor.json`` (``hotpixel sensor``): their
  member photosites, on every frame the sensor pass covered (:mod:`.sensor_positions`).

Those pixels, grown by ``grow``, get per colour channel the median of the unflagged pixels around
them (a 5x5 window, widened up to 17x17 where the neighbourhood is flagged too).

The repair works on the plate's **own values**, as stored (log codes for a LogC3 DPX, linear
floats for an EXR), not on the scene-linear values detection decoded them to: no colour transform
runs on the way in or out. A per-channel median picks a value among the neighbours' own, and a
camera curve is monotonic, so the median of the codes is the code of the median, with no round
trip through OCIO to quantise, clip or fail on a transform that has no inverse. It also stays in
the camera's own RGB, where a photosite's defect lives, rather than spreading it across channels
through the gamut matrix. Every other pixel, every other channel (alpha, depth, extra layers),
each channel's pixel type and bit depth, compression, windows and metadata are kept, so the
pixels not repaired are bit-identical; frames with nothing to repair are copied byte for byte.
The frames written are those the QC folder covers (or the ones asked for).

What is repaired is decided first, by :func:`hotpixel.fix.plan.plan_repair` (the plate checked
against the QC folder, review verdicts applied).
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
from hotpixel.fix.plan import FIX_HINT, RepairPlan
from hotpixel.fix.sensor_positions import position_pixels
from hotpixel.io.atomic import atomic_path
from hotpixel.io.exr_writer import MASK_CHANNEL
from hotpixel.io.frames import find_layout, open_image
from hotpixel.io.images import WholeImage, read_named_channel, read_whole_image, write_whole_image


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


def repair_frames(
    plan: RepairPlan, qc_dir: str, out_dir: str, grow: int = 1
) -> Iterator[FrameRepair]:
    """Write the frames of ``plan`` to ``out_dir``; yield each as it is written.

    A frame with detections or sensor positions to repair is repaired; one without is copied
    byte for byte.
    """
    seq = plan.seq
    out_dir = os.path.abspath(out_dir)
    inputs = {os.path.realpath(p) for p in seq.paths.values()}
    if os.path.realpath(out_dir) == os.path.realpath(seq.pattern.directory or "."):
        raise OutputError(
            f"--out {out_dir!r} is the plate's own folder: the repaired frames would overwrite "
            "an input frame; pass another folder"
        )
    report = plan.report or {"threshold": 1.0, "frames": []}
    threshold = float(report["threshold"])
    rows = {int(r["frame"]): r for r in report["frames"]}
    os.makedirs(out_dir, exist_ok=True)
    for f in plan.frames:
        src = seq.paths[f]
        dst = os.path.join(out_dir, os.path.basename(src))
        if os.path.realpath(dst) in inputs:
            raise OutputError(f"{dst!r} would overwrite an input frame; pass a different --out")
        found, positions = plan.detections.get(f, []), plan.sensor_defects(f)
        if not found and not positions:
            with atomic_path(dst) as tmp:
                shutil.copyfile(src, tmp)
            yield FrameRepair(f, src, dst, 0)
            continue
        mask_path = os.path.join(qc_dir, rows[f]["mask"]) if found else ""
        image, colour = _read_single_part(src, f)
        bad = _flagged(image, f, mask_path, found, threshold) | position_pixels(
            positions, _offset(image), image.pixels.shape[:2]
        )
        yield FrameRepair(f, src, dst, _write_repaired(image, colour, bad, grow, dst))


def _read_single_part(src: str, frame: int) -> tuple[WholeImage, list[int]]:
    """Every channel of ``src`` and the indices of its colour channels; :class:`InputError`
    for a multi-part EXR or a file without colour channels."""
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
    colour = sorted({layout.chbegin + i for i in layout.rgb})
    return read_whole_image(src, frame), colour


def _offset(image: WholeImage) -> tuple[int, int]:
    """The data window's origin in display pixels."""
    return image.x - image.full_x, image.y - image.full_y


def _flagged(
    image: WholeImage,
    frame: int,
    mask_path: str,
    detections: list[dict[str, Any]],
    threshold: float,
) -> np.ndarray:
    """``(h, w)`` bool: the detections' flagged pixels (none without detections)."""
    h, w = image.pixels.shape[:2]
    if not detections:
        return np.zeros((h, w), bool)
    mask = read_named_channel(mask_path, MASK_CHANNEL, (image.x, image.y, w, h))
    if mask is None:
        raise InputError(
            f"frame {frame}: mask {mask_path!r} cannot be read or does not match the plate's "
            f"data window; {FIX_HINT}"
        )
    return flagged_pixels(mask, detections, threshold, _offset(image))


def _write_repaired(
    image: WholeImage, colour: list[int], bad: np.ndarray, grow: int, dst: str
) -> int:
    """Grow ``bad``, fill it in the ``colour`` channels, write ``dst``; the pixels changed."""
    if grow > 0:
        bad = ndimage.binary_dilation(bad, iterations=grow)
    repaired = fill(image.pixels, bad, colour)
    write_whole_image(dst, image, repaired, {"hotpixel:repaired_pixels": int(bad.sum())})
    return int(bad.sum())
