"""What the gizmo buttons call: each is one call, and every failure becomes a message.

In the GUI a failure opens ``nuke.message`` with what went wrong and how to fix it; in
``nuke -t`` it prints an ``ERROR:`` line. Unexpected errors also print their traceback.
"""

import os
import pathlib
import sys
import traceback
import webbrowser

import nuke

from . import graph, nodes, paint, tracker
from .errors import PluginError


def tell(text):
    """Show ``text`` to the user (dialog in the GUI, ``ERROR:`` line otherwise)."""
    if graph.gui():
        nuke.message(text)
    else:
        sys.stderr.write(f"ERROR: {text}\n")


def guard(action, node):
    """Run ``action(node)``; a failure is shown, not raised. Returns the action's result."""
    try:
        return action(node)
    except PluginError as exc:
        tell(f"HotPixel: {exc}")
    except Exception as exc:  # a bug: say so, keep the traceback for the report
        traceback.print_exc()
        tell(f"HotPixel: unexpected {type(exc).__name__}: {exc} (traceback in the script editor)")
    return None


def analyze(node):
    """Analyze: run the engine (in the background in the GUI) and show the mask."""
    return guard(nodes.analyze, node)


def create_tracker(node):
    """Create Tracker: a Tracker4 with one track per defect location."""
    return guard(lambda n: tracker.create(nodes.report_of(n), n), node)


def create_paint_fix(node):
    """Create Paint Fix: a RotoPaint with one single-frame clone stroke per detection."""
    return guard(lambda n: paint.create(nodes.report_of(n), n), node)


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
