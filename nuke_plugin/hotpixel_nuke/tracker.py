"""Create Tracker: a Tracker4 node with one track per defect location, keyed at its frames.

A defect seen on several frames at the same place (a stuck pixel, a recurring hot pixel) is one
track with a key per frame; a one-frame hot pixel is a track with one key. Values are the
engine's ``nuke_x``, ``nuke_y`` (Nuke pixels, origin bottom-left). The track table is written
with the public Tracker4 idiom (``add_track``, then keys on the flat index ``track * 31 +
column``); those facts live in :mod:`nuke_facts`.
"""

import nuke

from . import graph
from . import nuke_facts as facts
from . import report as report_mod
from .errors import PluginError

MAX_TRACKS = 500  # a Tracker4 with thousands of tracks is unusable; the paint fix scales better


def create(report, source_node):
    """Make the Tracker4 under ``source_node`` (in its group); one undo step. Returns it."""
    groups = report_mod.locations(report_mod.detections(report))
    if not groups:
        raise PluginError("the report has no detections: nothing to track")
    if len(groups) > MAX_TRACKS:
        raise PluginError(
            f"{len(groups)} defect locations would make as many tracks (limit {MAX_TRACKS}); "
            "raise the threshold or use Create Paint Fix"
        )
    with graph.undo_step(facts.UNDO_NAME_TRACKER), graph.inside(graph.parent_of(source_node)):
        node = getattr(nuke.nodes, facts.TRACKER_CLASS)()
        node.setInput(0, source_node)
        graph.place_below(source_node, node, column=1)
        node["label"].setValue(f"hotpixel: {len(groups)} track(s)")
        fill(node, groups, graph.current_frame())
    return node


def fill(node, groups, current):
    """Add one track per group of detections to ``node``, a new Tracker4 (no tracks yet)."""
    tracks = node[facts.TRACKS_KNOB]
    for i, group in enumerate(groups):
        node[facts.ADD_TRACK_KNOB].execute()
        base = i * facts.TRACK_COLUMNS
        for d in group:
            tracks.setValueAt(float(d["nuke_x"]), int(d["frame"]), base + facts.COL_TRACK_X)
            tracks.setValueAt(float(d["nuke_y"]), int(d["frame"]), base + facts.COL_TRACK_Y)
        if facts.ADD_TRACK_KEYS_CURRENT_FRAME and current not in {d["frame"] for d in group}:
            tracks.removeKeyAt(current, base + facts.COL_TRACK_X)
            tracks.removeKeyAt(current, base + facts.COL_TRACK_Y)
        for col in (facts.COL_T, facts.COL_R, facts.COL_S):
            tracks.setValue(0, base + col)  # reference points: they must not drive a transform
