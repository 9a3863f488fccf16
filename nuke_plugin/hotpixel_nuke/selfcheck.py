"""Checks meant for a real Nuke: ``nuke -t nuke_plugin/hotpixel_selfcheck.py``.

The tests run the plugin against a stand-in ``nuke``; the facts in :mod:`nuke_facts` tagged
INFERRED or UNVERIFIED can only be confirmed in Nuke itself. Each check below exercises some of
them in a fresh script and prints one line per fact, ``ok`` or ``FAIL`` with what it saw, so a
studio can correct ``nuke_facts.py`` in one line where Nuke disagrees. A test checks that every
INFERRED or UNVERIFIED fact has a check. Exit code: the number of facts that failed.
"""

import os
import shutil
import tempfile
import traceback

import nuke

from . import colour, frame_ranges, graph, paint, tracker, tracks_table
from . import nuke_facts as facts

CLONE = {"frame": 1001, "x": 20.5, "y": 30.5, "size": 3.0, "offset": (5, -3), "kind": "hot"}


def _tracks():
    """Rows written through the saved table land where the column facts say, with no key at
    the current frame in any column, on a node whose panel was never opened."""
    node = nuke.nodes.Tracker4()
    now = graph.current_frame()
    hits = [(now + 7, 12.5, 34.5), (now + 8, 12.5, 34.5)]
    groups = [
        [{"frame": f, "nuke_x": x, "nuke_y": y, "kind": "stuck"} for f, x, y in hits],
        [{"frame": now + 9, "nuke_x": 3.5, "nuke_y": 4.5, "kind": "hot"}],
    ]
    tracker.fill(node, groups, now)  # reads the table back: one row per track
    k = node[facts.TRACKS_KNOB]
    for i, group in enumerate(groups):
        base = i * facts.TRACK_COLUMNS
        for d in group:
            got = (k.valueAt(d["frame"], base + facts.COL_TRACK_X),
                   k.valueAt(d["frame"], base + facts.COL_TRACK_Y))  # fmt: skip
            assert got == (d["nuke_x"], d["nuke_y"]), (i, d["frame"], got)
        for col in range(facts.TRACK_COLUMNS):
            if col != facts.COL_NAME:
                assert not k.isKeyAt(now, base + col), f"track {i} column {col} keyed at {now}"
        for col in (facts.COL_T, facts.COL_R, facts.COL_S):
            assert k.valueAt(now, base + col) == 0, f"track {i} column {col} is on"
    box = [k.valueAt(now, facts.COL_ERROR + 3 + j) for j in range(len(facts.TRACK_BOX_CELLS))]
    assert tuple(box) == facts.TRACK_BOX_CELLS, box
    declared, rows = tracks_table.count(k.toScript())
    return {
        "TRACKS_FROM_SCRIPT": f"{rows} rows (header {declared}); keys at their frames only",
        "TRACK_BOX_CELLS": f"pattern/search cells read back as {box}",
    }


def _clone_stroke():
    """A clone stroke made from Python keeps tt/src/stx/sty/ltt... through a save and reload."""
    node = nuke.nodes.RotoPaint()
    name = node.name()
    paint.add_strokes(node[facts.CURVES_KNOB], [CLONE])
    folder = tempfile.mkdtemp(prefix="hotpixel-selfcheck-")
    try:
        path = os.path.join(folder, "selfcheck.nk")
        nuke.scriptSaveAs(path, 1)
        nuke.scriptClear()
        nuke.scriptOpen(path)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    curves = graph.node_named(name)[facts.CURVES_KNOB]
    stroke = curves.toElement("{}/{}_{}_0".format(paint.LAYER_NAME, CLONE["kind"], CLONE["frame"]))
    attrs = stroke.getAttributes()
    frame = CLONE["frame"]
    expected = {
        facts.ATTR_TOOL: facts.TOOL_CLONE,
        facts.ATTR_SOURCE: facts.SOURCE_INPUT,
        facts.ATTR_SOURCE_TX: CLONE["offset"][0],
        facts.ATTR_SOURCE_TY: CLONE["offset"][1],
        facts.ATTR_LIFETIME_TYPE: facts.LIFETIME_SINGLE_FRAME,
        facts.ATTR_LIFETIME_START: frame,
        facts.ATTR_LIFETIME_END: frame,
        facts.ATTR_BRUSH_SIZE: CLONE["size"],
    }
    got = {key: attrs.getValue(frame, key) for key in expected}
    assert got == {key: float(v) for key, v in expected.items()}, got
    shown = " ".join(f"{k} {v:g}" for k, v in got.items())
    return {"CLONE_STROKES_FROM_PYTHON": "after save and reload: " + shown}


def _read_frame_knob():
    read = nuke.nodes.Read()
    knob = read.knob(facts.READ_FRAME_EXPR)
    assert knob is not None, "a Read has no knob " + facts.READ_FRAME_EXPR
    assert not str(knob.value()).strip(), repr(knob.value())
    return {"READ_FRAME_EXPR": f"a new Read's {facts.READ_FRAME_EXPR!r} knob is empty"}


def _unsaved_root():
    name = nuke.root().name()
    assert name == facts.UNSAVED_ROOT_NAME, name
    return {"UNSAVED_ROOT_NAME": f"an unsaved script's root is named {name!r}"}


def _root_paths():
    """``root.`` + fullName finds a node from inside another group; the plain name does not."""
    outer = nuke.nodes.Group()
    with outer:
        inner = nuke.nodes.NoOp()
    other = nuke.nodes.Group()
    with other:
        found = graph.node_named(inner.fullName())
        plain = nuke.toNode(inner.fullName())
    assert found is not None and found.fullName() == inner.fullName(), found
    seen = "None" if plain is None else plain.fullName()
    return {"ROOT_PREFIX": f"{facts.ROOT_PREFIX}{inner.fullName()} found; plain name: {seen}"}


def _frame_ranges():
    """Our reading of ``A-BxN`` matches ``nuke.FrameRange``."""
    for text in ("1001-1010x3", "1001-1100x2", "1001-1001", "-5-5x5"):
        ours = frame_ranges.parse(text).frames()
        theirs = list(nuke.FrameRange(text))
        assert ours == theirs, (text, ours, theirs)
    return {"FRAME_STEP_MARK": "1001-1010x3 is " + str(frame_ranges.parse("1001-1010x3").frames())}


def _current_frame():
    knob = nuke.root().knob(facts.ROOT_FRAME_KNOB)
    assert knob is not None, "the root has no knob " + facts.ROOT_FRAME_KNOB
    return {"ROOT_FRAME_KNOB": f"root[{facts.ROOT_FRAME_KNOB!r}] = {graph.current_frame()}"}


def _write_raw():
    write = nuke.nodes.Write()
    write[facts.WRITE_RAW[0]].setValue(facts.WRITE_RAW[1])
    return {"WRITE_RAW": f"Write {facts.WRITE_RAW[0]} = {write[facts.WRITE_RAW[0]].value()}"}


def _undo():
    with graph.undo_step("hotpixel selfcheck"):
        nuke.nodes.NoOp()
    return {"UNDO_CALLS": "nuke.Undo.begin/end exist"}


def _gizmo():
    node = nuke.createNode("HotPixelDetect", inpanel=False)
    read = node.node(facts.MASK_READ)
    assert read is not None, "the gizmo has no " + facts.MASK_READ
    read[facts.MASK_RELOAD_KNOB].execute()
    return {"MASK_RELOAD_KNOB": f"HotPixelDetect loads; {facts.MASK_READ} has 'reload'"}


def _colour():
    """Project Settings > Color has the knobs :mod:`colour` reads; a new Read is on its
    default; under Nuke's own colour management a Read takes each legacy name."""
    root = nuke.root()
    names = (facts.ROOT_COLOR_MANAGEMENT[0], facts.ROOT_OCIO_CONFIG[0], facts.ROOT_CUSTOM_OCIO)
    missing = [name for name in names if root.knob(name) is None]
    assert not missing, "the root has no knob " + ", ".join(missing)
    managed, config = (str(root[name].value()) for name in names[:2])
    read = nuke.nodes.Read()
    shown = str(read[facts.READ_COLORSPACE].value())
    assert shown.startswith(facts.COLORSPACE_DEFAULT), repr(shown)
    assert colour.read_colorspace(read) not in (shown, facts.COLORSPACE_DEFAULT), repr(shown)
    root[names[0]].setValue("Nuke")
    refused = []
    for name in facts.LEGACY_COLORSPACES:
        read[facts.READ_COLORSPACE].setValue(name)
        if colour.read_colorspace(read) != name:
            refused.append(f"{name}: {read[facts.READ_COLORSPACE].value()!r}")
    assert not refused, "a Read does not keep " + "; ".join(refused)
    seen = f"{names[0]} {managed!r}, {names[1]} {config!r}"
    return {
        "ROOT_COLOR_MANAGEMENT": seen,
        "ROOT_OCIO_CONFIG": seen,
        "ROOT_CUSTOM_OCIO": f"root has {facts.ROOT_CUSTOM_OCIO!r}",
        "COLORSPACE_DEFAULT": f"a new Read's colour space reads {shown!r}",
        "COLORSPACE_FIELD_SEP": "each legacy name reads back as its first field",
        "LEGACY_COLORSPACES": f"a Read keeps all {len(facts.LEGACY_COLORSPACES)} legacy names",
    }


# (facts checked, check); each check runs in a fresh script
CHECKS = (
    (("TRACKS_FROM_SCRIPT", "TRACK_BOX_CELLS"), _tracks),
    (("CLONE_STROKES_FROM_PYTHON",), _clone_stroke),
    (("READ_FRAME_EXPR",), _read_frame_knob),
    (("UNSAVED_ROOT_NAME",), _unsaved_root),
    (("ROOT_PREFIX",), _root_paths),
    (("FRAME_STEP_MARK",), _frame_ranges),
    (("ROOT_FRAME_KNOB",), _current_frame),
    (("WRITE_RAW",), _write_raw),
    (("UNDO_CALLS",), _undo),
    (("MASK_RELOAD_KNOB",), _gizmo),
    (
        (
            *("ROOT_COLOR_MANAGEMENT", "ROOT_OCIO_CONFIG", "ROOT_CUSTOM_OCIO"),
            *("COLORSPACE_DEFAULT", "COLORSPACE_FIELD_SEP", "LEGACY_COLORSPACES"),
        ),
        _colour,
    ),
)


def main():
    """Run every check; print one ``ok``/``FAIL`` line per fact; return the failures."""
    failed = 0
    for names, check in CHECKS:
        try:
            nuke.scriptClear()
            seen = check()
        except Exception as exc:  # report every fact, whatever breaks
            traceback.print_exc()
            failed += len(names)
            for name in names:
                print(f"FAIL {name}: {type(exc).__name__}: {exc}")
            continue
        for name in names:
            print(f"ok   {name}: {seen[name]}")
    return failed
