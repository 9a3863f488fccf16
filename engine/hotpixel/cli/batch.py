"""Detect many shots: a shot list in (text or CSV), one status table out; rerun to retry.

Text list: one plate pattern per line, optionally followed by a frame range; lines starting
with # are comments. CSV list: a header with pattern and optionally name, out, frames.
Relative patterns are relative to the list. Exit code 0 when every shot is done, else the
exit code of the first failed shot (1 with --fail-on-detections when anything was found).
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from hotpixel.cli.detect import add_param_flags, params_from_args
from hotpixel.cli.flags import add_output_flags
from hotpixel.errors import UsageError
from hotpixel.farm.batch import (
    BatchOptions,
    Shot,
    ShotStatus,
    format_table,
    read_shot_list,
    run_batch,
)
from hotpixel.progress import Progress


def add_parser(sub: Any, name: str) -> argparse.ArgumentParser:
    p: argparse.ArgumentParser = sub.add_parser(
        name,
        help=__doc__.splitlines()[0],
        description=__doc__,
        allow_abbrev=False,
    )
    p.add_argument("shots", help="shot list: .txt (a pattern per line) or .csv (pattern,...)")
    p.add_argument("--out", required=True, help="root folder; each shot goes to OUT/<shot>")
    p.add_argument("--status", help="status table CSV (default: OUT/status.csv)")
    p.add_argument("--workers", type=int, default=1, help="chunk processes per shot")
    p.add_argument("--allow-gaps", action="store_true", help="skip missing frames")
    p.add_argument("--force", action="store_true", help="redo frames already done")
    add_output_flags(p, progress="bar")
    add_param_flags(p)
    p.set_defaults(run=run)
    return p


def run(args: argparse.Namespace) -> int:
    if args.workers < 1:
        raise UsageError(f"--workers must be at least 1; got {args.workers}")
    root = os.path.abspath(args.out)
    shots = read_shot_list(args.shots, root)
    os.makedirs(root, exist_ok=True)
    status = args.status or os.path.join(root, "status.csv")
    mode = "none" if args.quiet and args.progress == "bar" else args.progress
    options = BatchOptions(params_from_args(args), args.allow_gaps, args.force, args.workers)

    def progress(shot: Shot) -> Progress:
        p = Progress(mode)
        p.message(f"shot {shot.name}: {shot.pattern}")
        return p

    def announce(i: int, entry: ShotStatus) -> None:
        if mode == "bar":
            what = f"{entry.detections} detection(s)" if entry.status == "done" else entry.error
            print(
                f"[{i + 1}/{len(shots)}] {entry.shot.name}: {entry.status}, {what}", file=sys.stderr
            )

    table = run_batch(shots, options, status, progress, announce)
    if not args.quiet:
        print(format_table(table))
        print(f"status: {status}", file=sys.stderr)
    failed = [e for e in table if e.status != "done"]
    if failed:
        return failed[0].exit_code or 3
    if args.fail_on_detections and any(e.detections for e in table):
        return 1
    return 0
