"""Repair: replace the flagged pixels of a plate by their clean neighbourhood, nothing else.

``hotpixel fix`` reads a QC folder (``report.json`` and masks from ``hotpixel detect``) and the
plate, and writes repaired frames to another folder: for every detection, the pixels of its
bounding box whose mask value reaches the report's threshold (grown by ``grow`` pixels) get, per
colour channel, the median of the unflagged pixels around them (a 5x5 window, widened up to
17x17 where the neighbourhood is flagged too). Every other pixel, every other channel (alpha,
depth, extra layers), the pixel format, compression, windows and metadata are kept; frames
without detections are copied byte for byte. The frames written are those the report covers
(or the ones asked for); frames of the plate the report does not cover are not written.

Before anything is written the plate is checked against the QC folder (:func:`check_plate`:
source path, image size, each frame's size and modification time as detection read it), and
review verdicts in ``labels.json`` choose which detections are repaired (:func:`by_verdict`).
"""

from __future__ import annotations

import os
import shutil
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import ndimage

from hotpixel.errors import InputError, OutputError, UsageError
from hotpixel.io.atomic import atomic_path
from hotpixel.io.exr_writer import MASK_CHANNEL
from hotpixel.io.frames import find_layout, open_image, read_spec
from hotpixel.io.images import read_named_channel, read_whole_image, write_whole_image
from hotpixel.io.sequence import FrameSequence, discover, format_ranges
from hotpixel.outputs.labels import detection_ids, labels_path, load_labels
from hotpixel.outputs.report import read_report

_FIX = "rerun hotpixel detect into the QC folder, or pass the plate it was run on"
VERDICTS = ("accepted", "unrejected", "all")  # which detections --verdicts repairs


@dataclass
class RepairPlan:
    """What ``hotpixel fix`` will do, decided before anything is written.

    ``detections`` maps frame -> the detections to repair; ``skipped`` counts the detections
    left alone because of review verdicts, by label (``reject``, ``skip``, ``unlabelled``);
    ``verdicts`` is the choice in force; ``uncovered`` the plate frames the report lacks.
    """

    report: dict[str, Any]
    seq: FrameSequence
    frames: list[int]
    detections: dict[int, list[dict[str, Any]]]
    verdicts: str
    skipped: Counter[str] = field(default_factory=Counter)
    uncovered: list[int] = field(default_factory=list)


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


def plan_repair(
    pattern: str,
    qc_dir: str,
    frames: list[int] | None = None,
    verdicts: str | None = None,
    force: bool = False,
) -> RepairPlan:
    """Check the plate against ``qc_dir`` and choose the detections to repair.

    ``verdicts``: ``accepted`` (only detections a reviewer accepted), ``unrejected`` (all but
    the rejected), ``all`` (ignore review labels); None means ``accepted`` when
    ``qc_dir/labels.json`` exists, else ``all``. ``force`` repairs a plate that does not match
    the QC folder. Raises :class:`InputError` naming what differs, :class:`UsageError` for a
    verdict choice that cannot be honoured.
    """
    report = read_report(qc_dir)
    seq = discover(pattern)
    rows = {int(r["frame"]): r for r in report["frames"]}
    wanted = frames if frames is not None else sorted(rows)
    missing = [f for f in wanted if f not in rows]
    if missing:
        raise InputError(
            f"frames {format_ranges(missing)} are not in {qc_dir}/report.json; {_FIX} over "
            "those frames"
        )
    absent = [f for f in wanted if f not in seq.paths]
    if absent:
        raise InputError(
            f"frames {format_ranges(absent)} are in the report but not in "
            f"{seq.pattern.display()}; pass --frames to repair the others"
        )
    if not force:
        check_plate(report, seq, qc_dir, wanted)
    chosen, skipped, used = by_verdict(report, qc_dir, verdicts)
    by_frame: dict[int, list[dict[str, Any]]] = {}
    for d in chosen:
        by_frame.setdefault(int(d["frame"]), []).append(d)
    uncovered = [f for f in seq.frames if f not in rows] if frames is None else []
    return RepairPlan(report, seq, wanted, by_frame, used, skipped, uncovered)


def check_plate(report: dict[str, Any], seq: FrameSequence, qc_dir: str, frames: list[int]) -> None:
    """Refuse a plate other than the one the QC folder was made from, naming what differs.

    Compared: the source pattern (absolute, symbolic links resolved), the display size, and
    for each frame its file's size and modification time as detection recorded them (reports
    from before those were recorded are checked on path and size only).
    """
    source = report["source"]
    problems = []
    given, recorded = _real_pattern(seq.pattern.display()), _real_pattern(source["pattern"])
    if given != recorded:
        problems.append(f"source: the QC was made from {recorded}, this plate is {given}")
    if frames:
        g, _, _, _ = read_spec(seq.path(frames[0]), frames[0])
        size, qc_size = (g.full_width, g.full_height), (source["width"], source["height"])
        if tuple(size) != tuple(qc_size):
            problems.append(
                f"size: the QC is {qc_size[0]}x{qc_size[1]}, this plate {size[0]}x{size[1]}"
            )
    rows = {int(r["frame"]): r for r in report["frames"]}
    changed = [f for f in frames if _changed(rows[f], seq.path(f))]
    if changed:
        problems.append(
            f"input fingerprint: frames {format_ranges(changed)} differ from the files the QC "
            "read (size or modification time)"
        )
    if problems:
        raise InputError(
            f"{qc_dir!r} was made from a different plate than {seq.pattern.display()}: "
            + "; ".join(problems)
            + f". Repairing from it would paint the wrong pixels: {_FIX}, or pass --force"
        )


def _real_pattern(pattern: str) -> str:
    folder, name = os.path.split(os.path.abspath(pattern))
    return os.path.join(os.path.realpath(folder), name)


def _changed(row: dict[str, Any], path: str) -> bool:
    if "size" not in row or "mtime_ns" not in row:
        return False  # a report from before the stamps were recorded
    st = os.stat(path)
    return (st.st_size, st.st_mtime_ns) != (row["size"], row["mtime_ns"])


def by_verdict(
    report: dict[str, Any], qc_dir: str, verdicts: str | None
) -> tuple[list[dict[str, Any]], Counter[str], str]:
    """The detections to repair under ``verdicts``, the skipped ones counted by label, the choice.

    Labels are matched by detection id (``<kind>_<frame>_<n>``), so they must come from a
    review of this very report: labels of another run (another fingerprint) are refused.
    """
    path = labels_path(qc_dir)
    has_labels = os.path.exists(path)
    used = verdicts or ("accepted" if has_labels else "all")
    if used not in VERDICTS:
        raise UsageError(f"--verdicts must be one of {', '.join(VERDICTS)}; got {used!r}")
    detections = list(report["detections"])
    if used == "all":
        return detections, Counter(), used
    if not has_labels:
        raise UsageError(
            f"--verdicts {used}: {qc_dir!r} has no labels.json; review it first "
            "(hotpixel review) or pass --verdicts all"
        )
    labels = load_labels(path)
    if labels.get("fingerprint") and labels["fingerprint"] != report.get("fingerprint"):
        raise InputError(
            f"{path!r} was reviewed on another run of this folder (fingerprint "
            f"{labels['fingerprint']}, the report's is {report.get('fingerprint')}); review "
            "the current report again, or pass --verdicts all"
        )
    verdict = {k: str(v.get("label")) for k, v in labels.get("labels", {}).items()}
    keep: list[dict[str, Any]] = []
    skipped: Counter[str] = Counter()
    for det_id, d in zip(detection_ids(detections), detections, strict=True):
        label = verdict.get(det_id, "unlabelled")
        if label == "accept" or (used == "unrejected" and label != "reject"):
            keep.append(d)
        else:
            skipped[label] += 1
    return keep, skipped, used


def repair_sequence(
    pattern: str, qc_dir: str, out_dir: str, grow: int = 1, frames: list[int] | None = None
) -> Iterator[FrameRepair]:
    """Repair every frame the QC report covers (or ``frames``), verdicts and checks by default."""
    yield from repair_frames(plan_repair(pattern, qc_dir, frames), qc_dir, out_dir, grow)


def repair_frames(
    plan: RepairPlan, qc_dir: str, out_dir: str, grow: int = 1
) -> Iterator[FrameRepair]:
    """Write the frames of ``plan`` to ``out_dir``; yield each as it is written.

    A frame with detections to repair is repaired; one without is copied byte for byte.
    """
    seq = plan.seq
    out_dir = os.path.abspath(out_dir)
    inputs = {os.path.realpath(p) for p in seq.paths.values()}
    if os.path.realpath(out_dir) == os.path.realpath(seq.pattern.directory or "."):
        raise OutputError(
            f"--out {out_dir!r} is the plate's own folder: the repaired frames would overwrite "
            "an input frame; pass another folder"
        )
    threshold = float(plan.report["threshold"])
    rows = {int(r["frame"]): r for r in plan.report["frames"]}
    os.makedirs(out_dir, exist_ok=True)
    for f in plan.frames:
        src = seq.paths[f]
        dst = os.path.join(out_dir, os.path.basename(src))
        if os.path.realpath(dst) in inputs:
            raise OutputError(f"{dst!r} would overwrite an input frame; pass a different --out")
        found = plan.detections.get(f, [])
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
