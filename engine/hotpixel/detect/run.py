"""The detection run: sequence in, masks, frame records and the report out.

Reading runs ahead in a background thread (:class:`~hotpixel.detect.windows.ReadAhead`), outputs are
written by a second background thread, so decoding, detection and encoding overlap. Memory is
bounded by the window plus a few frames, whatever the sequence length.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hotpixel import params as params_mod
from hotpixel.detect.detectors import Detector, create
from hotpixel.detect.grouping import find_detections
from hotpixel.detect.windows import ReadAhead, Window, plan_windows
from hotpixel.errors import OutputError, SequenceError
from hotpixel.io.atomic import ensure_folders
from hotpixel.io.canvas import Loaded, load_frame, scan_geometry
from hotpixel.io.exr_writer import MASK_CHANNEL, write_mask, write_plate_with_mask
from hotpixel.io.geometry import Geometry, paste
from hotpixel.io.sequence import FrameSequence, discover, format_ranges, select_frames
from hotpixel.outputs.report import (
    build_report,
    fingerprint,
    is_done,
    write_frame_record,
    write_run_record,
)
from hotpixel.outputs.schema import Detection
from hotpixel.params import DetectParams
from hotpixel.progress import Progress

MASK_FLOOR = 0.01  # probabilities below this are stored as 0 in masks (docs/outputs.md)


@dataclass
class DetectJob:
    """One detection run's inputs (what the CLI and the Nuke job file describe)."""

    pattern: str
    out_dir: str
    params: DetectParams = field(default_factory=DetectParams)
    frames: Sequence[int] | None = None
    exclude: Sequence[int] = ()  # frames treated as missing: never read, never processed
    allow_gaps: bool = False
    force: bool = False
    with_plate: bool = False
    workers: int = 1  # > 1: chunks run as that many processes (hotpixel.detect.parallel)


@dataclass
class RunResult:
    report: dict[str, Any]
    report_path: str
    processed: int
    skipped: int


def run_detect(job: DetectJob, progress: Progress | None = None) -> RunResult:
    """Run detection as ``job`` says; return the report. Raises :class:`HotPixelError` s."""
    progress = progress or Progress("none")
    params = params_mod.validate(job.params)
    seq = discover(job.pattern)
    targets = job_targets(seq, job)
    detector = create(params)
    if params.threshold is None:  # the detector's own operating point
        params = dataclasses.replace(params, threshold=detector.default_threshold)
    context = [f for f in context_frames(seq, targets) if f not in set(job.exclude)]
    plan = plan_windows(context, targets, detector.window_length)
    # a chunk with nothing to do still reads one header for the report's geometry
    needed = sorted({n for _, numbers in plan for n in numbers}) or list(seq.frames[:1])
    canvas, display = scan_geometry(seq, needed)
    out = os.path.abspath(job.out_dir)
    mask_names = {f: _mask_path(out, seq, f) for f in targets}
    _prepare_output(out, seq, mask_names, job.with_plate)
    det_info = {
        "name": detector.name,
        "version": detector.version,
        "model_version": detector.model_version,
    }
    fp = fingerprint(os.path.abspath(seq.pattern.display()), det_info, params_mod.to_dict(params))
    pending = [f for f in targets if job.force or not is_done(out, f, fp)]
    header = _run_header(seq, display, {**det_info, "runtime": detector.runtime}, params)
    write_run_record(out, fp, header)
    progress.start(
        len(pending),
        skipped=len(targets) - len(pending),
        frames=format_ranges(targets),
        summary=f"{_model_name(detector)} on {detector.runtime}, threshold {params.threshold:g}",
    )
    pending_set = set(pending)
    todo = [(f, w) for f, w in plan if f in pending_set]
    try:
        _process(todo, seq, canvas, detector, params, job, out, mask_names, fp, progress)
    finally:
        report = build_report(out, fp, header, targets)
    summary = report["summary"]
    report_path = os.path.join(out, "report.json")
    progress.finish(
        report=report_path, detections=summary["detections"], frames=len(targets), fingerprint=fp
    )
    return RunResult(report, report_path, len(pending), len(targets) - len(pending))


def _model_name(detector: Detector) -> str:
    """``neural temporal-v2``, or ``classical`` for a detector without a model."""
    model = detector.model_version
    return detector.name if model in ("", "none") else f"{detector.name} {model}"


def job_targets(seq: FrameSequence, job: DetectJob) -> list[int]:
    """The frames ``job`` processes: its ``frames`` (or all) less ``exclude``, gaps checked.

    A range lying wholly inside a hole of the shot (missing with ``allow_gaps``, or excluded)
    gives no frames rather than an error: a farm chunk that falls in a gap has nothing to do.
    """
    if not job.exclude and not job.allow_gaps:
        return select_frames(seq, job.frames, job.allow_gaps)
    wanted = list(job.frames or range(seq.first, seq.last + 1))
    kept = [f for f in wanted if f not in set(job.exclude)]
    inside = seq.first < min(wanted) and max(wanted) < seq.last
    if not any(f in seq.paths for f in kept):
        if inside:
            return []
        if not kept:
            raise SequenceError(f"--exclude leaves none of the frames {format_ranges(wanted)}")
    return select_frames(seq, kept, job.allow_gaps)


def _threshold(params: DetectParams) -> float:
    """The threshold in force; ``run_detect`` resolves a missing one from the detector."""
    if params.threshold is None:
        raise ValueError("threshold not resolved; run_detect fills it from the detector")
    return params.threshold


def context_frames(seq: FrameSequence, targets: list[int]) -> list[int]:
    """Frames windows may use: all that exist, except those left out inside the targets' span.

    Frames beyond the first and last target are read as context (a chunk then equals the whole
    shot); a frame the user left out between them (``--frames 1001-1004,1006-1010``) is treated
    as missing, so a damaged frame can be stepped over.
    """
    if not targets:
        return []
    first, last, chosen = targets[0], targets[-1], set(targets)
    return [f for f in seq.frames if not (first < f < last and f not in chosen)]


def _process(
    todo: list[tuple[int, tuple[int, ...]]],
    seq: FrameSequence,
    canvas: Geometry,
    detector: Detector,
    params: DetectParams,
    job: DetectJob,
    out: str,
    mask_names: dict[int, str],
    fp: str,
    progress: Progress,
) -> None:
    if not todo:
        return
    reader: ReadAhead[Loaded] = ReadAhead(todo, lambda n: load_frame(seq, n, canvas))
    meta = {
        "hotpixel:detector": detector.name,
        "hotpixel:detector_version": detector.version,
        "hotpixel:model_version": detector.model_version,
        "hotpixel:threshold": _threshold(params),
        "hotpixel:content": "probability",
    }
    writes: list[Future[None]] = []
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="hotpixel-write") as writer:
        for frame, numbers, items in reader.windows():
            centre = items[len(items) // 2]
            window = Window(tuple(i.rgb for i in items), numbers, len(items) // 2)
            prob = detector(window)  # (H, W) on the canvas
            detections, mask, oversized = _analyse(prob, centre, canvas, frame, params)
            while len(writes) >= 2:  # bound memory: at most two frames waiting to be written
                writes.pop(0).result()
            writes.append(
                writer.submit(
                    _write_frame,
                    out,
                    seq,
                    frame,
                    centre,
                    mask,
                    canvas,
                    mask_names[frame],
                    {**meta, "hotpixel:source": centre.frame.path},
                    job.with_plate,
                    fp,
                    detections,
                    oversized,
                )
            )
            progress.frame(frame, len(detections))
        for w in writes:
            w.result()


def excess_weight(prob: np.ndarray, rgb: np.ndarray) -> Callable[[np.ndarray, np.ndarray], Any]:
    """Centroid weights at flagged pixels: probability times light above the local floor.

    The light is the tone-compressed brightest channel, ``m / (1 + m)``; the floor its minimum
    over the 5x5 neighbourhood (clamped at the frame's edges). So a faint halo pixel that
    crossed the threshold does not pull the centre of a bright one. Computed at the flagged
    pixels only, not over the frame: they are few.
    """
    h, w = prob.shape
    steps = np.arange(-2, 3)

    def at(ys: np.ndarray, xs: np.ndarray) -> Any:
        yy = np.clip(ys[:, None, None] + steps[None, :, None], 0, h - 1)
        xx = np.clip(xs[:, None, None] + steps[None, None, :], 0, w - 1)
        m = np.clip(rgb[yy, xx].max(axis=-1), np.float32(0.0), np.float32(1e30))  # (N, 5, 5)
        tone = m / (np.float32(1.0) + m)
        floor = tone.reshape(len(ys), -1).min(axis=1)
        return prob[ys, xs] * np.maximum(tone[:, 2, 2] - floor, np.float32(0.0))

    return at


def _analyse(
    prob: np.ndarray, item: Loaded, canvas: Geometry, frame: int, params: DetectParams
) -> tuple[list[Detection], np.ndarray, int]:
    rgb = item.rgb
    weight = excess_weight(prob, rgb)
    mask = np.where(prob >= MASK_FLOOR, prob, 0.0).astype(np.float32)
    if item.nonfinite is not None:
        prob = np.where(item.nonfinite, 0.0, prob)
    found = find_detections(
        prob, weight, rgb, canvas, frame, _threshold(params), params.max_area, "hot"
    )
    detections = list(found.detections)
    if item.nonfinite is not None:
        bad = item.nonfinite.astype(np.float32)
        raw = paste(item.frame.rgb, item.frame.geometry, canvas)  # colour with NaN/Inf kept
        nf = find_detections(bad, bad, raw, canvas, frame, 0.5, bad.size, "nonfinite")
        detections.extend(nf.detections)
        mask[item.nonfinite] = 1.0
    return detections, mask, found.oversized_regions


def _write_frame(
    out: str,
    seq: FrameSequence,
    frame: int,
    item: Loaded,
    mask: np.ndarray,
    canvas: Geometry,
    mask_path: str,
    meta: dict[str, Any],
    with_plate: bool,
    fp: str,
    detections: list[Detection],
    oversized: int,
) -> None:
    own = item.frame.geometry
    own_mask = mask if own == canvas else paste(mask, canvas, own)
    write_mask(mask_path, own_mask, own, meta)
    if with_plate:
        plate_path = os.path.join(out, "plate", os.path.basename(mask_path))
        rgb = item.frame.rgb
        write_plate_with_mask(
            plate_path, rgb, item.frame.alpha, own_mask, own, item.frame.pixel_format, meta
        )
    write_frame_record(out, frame, seq.path(frame), mask_path, fp, detections, oversized)


def _mask_path(out: str, seq: FrameSequence, frame: int) -> str:
    pat = seq.pattern
    stem = pat.prefix.rstrip("._-") or "frame"
    digits = str(abs(frame)).zfill(pat.padding)
    sign = "-" if frame < 0 else ""
    return os.path.join(out, "masks", f"{stem}.hotpixel.{sign}{digits}.exr")


def mask_pattern(seq: FrameSequence) -> str:
    """The masks' pattern relative to the output folder, in Nuke's ``####`` form."""
    stem = seq.pattern.prefix.rstrip("._-") or "frame"
    hashes = "#" * max(seq.pattern.padding, 1)
    return f"masks/{stem}.hotpixel.{hashes}.exr"


def _prepare_output(
    out: str, seq: FrameSequence, mask_names: dict[int, str], with_plate: bool
) -> None:
    inputs = {os.path.realpath(p) for p in seq.paths.values()}
    ensure_folders(out, ("masks", "frames", "tracks", *(("plate",) if with_plate else ())))
    clash = [p for p in mask_names.values() if os.path.realpath(p) in inputs]
    if clash:
        raise OutputError(
            f"output {clash[0]!r} would overwrite an input frame; pass a different --out"
        )


def _run_header(
    seq: FrameSequence, display: Geometry, det_info: dict[str, str], params: DetectParams
) -> dict[str, Any]:
    """What the report says of the run besides its frames (kept as ``runs/<fingerprint>.json``)."""
    return {
        "source": {
            "pattern": seq.pattern.display(),
            "width": display.full_width,
            "height": display.full_height,
            "geometry": display.as_dict(),
        },
        "detector": det_info,
        "threshold": params.threshold,
        "params": params_mod.to_dict(params),
        "mask": {
            "channel": MASK_CHANNEL,
            "content": "probability",
            "floor": MASK_FLOOR,
            "pattern": mask_pattern(seq),
        },
    }
