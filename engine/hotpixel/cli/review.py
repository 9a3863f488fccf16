"""Review detections in a Qt window, grouped by place: accept, reject, skip, undo; labels saved
as you go."""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

QUIT_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def add_parser(sub: Any, name: str) -> argparse.ArgumentParser:
    p: argparse.ArgumentParser = sub.add_parser(
        name,
        help=__doc__.replace("\n", " "),
        description=__doc__.replace("\n", " ")
        + " It shows one place at a time (hits at the same position across frames); a verdict "
        "there goes to every hit of the place, and Enter opens the place to its single hits. "
        "Keys: A accept, R reject, S skip, U or Ctrl+Z undo, Left/Right move, Enter open a "
        "place, Esc back to places, Space play/pause, Up/Down step frames, +/- zoom, [ ] "
        "exposure, 0 auto exposure. Labels go to OUT/labels.json after every key; a second "
        "session resumes where this one stopped. Ctrl-C or SIGTERM closes the window with the "
        "labels saved.",
        allow_abbrev=False,
    )
    p.add_argument("out", help="the --out folder of hotpixel detect or hotpixel sensor")
    p.add_argument("--start", help="detection id to start at (e.g. hot_1002_0)")
    p.set_defaults(run=run)
    return p


def run(args: argparse.Namespace) -> int:
    from hotpixel.review.lock import REFRESH_S, ReviewLock, busy_warning
    from hotpixel.review.qt import check_system_libraries, load_qt  # Qt only for the window
    from hotpixel.review.session import ReviewSession

    session = ReviewSession(args.out, args.start)  # report errors before Qt starts
    core, _, widgets = load_qt()
    check_system_libraries()
    from hotpixel.review.main_window import ReviewWindow

    lock = ReviewLock(args.out)
    other = lock.acquire()
    warning = busy_warning(args.out, other) if other is not None else ""
    for line in (warning, session.resumed_text()):
        if line:
            print(f"hotpixel: {'warning: ' if line is warning else ''}{line}", file=sys.stderr)
    if lock.stale is not None:
        print(f"hotpixel: took over the stale lock of {lock.stale.describe()}", file=sys.stderr)
    try:
        app = widgets.QApplication.instance() or widgets.QApplication(sys.argv[:1])
        window = ReviewWindow(session, warning)
        window.show()
        print(
            f"reviewing {len(session)} hit(s) at {len(session.groups)} place(s) of {args.out}; "
            "close the window or press Ctrl-C to stop",
            file=sys.stderr,
            flush=True,
        )
        heartbeat = core.QTimer()
        heartbeat.timeout.connect(lock.refresh)
        heartbeat.start(REFRESH_S * 1000)
        with quit_on_signals(app) as caught:
            event_loop = getattr(app, "exec", None) or app.exec_  # older PySide2 has only exec_
            event_loop()
        heartbeat.stop()
        window.close()
        session.save()
    finally:
        lock.release()
    c = session.counts()
    stopped = f"stopped by {signal.Signals(caught[0]).name}; " if caught else ""
    print(
        f"{stopped}labels: {sum(c.values())} of {len(session)} "
        f"(accepted {c['accept']}, rejected {c['reject']}, skipped {c['skip']}) in "
        f"{args.out}/labels.json",
        file=sys.stderr,
    )
    return 0


@contextmanager
def quit_on_signals(app: Any) -> Iterator[list[int]]:
    """Ctrl-C (SIGINT) and SIGTERM end the event loop instead of raising inside a Qt slot.

    Python runs signal handlers only between its own bytecodes, and the Qt event loop runs in
    C++: a timer wakes Python every 200 ms so a signal is seen. Yields the list the caught
    signal numbers go to; the previous handlers are restored on the way out.
    """
    from hotpixel.review.qt import load_qt

    core, _, _ = load_qt()
    caught: list[int] = []

    def stop(signum: int, _frame: Any) -> None:
        caught.append(signum)
        app.quit()

    previous = {s: signal.signal(s, stop) for s in QUIT_SIGNALS}
    wake = core.QTimer()
    wake.timeout.connect(lambda: None)
    wake.start(200)
    try:
        yield caught
    finally:
        wake.stop()
        for s, handler in previous.items():
            signal.signal(s, handler)
