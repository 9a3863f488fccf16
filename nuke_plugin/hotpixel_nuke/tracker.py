"""Create Tracker: a Tracker4 node with one track per defect location, keyed at its frames.

A defect seen on several frames at the same place (a stuck pixel, a recurring hot pixel) is one
track with a key per frame; a one-frame hot pixel is a track with one key. Values are the
engine's ``nuke_x``, ``nuke_y`` (Nuke pixels, origin bottom-left). The rows are written as the
knob's saved table (:mod:`tracks_table`), which does not depend on the node's control panel
being open; the table is read back and must hold one row per track. The ``add_track`` button
idiom stays as the alternative (``nuke_facts.TRACKS_FROM_SCRIPT = False``).
"""

import nuke

from . import graph, tracks_table
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
        try:
            fill(node, groups, graph.current_frame())
        except BaseException:
            nuke.delete(node)  # no half-filled tracker left behind
            raise
    return node


def track_name(group):
    """``hot 1003 (12.5, 34.5)``: kind, first frame and position of a defect location."""
    d = group[0]
    return "{} {} ({:g}, {:g})".format(d["kind"], d["frame"], d["nuke_x"], d["nuke_y"])


def keys(group):
    """``({frame: nuke_x}, {frame: nuke_y})`` of a group of detections."""
    xs = {int(d["frame"]): float(d["nuke_x"]) for d in group}
    ys = {int(d["frame"]): float(d["nuke_y"]) for d in group}
    return xs, ys


def fill(node, groups, current):
    """Give ``node``, a new Tracker4 (no tracks yet), one track per group of detections.

    Raises :class:`PluginError` when the table does not then hold exactly one row per group.
    """
    tracks = node[facts.TRACKS_KNOB]
    if facts.TRACKS_FROM_SCRIPT:
        rows = [tracks_table.row(track_name(g), *keys(g)) for g in groups]
        tracks.fromScript(tracks_table.table(rows))
    else:
        for i, group in enumerate(groups):
            _add_track(node, i, group, current)
    check_rows(node, len(groups))


def _add_track(node, index, group, current):
    """The ``add_track`` idiom: a new row keyed at the current frame, then our keys, then every
    key the button made at the current frame removed (unless a detection is on it)."""
    tracks = node[facts.TRACKS_KNOB]
    node[facts.ADD_TRACK_KNOB].execute()
    check_rows(node, index + 1)
    base = index * facts.TRACK_COLUMNS
    xs, ys = keys(group)
    for frame in xs:
        tracks.setValueAt(xs[frame], frame, base + facts.COL_TRACK_X)
        tracks.setValueAt(ys[frame], frame, base + facts.COL_TRACK_Y)
    if current not in xs:
        for col in range(facts.TRACK_COLUMNS):
            if col != facts.COL_NAME and tracks.isKeyAt(current, base + col):
                tracks.removeKeyAt(current, base + col)
    for col in (facts.COL_T, facts.COL_R, facts.COL_S):
        tracks.setValue(0, base + col)  # reference points: they must not drive a transform


def check_rows(node, expected):
    """Raise :class:`PluginError` unless ``node``'s table holds ``expected`` rows."""
    declared, present = tracks_table.count(node[facts.TRACKS_KNOB].toScript())
    if declared != expected or present != expected:
        how = "its saved table" if facts.TRACKS_FROM_SCRIPT else "the add_track button"
        raise PluginError(
            f"{node.name()} holds {present} track row(s) (header says {declared}) after "
            f"writing {expected} through {how}; this Nuke does not take tracks that way: "
            "switch TRACKS_FROM_SCRIPT in nuke_facts.py, run nuke_plugin/hotpixel_selfcheck.py, "
            "or use Create Paint Fix"
        )
