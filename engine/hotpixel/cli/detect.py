"""Detect hot pixels in a plate sequence; write masks, report.json, detections.csv, tracks."""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from typing import Any

from hotpixel import params as params_mod
from hotpixel.cli.flags import add_output_flags
from hotpixel.cli.report import add_html_flag, add_sheet_flag, write_sheet_if
from hotpixel.errors import SequenceError, UsageError
from hotpixel.io.sequence import parse_frame_range
from hotpixel.outputs.qc_page import write_html_report
from hotpixel.params import DetectParams, flag_name
from hotpixel.progress import Progress
from hotpixel.run.job import DetectJob
from hotpixel.run.parallel import detect


def add_parser(sub: Any, name: str) -> argparse.ArgumentParser:
    p: argparse.ArgumentParser = sub.add_parser(
        name,
        help=__doc__,
        description=__doc__,
        allow_abbrev=False,
    )
    p.add_argument(
        "pattern", help="shot.####.exr, shot.%%04d.exr, shot.$F4.exr, a folder or a file"
    )
    p.add_argument("--out", required=True, help="output folder (created; reruns resume in it)")
    p.add_argument("--frames", help="frames to process, e.g. 1001-1100 (context is read around)")
    p.add_argument(
        "--exclude",
        help="frames to treat as missing: never read, not even as context (e.g. a damaged 1047)",
    )
    p.add_argument(
        "--workers",
        type=int,
        default=1,
        help="run the frames as this many chunks in parallel processes, then merge",
    )
    p.add_argument(
        "--allow-gaps", action="store_true", help="skip missing frames instead of failing"
    )
    p.add_argument("--force", action="store_true", help="redo frames already done in --out")
    p.add_argument(
        "--with-plate",
        action="store_true",
        help="also write plate/ EXRs holding the plate's RGB(A) plus hotpixel.mask",
    )
    add_output_flags(p, progress="bar")
    add_html_flag(p)
    add_sheet_flag(p)
    add_param_flags(p)
    p.set_defaults(run=run)
    return p


def add_param_flags(p: argparse.ArgumentParser, cls: type[Any] = DetectParams) -> None:
    """One flag per field of a parameter dataclass, help and choices from its declaration."""
    defaults = cls()
    for f in dataclasses.fields(cls):
        value = getattr(defaults, f.name)
        kind = float if value is None else type(value)  # threshold: None = detector's own
        p.add_argument(
            f"--{flag_name(f.name)}",
            dest=f.name,
            type=kind,
            default=getattr(defaults, f.name),
            choices=f.metadata.get("choices"),
            help=f.metadata["help"],
        )


def params_from_args(args: argparse.Namespace) -> DetectParams:
    values = {f.name: getattr(args, f.name) for f in dataclasses.fields(DetectParams)}
    return params_mod.from_dict(values)


def frame_flag(text: str | None, flag: str = "--frames") -> list[int] | None:
    """A frame-range flag parsed; a malformed value is a usage error (exit 2), not an input one."""
    if not text:
        return None
    try:
        return parse_frame_range(text)
    except SequenceError as exc:
        raise UsageError(f"{flag}: {exc}") from exc


def run(args: argparse.Namespace) -> int:
    mode = "none" if args.quiet and args.progress == "bar" else args.progress
    progress = Progress(mode)
    args.emit_error = progress.error
    job = DetectJob(
        pattern=args.pattern,
        out_dir=args.out,
        params=params_from_args(args),
        frames=frame_flag(args.frames),
        exclude=frame_flag(args.exclude, "--exclude") or (),
        allow_gaps=args.allow_gaps,
        force=args.force,
        with_plate=args.with_plate,
        workers=args.workers,
    )
    result = detect(job, progress)
    out_dir = os.path.dirname(result.report_path)
    sheet = write_sheet_if(args, out_dir, result.report)  # first: the page links it
    if args.html:
        write_html_report(out_dir, result.report)
    if not args.quiet and mode != "json":  # --progress none hides progress, not the outcome
        if sheet:  # before the summary, which stays the last line
            print(sheet, file=sys.stderr)
        print(summary_line(result.report, result.report_path, result.recomputed), file=sys.stderr)
    return 1 if args.fail_on_detections and result.report["summary"]["detections"] else 0


def summary_line(
    report: dict[str, Any], report_path: str, recomputed: dict[str, list[int]] | None = None
) -> str:
    """The one line a person reads at the end of a run or a merge.

    It names the frames computed again because an earlier result was stale, and the report's
    warnings (the warnings themselves were printed as they came up).
    """
    summary = report["summary"]
    kinds = ", ".join(f"{v} {k}" for k, v in summary["by_kind"].items()) or "none"
    pending = summary["frames_pending"]
    waiting = f"; {len(pending)} frame(s) pending" if pending else ""
    redone = sorted(f for frames in (recomputed or {}).values() for f in frames)
    why = ", ".join(recomputed or {})
    again = f"; {len(redone)} frame(s) recomputed ({why})" if redone else ""
    warnings = report.get("warnings", [])
    codes = ", ".join(sorted({str(w.get("code", "")).replace("_", " ") for w in warnings}))
    warned = f"; WARNING: {codes}" if warnings else ""
    return (
        f"{summary['detections']} detection(s) ({kinds}) in "
        f"{summary['frames_with_detections']} of {summary['frames_processed']} frame(s)"
        f"{waiting}{again}{warned}; report: {report_path}"
    )
