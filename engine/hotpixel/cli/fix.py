"""Repair flagged pixels: write fixed frames from a plate and its QC folder (all else kept)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from hotpixel.cli.detect import frame_flag
from hotpixel.errors import UsageError
from hotpixel.fix.plan import VERDICTS, RepairPlan, plan_repair
from hotpixel.fix.repair import repair_frames
from hotpixel.io.sequence import format_ranges


def add_parser(sub: Any, name: str) -> argparse.ArgumentParser:
    p: argparse.ArgumentParser = sub.add_parser(
        name,
        help=__doc__,
        description=__doc__
        + " Each detection's pixels (mask at or above the report's threshold inside its box,"
        " grown by --grow) take the median of the clean pixels around them, per colour channel,"
        " in the plate's own values (no colour transform). Dead, stuck and persistent positions"
        " of a sensor pass (hotpixel sensor into the same folder) are repaired the same way on"
        " every frame the pass covered. Every frame the QC folder covers (or --frames) is"
        " written: repaired, or copied unchanged where nothing is repaired. Frames it does not"
        " cover are not written."
        " The plate must be the one the QC folder was made from (same source path, size and"
        " files), unless --force.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        allow_abbrev=False,
    )
    p.add_argument("pattern", help="the plate, as given to hotpixel detect")
    p.add_argument("--qc", required=True, help="the --out folder of hotpixel detect")
    p.add_argument("--out", required=True, help="folder for the repaired frames (not the plate's)")
    p.add_argument("--grow", type=int, default=1, help="pixels to grow each flagged area by")
    p.add_argument(
        "--frames", help="frames to repair (default: every frame the report or sensor pass covers)"
    )
    p.add_argument(
        "--verdicts",
        choices=VERDICTS,
        default=None,
        help="which detections and sensor positions to repair when the QC folder has review "
        "labels: accepted (only "
        "those a reviewer accepted), unrejected (all but the rejected) or all (ignore labels). "
        "Default: accepted when labels.json exists, else all",
    )
    p.add_argument(
        "--force",
        action="store_true",
        help="repair even when the plate differs from the one the QC folder was made from",
    )
    p.add_argument("--quiet", action="store_true", help="print nothing but errors")
    p.set_defaults(run=run)
    return p


def run(args: argparse.Namespace) -> int:
    if not 0 <= args.grow <= 8:
        raise UsageError(f"--grow must be between 0 and 8; got {args.grow}")
    frames = frame_flag(args.frames)
    plan = plan_repair(args.pattern, args.qc, frames, args.verdicts, args.force)
    if not args.quiet:
        for line in skipped_lines(plan):
            print(line, file=sys.stderr)
        if plan.sensor is not None and plan.sensor.defects:
            print(
                f"{len(plan.sensor.defects)} sensor position(s) repaired on every frame of the "
                f"sensor pass ({format_ranges(plan.sensor.frames)})",
                file=sys.stderr,
            )
    repaired = changed = 0
    for item in repair_frames(plan, args.qc, args.out, args.grow):
        repaired += 1
        changed += item.pixels
        if not args.quiet and item.pixels:
            print(f"frame {item.frame}: {item.pixels} pixel(s) repaired", file=sys.stderr)
    if not args.quiet:
        left = (
            f"; frames {format_ranges(plan.uncovered)} are not in the QC folder and were not "
            "written"
            if plan.uncovered
            else ""
        )
        print(
            f"{repaired} frame(s) written to {args.out}; {changed} pixel(s) repaired{left}",
            file=sys.stderr,
        )
    return 0


def skipped_lines(plan: RepairPlan) -> list[str]:
    """``3 detection(s) skipped by review verdicts (--verdicts accepted): 1 reject, ...``, and
    the same for sensor positions; none when nothing was skipped."""
    counts = [("detection(s)", plan.skipped)]
    if plan.sensor is not None:
        counts.append(("sensor position(s)", plan.sensor.skipped))
    return [
        f"{sum(c.values())} {what} skipped by review verdicts (--verdicts {plan.verdicts}): "
        + ", ".join(f"{n} {label}" for label, n in sorted(c.items()))
        for what, c in counts
        if c
    ]
