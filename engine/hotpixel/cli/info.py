"""Describe a plate sequence: frames found, gaps, resolution, channels, windows, compression."""

from __future__ import annotations

import argparse
import json
from typing import Any

from hotpixel.detect.windows import plan_windows
from hotpixel.io.frames import read_spec
from hotpixel.io.sequence import discover, format_ranges


def add_parser(sub: Any, name: str) -> argparse.ArgumentParser:
    p: argparse.ArgumentParser = sub.add_parser(
        name, help=__doc__, description=__doc__, allow_abbrev=False
    )
    p.add_argument(
        "pattern", help="shot.####.exr, shot.%%04d.exr, shot.$F4.exr, a folder or a file"
    )
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.set_defaults(run=run)
    return p


def describe(pattern: str) -> dict[str, Any]:
    """What ``hotpixel info`` prints, as a dict."""
    seq = discover(pattern)
    geometry, channels, fmt, compression = read_spec(seq.path(seq.first), seq.first)
    plan = plan_windows(seq.frames, [seq.first, seq.last])
    return {
        "pattern": seq.pattern.display(),
        "frames": format_ranges(seq.frames),
        "frame_count": len(seq.frames),
        "missing": format_ranges(seq.missing()) if seq.missing() else "none",
        "resolution": geometry.describe(),
        "geometry": geometry.as_dict(),
        "channels": list(channels),
        "pixel_format": fmt,
        "compression": compression,
        "first_window": list(plan[0][1]),
        "last_window": list(plan[-1][1]),
    }


def run(args: argparse.Namespace) -> int:
    d = describe(args.pattern)
    if args.json:
        print(json.dumps(d, indent=1))
        return 0
    for key in (
        "pattern",
        "frames",
        "frame_count",
        "missing",
        "resolution",
        "pixel_format",
        "compression",
    ):
        print(f"{key:>13}: {d[key]}")
    print(f"{'channels':>13}: {', '.join(d['channels'])}")
    print(f"{'windows':>13}: first {d['first_window']}, last {d['last_window']}")
    return 0
