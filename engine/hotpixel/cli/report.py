"""Write report.html (hits grouped by place, a frame timeline, sensor defects) for a QC folder."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from hotpixel.outputs.qc_page import write_html_report


def add_parser(sub: Any, name: str) -> argparse.ArgumentParser:
    p: argparse.ArgumentParser = sub.add_parser(
        name, help=__doc__, description=__doc__, allow_abbrev=False
    )
    p.add_argument(
        "out", help="the --out folder of hotpixel detect (report.json) or of hotpixel sensor alone"
    )
    p.add_argument("--quiet", action="store_true", help="print nothing but errors")
    p.set_defaults(run=run)
    return p


def run(args: argparse.Namespace) -> int:
    path = write_html_report(args.out)
    if not args.quiet:
        print(f"QC report: {path}", file=sys.stderr)
    return 0


def add_html_flag(p: argparse.ArgumentParser) -> None:
    """``--no-html``: skip report.html (chunks leave it to the merge)."""
    p.add_argument(
        "--no-html",
        dest="html",
        action="store_false",
        help="do not write report.html (pictures of every detection); chunks leave it to merge",
    )
