"""The detection run in this process: sequence in; masks, frame records and the report out.

A frame finished by an earlier run into the same folder is reused only when its settings, its
window and every file the window reads are unchanged
(:func:`~hotpixel.outputs.resume.resume_check`); when only the threshold went up, its
detections are found again in its stored probability map, without the detector. The frames
themselves go through :mod:`hotpixel.run.frames`.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hotpixel import params as params_mod
from hotpixel.detect.detectors import Detector, create
from hotpixel.detect.windows import plan_windows
from hotpixel.io.canvas import choose_colour, scan_geometry
from hotpixel.io.colour import Decoder, InputColour
from hotpixel.io.exr_writer import MASK_CHANNEL
from hotpixel.io.frames import choice_warning
from hotpixel.io.geometry import Geometry
from hotpixel.io.movie import source_fields
from hotpixel.io.sequence import FrameSequence, discover, format_ranges
from hotpixel.outputs.masks import mask_floor
from hotpixel.outputs.records import write_run_record
from hotpixel.outputs.report import build_report, no_context_warning
from hotpixel.outputs.resume import (
    INPUT_CHANGED,
    RETHRESHOLD,
    Stale,
    fingerprint,
    input_stamp,
    resume_check,
    run_settings,
)
from hotpixel.params import DetectParams
from hotpixel.progress import Progress
from hotpixel.run.frames import RunContext, process, rethreshold
from hotpixel.run.job import DetectJob, RunResult, context_frames, job_targets
from hotpixel.run.layout import mask_path, mask_pattern, prepare_output
from hotpixel.run.parameters import effective, inert_warnings, resolved_threshold, selection


@dataclass(frozen=True)
class RunPlan:
    """What a run will read and judge, before anything is read."""

    seq: FrameSequence
    targets: list[int]  # the frames the run processes
    detector: Detector
    params: DetectParams  # validated, threshold resolved
    windows: dict[int, tuple[int, ...]]  # target -> the frame numbers of its window
    read: list[int]  # every frame a window reads


def run_detect(job: DetectJob, progress: Progress | None = None) -> RunResult:
    """Run detection as ``job`` says; return the report. Raises :class:`HotPixelError` s.

    The frames computed again although they have a record are reported through ``progress``
    with the reason.
    """
    progress = progress or Progress("none")
    plan = plan_run(job)
    ctx, colour, display = _context(job, plan)
    settings = _settings(plan, colour)
    stale = {
        f: resume_check(ctx.out, f, ctx.fingerprint, plan.windows[f], ctx.inputs[f], settings)
        for f in plan.targets
    }
    if job.force:
        stale = {f: Stale("") for f in plan.targets}  # everything computed, nothing re-derived
    again = [f for f in plan.targets if stale[f] == Stale(RETHRESHOLD)]
    stale = {f: s for f, s in stale.items() if f not in set(again)}
    pending = [f for f in plan.targets if stale.get(f) is not None]
    recomputed = _recomputed(stale)
    header = _run_header(job, plan, display, colour, ctx.canvas)
    write_run_record(ctx.out, ctx.fingerprint, header, settings)
    _announce_start(progress, plan, header, colour, len(pending) + len(again))
    if recomputed:
        progress.recompute(recomputed, recompute_text(stale))
    if again:
        progress.message(
            f"re-thresholding {len(again)} frame(s) at {plan.params.threshold:g} from their "
            f"stored probability maps, without running the detector: {format_ranges(again)}"
        )
    todo = [(f, plan.windows[f]) for f in plan.targets if f in set(pending)]
    try:
        rethreshold(ctx, [(f, plan.windows[f]) for f in again], progress)
        process(ctx, todo, progress)
    finally:
        report = build_report(ctx.out, ctx.fingerprint, header, plan.targets)
    report_path = announce_report(progress, report, ctx.out, len(plan.targets), ctx.fingerprint)
    done = len(pending) + len(again)  # frames written by this run, by detector or threshold
    return RunResult(report, report_path, done, len(plan.targets) - done, recomputed, len(again))


def plan_run(job: DetectJob) -> RunPlan:
    """Check ``job``'s parameters, find its frames, make its detector and plan its windows."""
    params = params_mod.validate(job.params)
    seq = discover(job.pattern)
    targets = job_targets(seq, job)
    detector = create(params)
    if params.threshold is None:  # the detector's own operating point
        params = dataclasses.replace(params, threshold=detector.default_threshold)
    context = [f for f in context_frames(seq, targets) if f not in set(job.exclude)]
    windows = dict(plan_windows(context, targets, detector.window_length))
    read = sorted({n for numbers in windows.values() for n in numbers})
    return RunPlan(seq, targets, detector, params, windows, read)


def _context(job: DetectJob, plan: RunPlan) -> tuple[RunContext, InputColour, Geometry]:
    """The run's :class:`RunContext`, its input colour and the display geometry of the shot.

    Prepares the output folder and stamps every input file the windows read.
    """
    seq = plan.seq
    # a chunk with nothing to do still reads one header for the report's geometry
    canvas, display = scan_geometry(seq, plan.read or list(seq.frames[:1]), selection(plan.params))
    colour = _colour(seq, job, plan.params)
    decoder = Decoder(colour)
    out = os.path.abspath(job.out_dir)
    mask_names = {f: mask_path(out, seq, f) for f in plan.targets}
    prepare_output(out, seq, mask_names, job.with_plate)
    fp = run_fingerprint(seq, plan.detector, plan.params, colour)
    stamps = {n: input_stamp(n, seq.path(n)) for n in plan.read}
    inputs = {f: [stamps[n] for n in sorted(set(w))] for f, w in plan.windows.items()}
    ctx = RunContext(
        seq,
        canvas,
        plan.detector,
        plan.params,
        out,
        fp,
        mask_names,
        inputs,
        decoder,
        job.with_plate,
    )
    return ctx, colour, display


def _colour(seq: FrameSequence, job: DetectJob, params: DetectParams) -> InputColour:
    """The input encoding, chosen from the sequence's first usable frame, so every chunk of a
    shot chooses alike."""
    excluded = set(job.exclude)
    first = [next((f for f in seq.frames if f not in excluded), seq.frames[0])]
    return choose_colour(seq, first, params.colorspace, params.ocio, selection(params))


def _fingerprint_inputs(
    seq: FrameSequence, detector: Detector, params: DetectParams, colour: InputColour
) -> tuple[str, dict[str, str], dict[str, Any]]:
    """Source, detector and the parameters it reads, with the encoding as resolved."""
    # the encoding as resolved (a changed $OCIO or file metadata changes what the frames are)
    resolved = {"colorspace": colour.colorspace, "ocio": colour.config}
    return (
        os.path.abspath(seq.pattern.display()),
        _detector_info(detector),
        {**params_mod.to_dict(effective(params)), **resolved},
    )


def run_fingerprint(
    seq: FrameSequence, detector: Detector, params: DetectParams, colour: InputColour
) -> str:
    """The resume fingerprint: source, detector, the parameters it reads, the encoding."""
    return fingerprint(*_fingerprint_inputs(seq, detector, params, colour))


def _settings(plan: RunPlan, colour: InputColour) -> dict[str, Any]:
    """What the fingerprint hashes, readable (kept in the run record for the next rerun)."""
    return run_settings(*_fingerprint_inputs(plan.seq, plan.detector, plan.params, colour))


def _detector_info(detector: Detector) -> dict[str, str]:
    return {
        "name": detector.name,
        "version": detector.version,
        "model_version": detector.model_version,
    }


def _announce_start(
    progress: Progress, plan: RunPlan, header: dict[str, Any], colour: InputColour, pending: int
) -> None:
    """Tell ``progress`` what the run will do, and each of its warnings."""
    detector, threshold = plan.detector, plan.params.threshold
    described = "" if colour.chosen_by == "linear" else f"; {colour.describe()}"
    progress.start(
        pending,
        skipped=len(plan.targets) - pending,
        frames=format_ranges(plan.targets),
        summary=f"{_model_name(detector)} on {detector.runtime}, threshold {threshold:g}"
        + described,
    )
    alone = [f for f, w in plan.windows.items() if len(set(w)) == 1]
    for warning in [*header["warnings"], *([no_context_warning(alone)] if alone else [])]:
        progress.warning(warning["message"], warning["code"])


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


def _recomputed(stale: dict[int, Stale | None]) -> dict[str, list[int]]:
    """Reason -> frames, for frames that had a record but cannot reuse it."""
    out: dict[str, list[int]] = {}
    for f, s in sorted(stale.items()):
        if s is not None and s.reason:
            out.setdefault(s.reason, []).append(f)
    return out


def recompute_text(stale: dict[int, Stale | None]) -> str:
    """``recomputing 5 frame(s): 1000-1004 (an input frame changed: 1002 by content (same
    size and time))`` for people: which input frames changed, and how that was seen."""
    by_reason = _recomputed(stale)
    changed = sorted({c for s in stale.values() if s is not None for c in s.changed})
    content = sorted({c for s in stale.values() if s is not None for c in s.content})
    parts = []
    for reason, frames in by_reason.items():
        detail = ""
        if reason == INPUT_CHANGED and changed:
            quick = [f for f in changed if f not in set(content)]
            how = [f"{format_ranges(quick)} by size or modification time"] if quick else []
            if content:
                how.append(f"{format_ranges(content)} by content (same size and time)")
            detail = ": " + " and ".join(how)
        parts.append(f"{format_ranges(frames)} ({reason}{detail})")
    total = sum(len(f) for f in by_reason.values())
    return f"recomputing {total} frame(s): " + "; ".join(parts)


def size_warnings(detector: Detector, canvas: Geometry) -> list[dict[str, str]]:
    """What a detector says of judging pictures of the canvas's size (a detector with a
    ``size_warning`` method: the cascade on pictures too small for optical flow)."""
    check: Callable[[int, int], tuple[str, str] | None] | None
    check = getattr(detector, "size_warning", None)
    found = check(canvas.height, canvas.width) if check is not None else None
    return [] if found is None else [{"code": found[0], "message": found[1]}]


def _model_name(detector: Detector) -> str:
    """``neural temporal-v2``, or ``classical`` for a detector without a model."""
    model = detector.model_version
    return detector.name if model in ("", "none") else f"{detector.name} {model}"


def _run_header(
    job: DetectJob, plan: RunPlan, display: Geometry, colour: InputColour, canvas: Geometry
) -> dict[str, Any]:
    """What the report says of the run besides its frames (kept as ``runs/<fingerprint>.json``).

    The source pattern is absolute, so the report can be opened from any folder; the pattern
    as the user gave it is kept beside it for display.
    """
    seq, params = plan.seq, plan.params
    warnings = inert_warnings(params)
    if colour.warning:
        warnings.append({"code": "colour_assumed", "message": colour.warning})
    warnings.extend(size_warnings(plan.detector, canvas))
    first = plan.read[0] if plan.read else seq.frames[0]
    choice = choice_warning(seq.path(first), first, selection(params))
    if choice:
        warnings.append({"code": "part_chosen", "message": choice})
    return {
        "source": {
            "pattern": os.path.abspath(seq.pattern.display()),
            "pattern_given": job.pattern,
            "width": display.full_width,
            "height": display.full_height,
            "geometry": display.as_dict(),
            **source_fields(seq),
        },
        "detector": {**_detector_info(plan.detector), "runtime": plan.detector.runtime},
        "threshold": params.threshold,
        "params": params_mod.to_dict(params),
        "mask": {
            "channel": MASK_CHANNEL,
            "content": "probability",
            "floor": mask_floor(resolved_threshold(params)),
            "pattern": mask_pattern(seq),
        },
        "warnings": warnings,
        "colour": colour.as_dict(),
    }
