"""Review detections in a Qt window: accept, reject, skip, undo; labels saved as you go."""

from __future__ import annotations

import argparse
import sys
from typing import Any


def add_parser(sub: Any, name: str) -> argparse.ArgumentParser:
    p: argparse.ArgumentParser = sub.add_parser(
        name,
        help=__doc__,
        description=__doc__
        + " Keys: A accept, R reject, S skip, U or Ctrl+Z undo, Left/Right move, Space play/"
        "pause, Up/Down step frames, +/- zoom, [ ] exposure, 0 auto exposure. Labels go to "
        "OUT/labels.json after every key; a second session resumes where this one stopped.",
        allow_abbrev=False,
    )
    p.add_argument("out", help="the --out folder of hotpixel detect")
    p.add_argument("--start", help="detection id to start at (e.g. hot_1002_0)")
    p.set_defaults(run=run)
    return p


def run(args: argparse.Namespace) -> int:
    from hotpixel.review.qt import load_qt  # Qt only when the window is asked for
    from hotpixel.review.session import ReviewSession

    session = ReviewSession(args.out, args.start)  # report errors before Qt starts
    _, _, widgets = load_qt()
    from hotpixel.review.main_window import ReviewWindow

    app = widgets.QApplication.instance() or widgets.QApplication(sys.argv[:1])
    window = ReviewWindow(session)
    window.resize(1100, 760)
    window.show()
    event_loop = getattr(app, "exec", None) or app.exec_  # older PySide2 has only exec_
    event_loop()
    c = session.counts()
    print(
        f"labels: {sum(c.values())} of {len(session)} "
        f"(accepted {c['accept']}, rejected {c['reject']}, skipped {c['skip']}) in "
        f"{args.out}/labels.json",
        file=sys.stderr,
    )
    return 0
