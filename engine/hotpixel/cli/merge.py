"""Rebuild report.json, detections.csv and tracks of an output folder from its frame records.

Chunks of one shot (farm tasks, --workers) write into one folder; each chunk already leaves a
report of every frame finished so far, and this command rebuilds it on demand, e.g. as the
farm job's last step. With --expect it fails (exit 3) unless every expected frame is done.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from hotpixel.cli.detect import frame_flag, summary_line
from hotpixel.cli.flags import add_output_flags
from hotpixel.cli.report import add_html_flag, add_sheet_flag, write_sheet_if
from hotpixel.outputs.merge import merge_report
from hotpixel.outputs.qc_page import write_html_report


def add_parser(sub: Any, name: str) -> argparse.ArgumentParser:
    p: argparse.ArgumentParser = sub.add_parser(
        name, help=__doc__.splitlines()[0], description=__doc__, allow_abbrev=False
    )
    p.add_argument("out", help="the --out folder the detect chunks wrote")
    p.add_argument("--expect", help="frames that must all be finished, e.g. the shot's 1001-1100")
    p.add_argument(
        "--fingerprint",
        help="merge the run with this fingerprint (default: the newest run in the folder)",
    )
    add_output_flags(p, progress=None)
    add_html_flag(p)
    add_sheet_flag(p)
    p.set_defaults(run=run)
    return p


def run(args: argparse.Namespace) -> int:
    report = merge_report(args.out, frame_flag(args.expect, "--expect"), args.fingerprint)
    sheet = write_sheet_if(args, os.path.abspath(args.out), report)  # first: the page links it
    if args.html:
        write_html_report(os.path.abspath(args.out), report)
    if not args.quiet:
        path = os.path.join(os.path.abspath(args.out), "report.json")
        if sheet:  # before the summary, which stays the last line
            print(sheet, file=sys.stderr)
        print(summary_line(report, path), file=sys.stderr)
    return 1 if args.fail_on_detections and report["summary"]["detections"] else 0
