"""hotpixel: find hot, dead and stuck pixels in plate sequences.

Exit codes: 0 success (detections found is still success); 1 detections found with
--fail-on-detections; 2 usage error; 3 input error (missing, damaged or mismatched frames);
4 output error (folder not writable, would overwrite an input); 5 detector or model error;
130 interrupted by Ctrl-C or SIGTERM (finished frames are kept; rerun to resume).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import warnings
from collections.abc import Sequence
from typing import Any

from hotpixel import __version__
from hotpixel.cli import (
    batch,
    detect,
    evaluate,
    export,
    finetune,
    fix,
    info,
    job,
    merge,
    report,
    review,
    sensor,
    submit,
    train,
)
from hotpixel.errors import HotPixelError

COMMANDS = {
    "detect": detect,
    "info": info,
    "job": job,
    "fix": fix,
    "merge": merge,
    "report": report,
    "review": review,
    "sensor": sensor,
    "submit": submit,
    "batch": batch,
    "train": train,
    "finetune": finetune,
    "export": export,
    "eval": evaluate,
}


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Every command's help: descriptions as written, a default shown only where it informs.

    No ``(default: None)``, no default on a switch (``--force``), and ``--html/--no-html`` says
    ``on by default`` instead of ``(default: True)``.
    """

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        if isinstance(action, argparse.BooleanOptionalAction):
            text = text.replace(" (default: %(default)s)", "")
            return f"{text} (on by default)" if action.default is True else text
        quiet = (None, "", argparse.SUPPRESS)
        if "%(default)" in text or not action.option_strings or action.nargs == 0:
            return text
        if action.default in quiet or isinstance(action.default, bool):
            return text
        return f"{text} (default: %(default)s)"


class Parser(argparse.ArgumentParser):
    """An argument parser that always uses :class:`HelpFormatter` (commands cannot pick)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["formatter_class"] = HelpFormatter
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="hotpixel", description=__doc__)
    parser.add_argument("--version", action="version", version=f"hotpixel {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    sub.required = True
    for name, module in COMMANDS.items():
        module.add_parser(sub, name)
    return parser


def _terminated(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # a farm's kill (SIGTERM) ends a run like Ctrl-C: frames are kept


def show_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: Any = None,
    line: str | None = None,
) -> None:
    """A library's warning as one ``hotpixel: warning:`` line on stderr, like the engine's own,
    naming where it came from (for a bug report), never Python's two-line source dump."""
    where = f"{category.__name__} in {os.path.basename(filename)}:{lineno}"
    print(f"hotpixel: warning: {message} ({where})", file=sys.stderr, flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; return its exit code."""
    with warnings.catch_warnings():
        warnings.showwarning = show_warning
        return _main(argv)


def _main(argv: Sequence[str] | None) -> int:
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _terminated)
        # a process started in the background by a shell without job control inherits SIGINT
        # ignored; the Nuke plugin and --workers cancel runs with SIGINT, so take it back
        signal.signal(signal.SIGINT, signal.default_int_handler)
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on usage errors, 0 on --help
        return int(exc.code or 0)
    try:
        return int(args.run(args))
    except HotPixelError as exc:
        print(f"hotpixel: error: {exc}", file=sys.stderr)
        emit = getattr(args, "emit_error", None)
        if emit is not None:
            emit(str(exc), exc.exit_code)
        return exc.exit_code
    except KeyboardInterrupt:
        print("hotpixel: interrupted; finished frames are kept, rerun to resume", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
