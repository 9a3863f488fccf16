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
from hotpixel.detect import detectors
from hotpixel.detect.detectors import Detector, create
from hotpixel.detect.grouping import find_detections
from hotpixel.detect.windows import ReadAhead, Window, plan_windows
from hotpixel.errors import OutputError, SequenceError
from hotpixel.io.atomic import ensure_folders
from hotpixel.io.canvas import Loaded, choose_colour, load_frame, scan_geometry
from hotpixel.io.colour import Decoder
from hotpixel.io.exr_writer import MASK_CHANNEL, write_mask, write_plate_with_mask
from hotpixel.io.geometry import Geometry, paste
from hotpixel.io.sequence import FrameSequence, discover, format_ranges, select_frames
from hotpixel.outputs.masks import clean_mask, mask_floor
from hotpixel.outputs.records import write_frame_record, write_run_record
from hotpixel.outputs.report import build_report, no_context_warning
from hotpixel.outputs.resume import INPUT_CHANGED, Stale, fingerprint, input_stamp, resume_check
from hotpixel.outputs.schema import Detection
from hotpixel.params import DetectParams
from hotpixel.progress import Progress


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
    recomputed: dict[str, list[int]] = field(default_factory=dict)  # reason -> frames


def run_detect(job: DetectJob, progress: Progress | None = None) -> RunResult:
    """Run detection as ``job`` says; return the report. Raises :class:`HotPixelError` s.

    A frame finished by an earlier run into the same folder is reused only when its settings,
    its window and every file the window reads are unchanged (:func:`resume_check`); the
    frames computed again are reported through ``progress`` with the reason.
    """
    progress = progress or Progress("none")
    params = params_mod.validate(job.params)
    seq = discover(job.pattern)
    targets = job_targets(seq, job)
    detector = create(params)
    if params.threshold is None:  # the detector's own operating point
        params = dataclasses.replace(params, threshold=detector.default_threshold)
    context = [f for f in context_frames(seq, targets) if f not in set(job.exclude)]
    plan = plan_windows(context, targets, detector.window_length)
    read = sorted({n for _, numbers in plan for n in numbers})
    # a chunk with nothing to do still reads one header for the report's geometry
    canvas, display = scan_geometry(seq, read or list(seq.frames[:1]))
    # from the sequence's first usable frame, so every chunk of a shot chooses alike
    excluded = set(job.exclude)
    first = [next((f for f in seq.frames if f not in excluded), seq.frames[0])]
    colour = choose_colour(seq, first, params.colorspace, params.ocio)
    decoder = Decoder(colour)
    out = os.path.abspath(job.out_dir)
    mask_names = {f: _mask_path(out, seq, f) for f in targets}
    _prepare_output(out, seq, mask_names, job.with_plate)
    det_info = {
        "name": detector.name,
        "version": detector.version,
        "model_version": detector.model_version,
    }
    # the encoding as resolved (a changed $OCIO or file metadata changes what the frames are)
    resolved = {"colorspace": colour.colorspace, "ocio": colour.config}
    fp = fingerprint(
        os.path.abspath(seq.pattern.display()),
        det_info,
        {**params_mod.to_dict(effective(params)), **resolved},
    )
    stamps = {n: input_stamp(n, seq.path(n)) for n in read}
    inputs = {f: [stamps[n] for n in sorted(set(w))] for f, w in plan}
    windows = dict(plan)
    stale = {f: resume_check(out, f, fp, windows[f], inputs[f]) for f in targets}
    pending = [f for f in targets if job.force or stale[f] is not None]
    recomputed = _recomputed(stale) if not job.force else {}
    flag_warnings = [_inert_warning(name, params) for name in inert_params(params)]
    if colour.warning:
        flag_warnings.append({"code": "colour_assumed", "message": colour.warning})
    alone = [f for f, w in plan if len(set(w)) == 1]
    header = _run_header(seq, display, {**det_info, "runtime": detector.runtime}, params, job)
    header["warnings"] = flag_warnings
    header["colour"] = colour.as_dict()
    write_run_record(out, fp, header)
    progress.start(
        len(pending),
        skipped=len(targets) - len(pending),
        frames=format_ranges(targets),
        summary=f"{_model_name(detector)} on {detector.runtime}, threshold "
        f"{params.threshold:g}"
        + ("" if colour.chosen_by == "linear" else f"; {colour.describe()}"),
    )
    for warning in [*flag_warnings, *([no_context_warning(alone)] if alone else [])]:
        progress.warning(warning["message"], warning["code"])
    if recomputed:
        progress.recompute(recomputed, recompute_text(stale))
    pending_set = set(pending)
    todo = [(f, w) for f, w in plan if f in pending_set]
    try:
        _process(
            todo, seq, canvas, detector, params, job, out, mask_names, fp, inputs, progress, decoder
        )
    finally:
        report = build_report(out, fp, header, targets)
    report_path = announce_report(progress, report, out, len(targets), fp)
    skipped = len(targets) - len(pending)
    return RunResult(report, report_path, len(pending), skipped, recomputed)


def announce_report(
    progress: Progress, report: dict[str, Any], out: str, frames: int, fp: str | None
) -> str:
    """Tell ``progress`` the run's report is written; return its path."""
    report_path = os.path.join(os.path.abspath(out), "report.json")
    progress.finish(
        report=report_path,
        detections=report["summary"]["detections"],
        frames=frames,
        fingerprint=fp,
        warnings=len(report["warnings"]),
    )
    return report_path


def inert_params(params: DetectParams) -> list[str]:
    """Parameters set away from their default that the chosen detector does not read."""
    defaults = DetectParams()
    ignored = detectors.kind(params.detector).ignores
    return [
        f.name
        for f in params_mod.param_fields()
        if f.name in ignored and getattr(params, f.name) != getattr(defaults, f.name)
    ]


def effective(params: DetectParams) -> DetectParams:
    """``params`` with the ones the detector ignores put back to their defaults.

    The resume fingerprint is taken from these, so a flag that changes nothing never forces a
    recompute.
    """
    defaults = DetectParams()
    return dataclasses.replace(params, **{n: getattr(defaults, n) for n in inert_params(params)})


def _inert_warning(name: str, params: DetectParams) -> dict[str, Any]:
    flag = f"--{params_mod.flag_name(name)}"
    choices = next(f for f in params_mod.param_fields() if f.name == "detector").metadata["choices"]
    users = " or ".join(d for d in choices if name in detectors.kind(d).reads)
    return {
        "code": "inert_parameter",
        "parameter": name,
        "message": (
            f"{flag} {getattr(params, name)!r} does nothing with --detector {params.detector}, "
            f"which does not read it (results and resume are as without it); it applies to "
            f"--detector {users}"
        ),
    }


def _recomputed(stale: dict[int, Stale | None]) -> dict[str, list[int]]:
    """Reason -> frames, for frames that had a record but cannot reuse it."""
    out: dict[str, list[int]] = {}
    for f, s in sorted(stale.items()):
        if s is not None and s.reason:
            out.setdefault(s.reason, []).append(f)
    return out


def recompute_text(stale: dict[int, Stale | None]) -> str:
    """``recomputing 5 frame(s): 1000-1004 (an input frame changed: 1002)`` for people."""
    by_reason = _recomputed(stale)
    changed = sorted({c for s in stale.values() if s is not None for c in s.changed})
    parts = []
    for reason, frames in by_reason.items():
        detail = ""
        if reason == INPUT_CHANGED and changed:
            detail = f": {format_ranges(changed)}, by size or modification time"
        parts.append(f"{format_ranges(frames)} ({reason}{detail})")
    total = sum(len(f) for f in by_reason.values())
    return f"recomputing {total} frame(s): " + "; ".join(parts)


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
    inputs: dict[int, list[dict[str, Any]]],
    progress: Progress,
    decoder: Decoder | None = None,
) -> None:
    if not todo:
        return
    # one frame ahead is enough to keep detection fed: decoding a frame takes a fraction of
    # detecting it (docs/performance.md), and each frame held is 100 MB at 4K
    reader: ReadAhead[Loaded] = ReadAhead(
        todo, lambda n: load_frame(seq, n, canvas, decoder), lookahead=1
    )
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
            for code, text in _detector_warnings(detector):
                progress.warning(text, code)
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
                    (numbers, inputs[frame]),
                )
            )
            progress.frame(frame, len(detections))
        for w in writes:
            w.result()


def _detector_warnings(detector: Detector) -> list[tuple[str, str]]:
    """``(code, message)`` a detector has for the user since it was last asked (a detector
    with a ``take_warnings`` method: the cascade's cap on candidates per frame)."""
    take: Callable[[], list[tuple[str, str]]] | None = getattr(detector, "take_warnings", None)
    return take() if take is not None else []


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
    mask = clean_mask(prob, _threshold(params))  # zero below half the threshold (issue 21)
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
    read: tuple[tuple[int, ...], list[dict[str, Any]]],
) -> None:
    """Write one frame's mask (and plate), then its record; ``read`` is (window, input stamps)."""
    own = item.frame.geometry
    own_mask = mask if own == canvas else paste(mask, canvas, own)
    write_mask(mask_path, own_mask, own, meta)
    if with_plate:
        plate_path = os.path.join(out, "plate", os.path.basename(mask_path))
        rgb = item.frame.rgb
        write_plate_with_mask(
            plate_path, rgb, item.frame.alpha, own_mask, own, item.frame.pixel_format, meta
        )
    window, stamps = read
    write_frame_record(
        out, frame, seq.path(frame), mask_path, fp, detections, oversized, window, stamps
    )


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


def check_out_folder(out: str, seq: FrameSequence, flag: str = "--out") -> None:
    """Refuse an output folder that is the plate's own: QC files must not mix into a delivery."""
    out = os.path.abspath(out)
    if os.path.realpath(out) == os.path.realpath(seq.pattern.directory or "."):
        suggestion = os.path.join(os.path.dirname(out), "qc")
        raise OutputError(
            f"{flag} {out!r} is the plate's own folder; outputs must not be mixed into the "
            f"plate's delivery. Pass another folder, e.g. {suggestion!r}"
        )


def _prepare_output(
    out: str, seq: FrameSequence, mask_names: dict[int, str], with_plate: bool
) -> None:
    check_out_folder(out, seq)
    inputs = {os.path.realpath(p) for p in seq.paths.values()}
    ensure_folders(out, ("masks", "frames", "tracks", *(("plate",) if with_plate else ())))
    clash = [p for p in mask_names.values() if os.path.realpath(p) in inputs]
    if clash:
        raise OutputError(
            f"output {clash[0]!r} would overwrite an input frame; pass a different --out"
        )


def _run_header(
    seq: FrameSequence,
    display: Geometry,
    det_info: dict[str, str],
    params: DetectParams,
    job: DetectJob,
) -> dict[str, Any]:
    """What the report says of the run besides its frames (kept as ``runs/<fingerprint>.json``).

    The source pattern is absolute, so the report can be opened from any folder; the pattern
    as the user gave it is kept beside it for display.
    """
    return {
        "source": {
            "pattern": os.path.abspath(seq.pattern.display()),
            "pattern_given": job.pattern,
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
            "floor": mask_floor(_threshold(params)),
            "pattern": mask_pattern(seq),
        },
    }
