"""Repair flagged pixels: write fixed frames from a plate and its QC folder (all else kept)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from hotpixel.cli.detect import frame_flag
from hotpixel.errors import UsageError
from hotpixel.fix.repair import VERDICTS, RepairPlan, plan_repair, repair_frames
from hotpixel.io.sequence import format_ranges


def add_parser(sub: Any, name: str) -> argparse.ArgumentParser:
    p: argparse.ArgumentParser = sub.add_parser(
        name,
        help=__doc__,
        description=__doc__
        + " Each detection's pixels (mask at or above the report's threshold inside its box,"
        " grown by --grow) take the median of the clean pixels around them, per colour channel."
        " Every frame the report covers (or --frames) is written: repaired, or copied unchanged"
        " where nothing is repaired. Frames the report does not cover are not written."
        " The plate must be the one the QC folder was made from (same source path, size and"
        " files), unless --force.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        allow_abbrev=False,
    )
    p.add_argument("pattern", help="the plate, as given to hotpixel detect")
    p.add_argument("--qc", required=True, help="the --out folder of hotpixel detect")
    p.add_argument("--out", required=True, help="folder for the repaired frames (not the plate's)")
    p.add_argument("--grow", type=int, default=1, help="pixels to grow each flagged area by")
    p.add_argument("--frames", help="frames to repair (default: every frame in the report)")
    p.add_argument(
        "--verdicts",
        choices=VERDICTS,
        default=None,
        help="which detections to repair when the QC folder has review labels: accepted (only "
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
    if not args.quiet and plan.skipped:
        print(skipped_line(plan), file=sys.stderr)
    repaired = changed = 0
    for item in repair_frames(plan, args.qc, args.out, args.grow):
        repaired += 1
        changed += item.pixels
        if not args.quiet and item.pixels:
            print(f"frame {item.frame}: {item.pixels} pixel(s) repaired", file=sys.stderr)
    if not args.quiet:
        left = (
            f"; frames {format_ranges(plan.uncovered)} are not in the report and were not written"
            if plan.uncovered
            else ""
        )
        print(
            f"{repaired} frame(s) written to {args.out}; {changed} pixel(s) repaired{left}",
            file=sys.stderr,
        )
    return 0


def skipped_line(plan: RepairPlan) -> str:
    """``3 detection(s) skipped by review verdicts (--verdicts accepted): 1 reject, ...``."""
    counts = ", ".join(f"{n} {label}" for label, n in sorted(plan.skipped.items()))
    total = sum(plan.skipped.values())
    return f"{total} detection(s) skipped by review verdicts (--verdicts {plan.verdicts}): {counts}"
