"""Run a job file (what the Nuke plugin writes): detect with its settings, progress as asked."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from hotpixel.cli.detect import summary_line
from hotpixel.cli.flags import add_output_flags
from hotpixel.cli.report import add_html_flag, add_sheet_flag, write_sheet_if
from hotpixel.outputs.qc_page import write_html_report
from hotpixel.progress import Progress
from hotpixel.run.jobfile import load_job
from hotpixel.run.parallel import detect


def add_parser(sub: Any, name: str) -> argparse.ArgumentParser:
    p: argparse.ArgumentParser = sub.add_parser(
        name, help=__doc__, description=__doc__, allow_abbrev=False
    )
    p.add_argument("file", help="job file (JSON, schema hotpixel-job; see docs/cli.md)")
    add_output_flags(p, progress="json")
    add_html_flag(p)
    add_sheet_flag(p)
    p.set_defaults(run=run)
    return p


def run(args: argparse.Namespace) -> int:
    progress = Progress(args.progress)
    args.emit_error = progress.error
    result = detect(load_job(args.file), progress)
    out_dir = os.path.dirname(result.report_path)
    sheet = write_sheet_if(args, out_dir, result.report)  # first: the page links it
    if args.html:
        write_html_report(out_dir, result.report)
    if args.progress == "bar":
        if sheet:  # before the summary, which stays the last line
            print(sheet, file=sys.stderr)
        print(summary_line(result.report, result.report_path), file=sys.stderr)
    return 1 if args.fail_on_detections and result.report["summary"]["detections"] else 0
