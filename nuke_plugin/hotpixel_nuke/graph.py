"""Where new nodes go in the node graph, node lookup, undo grouping, the current frame.

Button code runs with the gizmo as the current group, so nodes made there would land inside the
gizmo; every node the plugin creates is made in the HotPixelDetect node's parent instead. For the
same reason nodes are looked up by absolute path (``root.Group1.HotPixelDetect1``): a name
without it is resolved inside whatever group is current.
"""

import contextlib

import nuke

from . import nuke_facts as facts


def node_named(full_name):
    """The node whose ``fullName()`` is ``full_name`` (``Group1.X``), from the top of the script
    whatever group is current; None when there is none."""
    if full_name.startswith(facts.ROOT_PREFIX):
        full_name = full_name[len(facts.ROOT_PREFIX) :]
    return nuke.toNode(facts.ROOT_PREFIX + full_name)


def parent_of(node):
    """The group holding ``node`` (the root for a top-level node)."""
    full = node.fullName()
    if "." not in full:
        return nuke.root()
    parent = node_named(full.rsplit(".", 1)[0])
    if parent is None:
        raise RuntimeError(f"cannot find the group holding {full}")
    return parent


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
    """The frame the viewer is on: the root's frame knob (``nuke.frame()`` is deprecated), or
    ``nuke.frame()`` in a Nuke whose root has no such knob."""
    knob = nuke.root().knob(facts.ROOT_FRAME_KNOB)
    if knob is not None:
        return int(knob.value())
    return int(nuke.frame())


def gui():
    """True in an interactive Nuke session."""
    return bool(getattr(nuke, facts.GUI_ATTR, False))
