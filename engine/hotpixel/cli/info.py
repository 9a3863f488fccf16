"""Describe a plate sequence: frames found, gaps, resolution, channels, windows, compression.

Every frame's header is read (fast: no pixels are decoded), so an unreadable frame or one of
another size is listed under problems, and the exit code is then 3.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from hotpixel.detect.windows import plan_windows
from hotpixel.errors import FrameReadError
from hotpixel.io.frames import read_spec
from hotpixel.io.geometry import Geometry
from hotpixel.io.sequence import FrameSequence, discover, format_ranges


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
    """What ``hotpixel info`` prints, as a dict; ``problems`` lists frames whose header is bad.

    The description (resolution, channels, ...) is that of the first readable frame.
    """
    seq = discover(pattern)
    headers, problems = check_headers(seq)
    if not headers:
        raise FrameReadError(
            f"no frame of {seq.pattern.display()} can be read: {problems[0]}",
            seq.path(seq.first),
            seq.first,
        )
    geometry, channels, fmt, compression = next(iter(headers.values()))
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
        "problems": problems,
    }


def check_headers(
    seq: FrameSequence,
) -> tuple[dict[int, tuple[Geometry, tuple[str, ...], str, str]], list[str]]:
    """Every frame's header; and one line per frame that cannot be read or differs in size.

    A frame cut short inside its pixel data keeps a good header and is found when
    ``hotpixel detect`` decodes it.
    """
    headers: dict[int, tuple[Geometry, tuple[str, ...], str, str]] = {}
    problems: list[str] = []
    first: tuple[int, Geometry] | None = None
    for n in seq.frames:
        try:
            spec = read_spec(seq.path(n), n)
        except FrameReadError as exc:
            problems.append(str(exc).splitlines()[0])
            continue
        headers[n] = spec
        g = spec[0]
        if first is None:
            first = (n, g)
        elif (g.full_width, g.full_height) != (first[1].full_width, first[1].full_height):
            problems.append(
                f"frame {n}: {seq.path(n)!r} is {g.full_width}x{g.full_height} but frame "
                f"{first[0]} is {first[1].full_width}x{first[1].full_height}; replace it or "
                "leave it out with --exclude"
            )
    return headers, problems


def run(args: argparse.Namespace) -> int:
    d = describe(args.pattern)
    try:
        _print(d, args.json)
    except BrokenPipeError:  # `hotpixel info ... | head`: the reader has what it wanted
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # so the exit flush does not fail again
    return 3 if d["problems"] else 0


def _print(d: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print(json.dumps(d, indent=1), flush=True)
        return
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
    print(f"{'problems':>13}: {len(d['problems']) or 'none'}")
    for line in d["problems"]:
        print(f"{'':>13}  {line}")
    sys.stdout.flush()
