"""Create Fix: a HotPixelFix node (gizmos/HotPixelFix.gizmo) under a HotPixelDetect node.

The repair with plain Nuke nodes: no strokes, no Python at render time, nothing that depends on
RotoPaint's stroke attributes; it is also what Create Paint Fix makes where clone strokes from
Python are marked not working (``nuke_facts.CLONE_STROKES_FROM_PYTHON``).
"""

import nuke

from . import graph
from . import nuke_facts as facts

FIX_CLASS = "HotPixelFix"


def create(report, source_node):
    """Make the HotPixelFix under ``source_node`` (in its group), fed by it, repairing at the
    report's threshold; one undo step. Returns it."""
    with graph.undo_step(facts.UNDO_NAME_FIX), graph.inside(graph.parent_of(source_node)):
        node = nuke.createNode(FIX_CLASS, inpanel=False)
        node.setInput(0, source_node)
        graph.place_below(source_node, node, column=2)
        if report.get("threshold") is not None:
            node["threshold"].setValue(float(report["threshold"]))
    return node
