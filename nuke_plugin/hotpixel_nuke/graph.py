"""Where new nodes go in the node graph, and undo grouping.

Button code runs with the gizmo as the current group, so nodes made there would land inside the
gizmo; every node the plugin creates is made in the HotPixelDetect node's parent instead.
"""

import contextlib

import nuke

from . import nuke_facts as facts


def parent_of(node):
    """The group holding ``node`` (the root for a top-level node)."""
    full = node.fullName()
    if "." not in full:
        return nuke.root()
    return nuke.toNode(full.rsplit(".", 1)[0])


@contextlib.contextmanager
def inside(group):
    """Make nodes inside ``group``."""
    group.begin()
    try:
        yield group
    finally:
        group.end()


def place_below(node, new, column=0):
    """Put ``new`` under ``node`` in the graph (``column`` steps to the right)."""
    new.setXYpos(node.xpos() + 120 * column, node.ypos() + 80)


@contextlib.contextmanager
def undo_step(name):
    """Everything inside is one undo step (nuke.Undo; see nuke_facts)."""
    nuke.Undo.begin(name)
    try:
        yield
    except BaseException:
        nuke.Undo.cancel()
        raise
    nuke.Undo.end()


def current_frame():
    """The frame the viewer is on."""
    return int(nuke.frame())


def gui():
    """True in an interactive Nuke session."""
    return bool(getattr(nuke, facts.GUI_ATTR, False))
