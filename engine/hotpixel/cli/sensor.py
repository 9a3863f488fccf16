"""Find dead, stuck and persistent hot photosites over a whole shot; write sensor/ and tracks."""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from typing import Any

from hotpixel.cli.detect import add_param_flags, frame_flag
from hotpixel.cli.flags import add_output_flags
from hotpixel.outputs.merge import merge_report
from hotpixel.outputs.records import read_run_records
from hotpixel.progress import Progress
from hotpixel.sensor import SensorJob, SensorParams, run_sensor


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
    p.add_argument("--out", required=True, help="output folder (may be a detect run's)")
    p.add_argument("--frames", help="frames to analyse, e.g. 1001-1100 (default: all)")
    p.add_argument(
        "--allow-gaps", action="store_true", help="skip missing frames instead of failing"
    )
    add_output_flags(p, progress="bar", gate="a defective photosite is found")
    add_param_flags(p, SensorParams)
    p.add_argument(
        "--colorspace", default="", help="the plate's encoding (OCIO name); empty: its metadata"
    )
    p.add_argument("--ocio", default="", help="OCIO config; empty: $OCIO, else the built-in one")
    p.set_defaults(run=run)
    return p


def run(args: argparse.Namespace) -> int:
    mode = "none" if args.quiet and args.progress == "bar" else args.progress
    progress = Progress(mode)
    args.emit_error = progress.error
    params = SensorParams(
        **{f.name: getattr(args, f.name) for f in dataclasses.fields(SensorParams)}
    )
    job = SensorJob(
        pattern=args.pattern,
        out_dir=args.out,
        params=params,
        frames=frame_flag(args.frames),
        allow_gaps=args.allow_gaps,
        colorspace=args.colorspace,
        ocio=args.ocio,
    )
    result = run_sensor(job, progress).result
    if read_run_records(os.path.abspath(args.out)):  # a detect report lives here: fold us in
        merge_report(args.out)
    if mode == "bar":
        print(summary_line(result), file=sys.stderr)
        for warning in result["warnings"]:
            print(f"warning: {warning['message']}", file=sys.stderr)
    return 1 if args.fail_on_detections and result["summary"]["defects"] else 0


def summary_line(result: dict[str, Any]) -> str:
    """The one line a person reads at the end of a run."""
    s = result["summary"]
    kinds = ", ".join(f"{v} {k}" for k, v in s["by_kind"].items()) or "none"
    return (
        f"{s['defects']} defective position(s) ({kinds}) over {result['source']['frame_count']} "
        f"frame(s), {result['motion']['evidence_frames']} of them evidence for a typical "
        "photosite (its content moved); "
        f"{s['candidates']} unconfirmed; sensor.json in {result['mask']['path'].split('/')[0]}/"
    )
