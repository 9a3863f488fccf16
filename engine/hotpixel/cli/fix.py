"""Repair flagged pixels: write fixed frames from a plate and its QC folder (all else kept)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from hotpixel.cli.detect import frame_flag
from hotpixel.errors import UsageError
from hotpixel.fix.repair import repair_sequence


def add_parser(sub: Any, name: str) -> argparse.ArgumentParser:
    p: argparse.ArgumentParser = sub.add_parser(
        name,
        help=__doc__,
        description=__doc__
        + " Each detection's pixels (mask at or above the report's threshold inside its box,"
        " grown by --grow) take the median of the clean pixels around them, per colour channel."
        " Frames without detections are copied unchanged, so --out holds the whole sequence.",
        allow_abbrev=False,
    )
    p.add_argument("pattern", help="the plate, as given to hotpixel detect")
    p.add_argument("--qc", required=True, help="the --out folder of hotpixel detect")
    p.add_argument("--out", required=True, help="folder for the repaired frames (not the plate's)")
    p.add_argument("--grow", type=int, default=1, help="pixels to grow each flagged area by")
    p.add_argument("--frames", help="frames to repair (default: every frame in the report)")
    p.add_argument("--quiet", action="store_true", help="print nothing but errors")
    p.set_defaults(run=run)
    return p


def run(args: argparse.Namespace) -> int:
    if not 0 <= args.grow <= 8:
        raise UsageError(f"--grow must be between 0 and 8; got {args.grow}")
    frames = frame_flag(args.frames)
    repaired = changed = 0
    for item in repair_sequence(args.pattern, args.qc, args.out, args.grow, frames):
        repaired += 1
        changed += item.pixels
        if not args.quiet and item.pixels:
            print(f"frame {item.frame}: {item.pixels} pixel(s) repaired", file=sys.stderr)
    if not args.quiet:
        print(
            f"{repaired} frame(s) written to {args.out}; {changed} pixel(s) repaired",
            file=sys.stderr,
        )
    return 0
