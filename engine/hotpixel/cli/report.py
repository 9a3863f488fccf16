"""Write report.html (hits grouped by place, a frame timeline, sensor defects) and hits.png
(every hit in one picture) for a QC folder."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from hotpixel.outputs.contact_sheet import write_contact_sheet
from hotpixel.outputs.qc_page import write_html_report
from hotpixel.outputs.report import read_qc_folder


def add_parser(sub: Any, name: str) -> argparse.ArgumentParser:
    p: argparse.ArgumentParser = sub.add_parser(
        name, help=" ".join(__doc__.split()), description=__doc__, allow_abbrev=False
    )
    p.add_argument(
        "out", help="the --out folder of hotpixel detect (report.json) or of hotpixel sensor alone"
    )
    p.add_argument("--quiet", action="store_true", help="print nothing but errors")
    add_sheet_flag(p)
    p.set_defaults(run=run)
    return p


def run(args: argparse.Namespace) -> int:
    report = read_qc_folder(args.out)
    sheet = write_sheet_if(args, args.out, report)
    path = write_html_report(args.out, report)
    if not args.quiet:
        print(f"QC report: {path}", file=sys.stderr)
        if sheet:
            print(sheet, file=sys.stderr)
    return 0


def add_sheet_flag(p: argparse.ArgumentParser) -> None:
    """``--no-contact-sheet``: skip hits.png (chunks leave it to the merge)."""
    p.add_argument(
        "--no-contact-sheet",
        dest="contact_sheet",
        action="store_false",
        help="do not write hits.png (every hit, its id, frame and crops, grouped by place)",
    )


def write_sheet_if(args: argparse.Namespace, out_dir: str, report: dict[str, Any]) -> str:
    """Write the contact sheet unless ``--no-contact-sheet``; return a line saying where ("" if
    none was written: turned off, or no hits)."""
    if not args.contact_sheet:
        return ""
    path, drawn, hits = write_contact_sheet(out_dir, report)
    if not path:
        return ""
    more = f" (the first {drawn} of {hits} hits; all are on the QC page)" if drawn < hits else ""
    return f"contact sheet: {path}{more}"


def add_html_flag(p: argparse.ArgumentParser) -> None:
    """``--no-html``: skip report.html (chunks leave it to the merge)."""
    p.add_argument(
        "--no-html",
        dest="html",
        action="store_false",
        help="do not write report.html (pictures of every detection); chunks leave it to merge",
    )
