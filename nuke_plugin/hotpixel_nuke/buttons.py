"""What the gizmo buttons call: each is one call, and every failure becomes a message.

In the GUI a failure opens ``nuke.message`` with what went wrong and how to fix it; in
``nuke -t`` it prints an ``ERROR:`` line. Unexpected errors also print their traceback.
"""

import os
import pathlib
import webbrowser

from . import fix_node, nodes, paint, tracker
from . import nuke_facts as facts
from .feedback import guard, tell


def analyze(node):
    """Analyze: run the engine (in the background in the GUI) and show the mask."""
    return guard(nodes.analyze, node)


def create_tracker(node):
    """Create Tracker: a Tracker4 with one track per defect location."""
    return guard(lambda n: tracker.create(nodes.report_of(n), n), node)


def create_paint_fix(node):
    """Create Paint Fix: a RotoPaint with one single-frame clone stroke per detection (a
    HotPixelFix node where clone strokes made from Python are marked not working)."""
    return guard(_paint_fix, node)


def _paint_fix(node):
    report = nodes.report_of(node)
    if facts.CLONE_STROKES_FROM_PYTHON:
        return paint.create(report, node)
    made = fix_node.create(report, node)
    tell(
        f"HotPixel: made {made.name()} (HotPixelFix) instead of clone strokes: nuke_facts.py "
        "marks clone strokes made from Python as not working in this Nuke"
    )
    return made


def create_fix(node):
    """Create Fix: a HotPixelFix node under the node, set to the report's threshold."""
    return guard(lambda n: fix_node.create(nodes.report_of(n), n), node)


def open_report(node):
    """Open Report: the QC page (report.html), or report.json when there is no page."""
    return guard(_open_report, node)


def _open_report(node):
    rep = nodes.report_of(node)
    page = os.path.join(os.path.dirname(rep["_path"]), "report.html")
    path = page if os.path.isfile(page) else rep["_path"]
    url = pathlib.Path(os.path.abspath(path)).as_uri()
    webbrowser.open(url)
    return url
