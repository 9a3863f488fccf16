"""How outcomes reach the user: a dialog in the GUI, an ``ERROR:`` line in ``nuke -t``.

Both the buttons and the background analysis report through here, so a failure anywhere (an
expected :class:`PluginError` or a bug) becomes one message that says what went wrong and,
for a bug, where the traceback is.
"""

import sys
import traceback

import nuke

from . import graph
from .errors import PluginError


def tell(text):
    """Show ``text`` to the user (dialog in the GUI, ``ERROR:`` line otherwise)."""
    if graph.gui():
        nuke.message(text)
    else:
        sys.stderr.write(f"ERROR: {text}\n")


def describe(exc):
    """One line for ``exc``: the message of a PluginError, type and message of anything else."""
    if isinstance(exc, PluginError):
        return str(exc)
    return f"unexpected {type(exc).__name__}: {exc} (traceback in the script editor)"


def tell_failure(exc):
    """Show ``exc`` (see :func:`describe`); a bug also prints its traceback."""
    if not isinstance(exc, PluginError):
        traceback.print_exception(type(exc), exc, exc.__traceback__)
    tell("HotPixel: " + describe(exc))


def guard(action, node):
    """Run ``action(node)``; a failure is shown, not raised. Returns the action's result."""
    try:
        return action(node)
    except Exception as exc:  # a bug too: say so, keep the traceback for the report
        tell_failure(exc)
    return None
