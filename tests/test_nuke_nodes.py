"""Nuke plugin, nodes: HotPixelDetect's Analyze (from a Read, from a precomp, in
the background, cancelled, failing), the mask read back, Create Tracker (closed panel), Create
Paint Fix, Create Fix, Open Report, a node inside a Group, the current frame."""

from __future__ import annotations

import json
import math
import os
import warnings
import webbrowser

import OpenImageIO as oiio
import pytest

from imagegen import read_channel, write_image
from nuke_stub import harness
from nuke_stub.harness import (
    buttons,
    engine_process,
    errors,
    facts,
    frame_ranges,
    graph,
    nodes,
    nuke,
    paint,
)

W, H = 64, 48


@pytest.fixture(autouse=True)
def session(monkeypatch, tmp_path):
    harness.fresh_session(monkeypatch, tmp_path)


@pytest.fixture
def plate(tmp_path):
    return harness.plate(tmp_path / "pl ate's", hot={2: [(10, 20)], 4: [(30, 40)]})


def _analyzed(plate, tmp_path):
    node = harness.detect_node(plate, tmp_path / "q c")
    assert buttons.analyze(node) is not None
    return node


def test_analyze_from_a_read_puts_the_masks_on_the_node(plate, tmp_path):
    node = _analyzed(plate, tmp_path)
    masks = str(tmp_path / "q c" / "masks" / "shot.hotpixel.####.exr")
    assert node["mask_pattern"].value() == masks
    assert (node["mask_first"].value(), node["mask_last"].value()) == (1001, 1006)
    assert node["has_mask"].value() is True
    assert node["status"].value().startswith("2 detection(s) on 2 frame(s) of 1001-1006")
    assert node["source_info"].value() == "Read1: " + plate.replace("####", "%04d")
    with open(tmp_path / "q c" / "hotpixel_job.json", encoding="utf-8") as fh:
        job = json.load(fh)
    assert (job["frames"], job["params"]["detector"]) == ("1001-1006", "classical")
    read, copy = node.node("MaskRead"), node.node("CopyMask")
    assert read._log == ["reload"]
    assert nuke._evaluate(copy, "disable") is False
    pattern = nuke._evaluate(read, "file")
    # frame-accurate: frame F of the Read is the mask of plate frame F
    on, _ = read_channel(pattern.replace("####", "1003"), facts.MASK_CHANNEL)
    off, _ = read_channel(pattern.replace("####", "1004"), facts.MASK_CHANNEL)
    assert on[10, 20] >= 0.5 and off[10, 20] == 0.0


def test_gui_analyze_runs_in_the_background_on_the_nodes_own_range(plate, tmp_path):
    node = harness.detect_node(plate, tmp_path / "qc")
    node["use_input_range"].setValue(False)
    node["first_frame"].setValue(1002)
    node["last_frame"].setValue(1004)
    nuke.GUI = True
    thread = buttons.analyze(node)
    thread.join(60)
    assert not thread.is_alive() and nuke._main_thread_calls
    assert nuke._messages == []
    (task,) = nuke.ProgressTask.instances
    assert task.name == "HotPixel HotPixelDetect1" and task.progress[-1] == 100
    assert (node["mask_first"].value(), node["mask_last"].value()) == (1002, 1004)
    assert node["status"].value().startswith("1 detection(s) on 1 frame(s) of 1002-1004")


class CancelAfterFirstFrame(nuke.ProgressTask):
    def isCancelled(self):
        return bool(self.progress)


def test_cancel_in_the_gui_keeps_finished_frames_usable(tmp_path):
    # frames big enough that the engine cannot finish the shot inside one 0.1 s cancel poll
    pattern = harness.plate(tmp_path / "plate", count=30, size=(960, 540))
    node = harness.detect_node(pattern, tmp_path / "qc", last=1030)
    nuke.GUI = True
    nuke.ProgressTask = CancelAfterFirstFrame
    buttons.analyze(node).join(60)
    assert "cancelled" in node["status"].value() and "Analyze resumes" in node["status"].value()
    assert node["has_mask"].value() is True
    assert os.path.isfile(nuke._evaluate(node.node("MaskRead"), "file").replace("####", "1001"))


def _render_plate(plate):
    """A stand-in renderer: the Write gets the plate's frames (what upstream would give)."""
    calls = []

    def render(write, first, last, incr):
        calls.append((first, last))
        for frame in range(first, last + 1, incr):
            rgb = oiio.ImageBuf(plate.replace("####", str(frame))).get_pixels(oiio.FLOAT)
            path = write["file"].value().replace("####", str(frame))
            write_image(path, rgb)

    return render, calls


def test_a_node_that_is_not_a_read_is_rendered_to_a_precomp_first(plate, tmp_path):
    read = nuke.nodes.Read(file=plate, first=1001, last=1006)
    grade = nuke.nodes.Grade(inputs=[read])
    dot = nuke.nodes.Dot(inputs=[grade])
    node = harness.detect_node(plate, tmp_path / "qc")
    node.setInput(0, dot)
    nuke.root()["first_frame"].setValue(1001)
    nuke.root()["last_frame"].setValue(1006)
    nuke._render_hook, calls = _render_plate(plate)
    rep = buttons.analyze(node)
    assert calls == [(1001, 1006)]
    precomp = str(tmp_path / "qc" / "precomp" / "HotPixelDetect1.####.exr")
    assert rep["source"]["pattern"] == precomp
    assert [d["frame"] for d in rep["detections"]] == [1003, 1005]
    assert "Write" not in [n.Class() for n in nuke.root().nodes()]  # the render node is gone
    # a farm chunk renders its frames and the two on each side, inside the shot
    nodes.prepare(node, frame_ranges.make(1002, 1002))
    assert calls[-1] == (1001, 1004)


def test_failures_become_messages_that_say_what_to_do(plate, tmp_path, monkeypatch):
    nuke.GUI = True
    node = nuke.createNode("HotPixelDetect")
    buttons.analyze(node)
    assert "has no input" in nuke._messages[-1]
    node.setInput(0, nuke.nodes.Read(file=plate, first=1001, last=1006))
    buttons.analyze(node)
    assert "save the script first" in nuke._messages[-1]
    node["output"].setValue(str(tmp_path / "qc"))
    monkeypatch.delenv(harness.config.ENV_PYTHON)
    buttons.analyze(node)
    assert "install/install.py" in nuke._messages[-1]
    buttons.create_tracker(node)
    assert "run Analyze first" in nuke._messages[-1]


def _report(tmp_path, detections):
    """A report.json like the engine's, with hand-placed detections on a 64x48 plate, and a
    HotPixelDetect node (made in the current group) pointing at it."""
    items = []
    for frame, x, y, side in detections:
        x0, y0 = int(x - side / 2), int(y - side / 2)
        items.append(
            {"frame": frame, "x": x, "y": y, "nuke_x": x, "nuke_y": H - y, "score": 0.9,
             "area": side * side, "kind": "hot", "bbox": [x0, y0, x0 + side, y0 + side],
             "peak_rgb": [1.0, 1.0, 1.0]}
        )  # fmt: skip
    out = tmp_path / "qc"
    out.mkdir(exist_ok=True)
    rep = {
        "schema": "hotpixel-report",
        "schema_version": 1,
        "source": {"pattern": "p.####.exr", "width": W, "height": H, "frames": "1001-1010",
                   "first_frame": 1001, "last_frame": 1010},
        "mask": {"channel": "hotpixel.mask", "pattern": "masks/p.hotpixel.####.exr"},
        "summary": {"detections": len(items)}, "threshold": 0.42,
        "detections": items,
    }  # fmt: skip
    (out / "report.json").write_text(json.dumps(rep))
    node = nuke.createNode("HotPixelDetect")
    node["report_file"].setValue(str(out / "report.json"))
    return node, items


def test_tracker_has_one_track_per_location_keyed_at_its_frames_in_nuke_coordinates(tmp_path):
    # a defect recurring at one place on 1001-1003, and two one-frame hot pixels
    node, _ = _report(
        tmp_path,
        [(1001, 10.5, 5.5, 1), (1002, 10.5, 5.5, 1), (1003, 10.6, 5.4, 1),
         (1004, 40.5, 30.5, 2), (1007, 3.5, 44.5, 1)],
    )  # fmt: skip
    nuke.root()["frame"].setValue(1004)  # the current frame holds a detection of track 2 only
    node["create_tracker"].execute()  # the gizmo's button, run in the gizmo's context
    tracker = nuke.toNode("Tracker1")  # made beside the node, not inside the gizmo
    assert tracker.Class() == "Tracker4"
    assert tracker.input(0) is node
    tracks = tracker[facts.TRACKS_KNOB]
    assert tracks.count == 3
    expected = [
        [(1001, 10.5, 48 - 5.5), (1002, 10.5, 48 - 5.5), (1003, 10.6, 48 - 5.4)],
        [(1004, 40.5, 48 - 30.5)],
        [(1007, 3.5, 48 - 44.5)],
    ]
    for i, keys in enumerate(expected):
        xs, ys = tracks._keys(i * 31 + 2), tracks._keys(i * 31 + 3)
        assert xs == {f: pytest.approx(x) for f, x, _ in keys}
        assert ys == {f: pytest.approx(y) for f, _, y in keys}
        assert [tracks.valueAt(0, i * 31 + col) for col in (6, 7, 8)] == [0, 0, 0]
    assert nuke.Undo.log == [("begin", facts.UNDO_NAME_TRACKER), ("end", facts.UNDO_NAME_TRACKER)]


def test_paint_fix_has_one_single_frame_clone_stroke_per_detection(tmp_path):
    # two hot pixels close together on 1002 and one at the right edge on 1005
    node, items = _report(
        tmp_path, [(1002, 20.5, 20.5, 1), (1002, 25.5, 20.5, 2), (1005, 62.5, 30.5, 1)]
    )
    node["create_paint_fix"].execute()  # the gizmo's button, run in the gizmo's context
    rotopaint = nuke.toNode("RotoPaint1")  # made beside the node, not inside the gizmo
    assert rotopaint.Class() == "RotoPaint"
    assert rotopaint.input(0) is node
    curves = rotopaint[facts.CURVES_KNOB]
    (layer,) = curves.rootLayer.children
    assert layer.name == paint.LAYER_NAME and curves.changed_calls == 1
    strokes = layer.children
    assert [s.name for s in strokes] == ["hot_1002_0", "hot_1002_1", "hot_1005_0"]
    for stroke, d in zip(strokes, items, strict=True):
        (point,) = stroke.points
        assert (point.x, point.y) == (d["x"], H - d["y"])
        a = stroke.getAttributes().values
        assert a["ltt"] == 2 and a["ltn"] == a["ltm"] == d["frame"]  # alive on its frame only
        assert a["tt"] == 19 and a["src"] == 1 and a["opc"] == 1
        side = d["bbox"][2] - d["bbox"][0]
        assert side + 2 <= a["bs"] <= side + 4
        for sign in (1, -1):  # the clone source is clean whichever way Nuke applies it
            sx, sy = point.x + sign * a["stx"], point.y + sign * a["sty"]
            r = a["bs"] / 2
            assert r <= sx <= W - r and r <= sy <= H - r
            for other in items:
                if other is not d and other["frame"] == d["frame"]:
                    gap = math.hypot(sx - other["nuke_x"], sy - other["nuke_y"])
                    assert gap > r + 1
            assert math.hypot(a["stx"], a["sty"]) > a["bs"]  # never clones the defect itself
    assert nuke.Undo.log == [("begin", facts.UNDO_NAME_PAINT), ("end", facts.UNDO_NAME_PAINT)]


def test_sensor_positions_become_tracks_and_strokes_on_every_frame_seen(tmp_path):
    """A dead pixel of the shot-level pass (report 'sensor' section) is tracked and painted."""
    node, _ = _report(tmp_path, [(1002, 20.5, 20.5, 1)])
    path = tmp_path / "qc" / "report.json"
    rep = json.loads(path.read_text())
    rep["sensor"] = {
        "file": "sensor/sensor.json",
        "warnings": [],
        "defects": [
            {"id": 1, "kind": "dead", "x": 40.5, "y": 10.5, "nuke_x": 40.5, "nuke_y": H - 10.5,
             "bbox": [40, 10, 41, 11], "area": 1, "frames_seen": "1001-1003, 1005",
             "confidence": 0.99, "track": "sensor_dead_1.txt"}
        ],
    }  # fmt: skip
    path.write_text(json.dumps(rep))
    node["create_tracker"].execute()
    tracks = nuke.toNode("Tracker1")[facts.TRACKS_KNOB]
    assert tracks.count == 2
    keyed = [tracks._keys(i * 31 + 2) for i in range(2)]
    dead = next(k for k in keyed if len(k) > 1)
    assert dead == {f: pytest.approx(40.5) for f in (1001, 1002, 1003, 1005)}
    node["create_paint_fix"].execute()
    (layer,) = nuke.toNode("RotoPaint1")[facts.CURVES_KNOB].rootLayer.children
    names = sorted(s.name for s in layer.children)
    assert names == ["dead_1001_0", "dead_1002_0", "dead_1003_0", "dead_1005_0", "hot_1002_0"]


def test_paint_fix_of_nothing_makes_no_node_and_leaves_no_undo_step(tmp_path):
    nuke.GUI = True
    node, _ = _report(tmp_path, [])
    assert buttons.create_paint_fix(node) is None
    assert "no detections" in nuke._messages[-1]
    assert [n.Class() for n in nuke.root().nodes()] == ["HotPixelDetect"]
    assert nuke.Undo.log == []


def test_open_report_opens_the_qc_page(plate, tmp_path, monkeypatch):
    node = _analyzed(plate, tmp_path)
    opened = []
    monkeypatch.setattr(webbrowser, "open", opened.append)
    url = buttons.open_report(node)
    assert opened == [url] and url.startswith("file://") and url.endswith("/report.html")


# --- behaviours of the real Nuke the plugin must survive -------------------------------------


def test_tracks_need_no_open_panel_and_keep_keys_off_the_current_frame(tmp_path):
    """A Tracker4 made by nuke.nodes has its panel closed, so add_track adds nothing (as in
    Nuke, and always in nuke -t): the rows are written as the saved table instead."""
    nuke.GUI = True
    node, _ = _report(tmp_path, [(1001, 10.5, 5.5, 1), (1003, 40.5, 30.5, 2)])
    nuke.root()["frame"].setValue(1002)  # no detection on the current frame
    tracker = buttons.create_tracker(node)
    assert nuke._messages == []
    tracks = tracker[facts.TRACKS_KNOB]
    assert tracks.count == 2
    assert [row[facts.COL_NAME] for row in tracks.rows] == ["hot 1001 (10.5, 42.5)",
                                                            "hot 1003 (40.5, 17.5)"]  # fmt: skip
    for i, frame in enumerate((1001, 1003)):
        base = i * facts.TRACK_COLUMNS
        for col in range(facts.TRACK_COLUMNS):
            if col != facts.COL_NAME:
                assert not tracks.isKeyAt(1002, base + col), (i, col)
        for col in (facts.COL_ENABLE, facts.COL_OFFSET_X, facts.COL_OFFSET_Y, facts.COL_ERROR):
            assert set(tracks._keys(base + col)) == {frame}  # keyed on its own frame only
        assert tracks.valueAt(frame, base + facts.COL_ENABLE) == 1
    tracker[facts.ADD_TRACK_KNOB].execute()  # what the old code relied on: nothing happens
    assert tracks.count == 2


def test_a_tracker_that_does_not_take_its_rows_is_refused_not_left_empty(tmp_path, monkeypatch):
    nuke.GUI = True
    node, _ = _report(tmp_path, [(1001, 10.5, 5.5, 1), (1004, 40.5, 30.5, 2)])
    monkeypatch.setattr(nuke._TracksKnob, "fromScript", lambda self, text: True)  # ignored
    assert buttons.create_tracker(node) is None
    assert "holds 0 track row(s)" in nuke._messages[-1] and "nuke_facts.py" in nuke._messages[-1]
    assert [n.Class() for n in nuke.root().nodes()] == ["HotPixelDetect"]  # no empty tracker
    assert nuke.Undo.log[-1] == ("cancel", facts.UNDO_NAME_TRACKER)


class _OpenPanels:
    """``nuke.nodes`` whose nodes open their control panel (a GUI user's Tracker4)."""

    def __init__(self, real):
        self.real = real

    def __getattr__(self, cls):
        def make(**knobs):
            node = getattr(self.real, cls)(**knobs)
            node._panel_open = True
            return node

        return make


def test_the_add_track_idiom_clears_every_key_it_made_or_says_it_cannot(tmp_path, monkeypatch):
    nuke.GUI = True
    monkeypatch.setattr(facts, "TRACKS_FROM_SCRIPT", False)
    node, _ = _report(tmp_path, [(1001, 10.5, 5.5, 1), (1004, 40.5, 30.5, 2)])
    nuke.root()["frame"].setValue(1002)
    assert buttons.create_tracker(node) is None  # closed panel: add_track adds no row
    assert "holds 0 track row(s)" in nuke._messages[-1]
    monkeypatch.setattr(nuke, "nodes", _OpenPanels(nuke.nodes))
    tracks = buttons.create_tracker(node)[facts.TRACKS_KNOB]
    assert tracks.count == 2
    for i in range(2):
        for col in range(facts.TRACK_COLUMNS):
            if col != facts.COL_NAME:  # enable, offsets and error too, not only x/y
                assert not tracks.isKeyAt(1002, i * facts.TRACK_COLUMNS + col), (i, col)
    assert tracks._keys(facts.COL_TRACK_X) == {1001: 10.5}


def test_clone_strokes_marked_not_working_give_a_hotpixelfix_instead(tmp_path, monkeypatch):
    nuke.GUI = True
    monkeypatch.setattr(facts, "CLONE_STROKES_FROM_PYTHON", False)
    node, _ = _report(tmp_path, [(1002, 20.5, 20.5, 1)])
    fix = buttons.create_paint_fix(node)
    assert fix.Class() == "HotPixelFix" and fix.input(0) is node
    assert fix["threshold"].value() == pytest.approx(0.42)  # the report's threshold
    assert "instead of clone strokes" in nuke._messages[-1]
    assert "RotoPaint" not in [n.Class() for n in nuke.root().nodes()]


def test_create_fix_puts_a_hotpixelfix_under_the_node_at_the_reports_threshold(tmp_path):
    node, _ = _report(tmp_path, [(1002, 20.5, 20.5, 1)])
    node["create_fix"].execute()  # the gizmo's button, run in the gizmo's context
    fix = nuke.toNode("HotPixelFix1")
    assert fix.input(0) is node and fix["threshold"].value() == pytest.approx(0.42)
    assert nuke.Undo.log == [("begin", facts.UNDO_NAME_FIX), ("end", facts.UNDO_NAME_FIX)]


def _boom(*args, **kwargs):
    raise RuntimeError("boom")


class _BrokenTask(nuke.ProgressTask):
    def __init__(self, name):
        raise RuntimeError("no progress bar")


@pytest.mark.parametrize("where", ["engine", "progress"])
def test_every_failure_of_the_analysis_thread_reaches_the_user(plate, tmp_path, monkeypatch, where):
    """Not only PluginError: a bug in the thread must still update the node and say so."""
    node = harness.detect_node(plate, tmp_path / "qc")
    nuke.GUI = True
    if where == "engine":
        monkeypatch.setattr(engine_process, "run", _boom)
    else:
        nuke.ProgressTask = _BrokenTask
    thread = buttons.analyze(node)
    thread.join(60)
    text = "boom" if where == "engine" else "no progress bar"
    assert nuke._messages == [f"HotPixel: unexpected RuntimeError: {text} "
                              "(traceback in the script editor)"]  # fmt: skip
    assert node["status"].value() == f"failed: unexpected RuntimeError: {text} " + (
        "(traceback in the script editor)"
    )
    assert node["has_mask"].value() is False and nodes._running == {}


def test_a_failed_engine_run_says_so_on_the_node(plate, tmp_path):
    node = harness.detect_node(plate, tmp_path / "qc", params={"model": "/no/model.onnx"})
    node["detector"].setValue("neural")
    nuke.GUI = True
    buttons.analyze(node).join(60)
    assert "engine failed" in nuke._messages[-1]
    assert node["status"].value().startswith("failed: the HotPixel engine failed")


def test_buttons_of_a_node_inside_a_group_work_in_that_group(tmp_path):
    """nuke.toNode resolves in the current group (the gizmo while its button runs)."""
    group = nuke.nodes.Group(name="Comp")
    with group:
        node, _ = _report(tmp_path, [(1002, 20.5, 20.5, 1), (1004, 30.5, 20.5, 1)])
    assert node.fullName() == "Comp.HotPixelDetect1"
    for button, cls in (("create_tracker", "Tracker4"), ("create_paint_fix", "RotoPaint"),
                        ("create_fix", "HotPixelFix")):  # fmt: skip
        node[button].execute()
        made = [n for n in group.nodes() if n.Class() == cls]
        assert len(made) == 1 and made[0].input(0) is node, button
    assert nuke._messages == []
    assert [n.Class() for n in nuke.root().nodes()] == ["Group"]  # nothing at the top
    assert [n.Class() for n in node.nodes()] == ["Read", "Input", "AddChannels", "Copy", "Output"]


def test_the_end_of_a_background_run_finds_a_nested_node_from_any_group(tmp_path):
    group = nuke.nodes.Group(name="Comp")
    with group:
        node, _ = _report(tmp_path, [])
    other = nuke.nodes.Group(name="Elsewhere")
    with other:  # whatever group is current when the main thread runs the callback
        nodes._finish_in_main(node.fullName(), str(tmp_path / "qc"), RuntimeError("late"))
    assert node["status"].value().startswith("failed: unexpected RuntimeError: late")
    assert graph.node_named("Comp.HotPixelDetect1") is node
    assert graph.node_named("root.Comp.HotPixelDetect1") is node


def test_the_current_frame_is_the_roots_not_the_deprecated_nuke_frame():
    nuke.root()["frame"].setValue(1004)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        assert graph.current_frame() == 1004
    del nuke.root()._knobs["frame"]  # an old Nuke without the knob: nuke.frame() still works
    with pytest.warns(DeprecationWarning):
        assert graph.current_frame() == 1


def test_a_step_the_engine_cannot_take_is_refused_before_anything_runs(plate, tmp_path):
    read = nuke.nodes.Read(file=plate, first=1001, last=1006)
    node = harness.detect_node(plate, tmp_path / "qc")
    node.setInput(0, nuke.nodes.Grade(inputs=[read]))  # would need a precomp render
    node["frame_step"].setValue(2)
    nuke.GUI = True
    nuke._render_hook, calls = _render_plate(plate)
    assert buttons.analyze(node) is None
    assert "cannot take a step (x2)" in nuke._messages[-1] and "'every'" in nuke._messages[-1]
    assert calls == [] and not os.path.exists(tmp_path / "qc")
    # a farm chunk takes the node's step, so it is refused too
    with pytest.raises(errors.PluginError, match=r"cannot take a step \(x2\)"):
        nodes.prepare(node, frame_ranges.make(1002, 1006))
    assert calls == []
