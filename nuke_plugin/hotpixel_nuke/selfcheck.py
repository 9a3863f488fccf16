"""Checks meant for a real Nuke: ``nuke -t nuke_plugin/hotpixel_selfcheck.py``.

The tests run the plugin against a stand-in ``nuke``; the facts in :mod:`nuke_facts` marked
UNVERIFIED or INFERRED can only be confirmed in Nuke itself. Each check below exercises one of
them in a fresh script and prints ``ok``/``FAIL`` with what it saw, so a studio can correct
``nuke_facts.py`` in one line where Nuke disagrees. Exit code: the number of failed checks.
"""

import traceback

import nuke

from . import graph, paint, tracker
from . import nuke_facts as facts


def _tracker():
    node = nuke.nodes.Tracker4()
    now = graph.current_frame()
    other = now + 7
    tracker.fill(node, [[{"frame": other, "nuke_x": 12.5, "nuke_y": 34.5}]], now)
    k = node[facts.TRACKS_KNOB]
    x = k.valueAt(other, facts.COL_TRACK_X)
    y = k.valueAt(other, facts.COL_TRACK_Y)
    assert (x, y) == (12.5, 34.5), (x, y)
    assert not k.isKeyAt(now, facts.COL_TRACK_X), "add_track's key at the current frame stayed"
    return f"track 1 at ({x}, {y}) on frame {other}"


def _rotopaint():
    node = nuke.nodes.RotoPaint()
    spec = {"frame": 1001, "x": 20.5, "y": 30.5, "size": 3.0, "offset": (5, 0), "kind": "hot"}
    paint.add_strokes(node[facts.CURVES_KNOB], [spec])
    layer = node[facts.CURVES_KNOB].toElement(paint.LAYER_NAME)
    text = next(iter(layer)).serialise()
    for key in (facts.ATTR_TOOL, facts.ATTR_LIFETIME_TYPE, facts.ATTR_SOURCE_TX):
        assert f" {key} " in text, key
    return "clone stroke: " + " ".join(text.split())[:200]


def _undo():
    with graph.undo_step("hotpixel selfcheck"):
        nuke.nodes.NoOp()
    return "nuke.Undo.begin/end/cancel exist"


def _gizmo():
    node = nuke.createNode("HotPixelDetect", inpanel=False)
    assert node.node(facts.MASK_READ) is not None
    node.node(facts.MASK_READ)[facts.MASK_RELOAD_KNOB].execute()
    return f"HotPixelDetect loads; MaskRead has {facts.MASK_RELOAD_KNOB!r}"


CHECKS = (
    ("Tracker4 tracks", _tracker),
    ("RotoPaint stroke", _rotopaint),
    ("undo", _undo),
    ("gizmo", _gizmo),
)


def main():
    failed = 0
    for name, check in CHECKS:
        try:
            print(f"ok   {name}: {check()}")
        except Exception as exc:  # report every check, whatever breaks
            failed += 1
            print(f"FAIL {name}: {type(exc).__name__}: {exc}")
            traceback.print_exc()
    return failed
