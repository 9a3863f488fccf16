"""Nuke plugin, static checks (issue 4): it parses as Python 3.7, imports only the standard
library and ``nuke``, its gizmos' knobs match the engine's parameter set, and init.py/menu.py
keep UI code out of farm sessions."""

from __future__ import annotations

import ast
import dataclasses
import glob
import os
import runpy
import sys

import pytest

from hotpixel.params import DetectParams, param_fields
from nuke_stub import harness
from nuke_stub.harness import buttons, jobs, nuke, ui

PLUGIN_FILES = sorted(
    [
        *glob.glob(os.path.join(harness.PLUGIN, "**", "*.py"), recursive=True),
        os.path.join(harness.ROOT, "init.py"),
        os.path.join(harness.ROOT, "menu.py"),
    ]
)


@pytest.fixture(autouse=True)
def session(monkeypatch, tmp_path):
    harness.fresh_session(monkeypatch, tmp_path)


@pytest.mark.parametrize("path", PLUGIN_FILES, ids=os.path.basename)
def test_plugin_parses_as_python_37(path):
    with open(path, encoding="utf-8") as fh:
        ast.parse(fh.read(), filename=path, feature_version=(3, 7))


def test_plugin_imports_only_stdlib_and_nuke():
    allowed = set(sys.stdlib_module_names) | {"nuke", "hotpixel_nuke"}
    for path in PLUGIN_FILES:
        with open(path, encoding="utf-8") as fh:
            tree = ast.parse(fh.read())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module]
            else:
                continue
            for name in names:
                assert name.split(".")[0] in allowed, f"{path} imports {name}"


def test_every_nuke_fact_lives_in_nuke_facts():
    """Tracker4/RotoPaint knob names and stroke keys appear only in nuke_facts.py."""
    facts = {"tracks", "add_track", "curves", "ltt", "ltn", "ltm", "bs", "stx", "sty", "tt", 31}
    for path in PLUGIN_FILES:
        if path.endswith("nuke_facts.py"):
            continue
        with open(path, encoding="utf-8") as fh:
            tree = ast.parse(fh.read())
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and not isinstance(node.value, bool):
                assert node.value not in facts, f"{path} hard-codes {node.value!r}"


def _user_knobs(node):
    return {k.name(): k for k in node.knobs().values() if hasattr(k, "range")}


def test_detect_gizmo_knobs_match_the_engine_parameters():
    node = nuke.createNode("HotPixelDetect")
    knobs = _user_knobs(node)
    assert tuple(f.name for f in param_fields()) == jobs.PARAM_NAMES
    defaults = DetectParams()
    for f in param_fields():
        knob = knobs[f.name]
        assert knob.tooltip(), f.name
        if "choices" in f.metadata:
            assert knob.values() == list(f.metadata["choices"])
            assert knob.value() == getattr(defaults, f.name)
        if f.name == "threshold":
            assert knob.range == f.metadata["range"]
        elif "range" in f.metadata:
            low, high = f.metadata["range"]
            assert f"{low} to {high}" in knob.tooltip()
            assert knob.value() == getattr(defaults, f.name)
    assert knobs["use_detector_threshold"].value() is True  # None: the detector's own point
    assert dataclasses.fields(DetectParams)  # the engine still declares its parameters


def test_every_user_knob_has_a_tooltip_and_buttons_call_real_functions():
    for name in ("HotPixelDetect", "HotPixelFix"):
        node = nuke.createNode(name)
        for knob in _user_knobs(node).values():
            if type(knob).__name__ != "Tab_Knob" and knob.label():
                assert knob.tooltip(), f"{name}.{knob.name()} has no tooltip"
    node = nuke.toNode("HotPixelDetect1")
    for button in ("analyze", "create_tracker", "create_paint_fix", "open_report"):
        code = node[button].value()
        assert f"buttons.{button}(nuke.thisNode())" in code
        assert callable(getattr(buttons, button))


def test_a_button_without_the_plugin_says_how_to_fix_it(monkeypatch):
    node = nuke.createNode("HotPixelDetect")
    monkeypatch.setitem(sys.modules, "hotpixel_nuke", None)  # the import fails
    node["analyze"].execute()
    assert "install/install.py" in nuke._messages[-1]


def test_detect_gizmo_reads_masks_into_a_declared_layer():
    node = nuke.createNode("HotPixelDetect")
    assert nuke._layers["hotpixel"] == ["hotpixel.mask"]
    copy = node.node("CopyMask")
    assert (copy["from0"].value(), copy["to0"].value()) == ("hotpixel.mask", "hotpixel.mask")
    assert copy.input(0).name() == "AddMaskLayer"  # B: the plate, plus the empty layer
    assert copy.input(1).name() == "MaskRead"  # A: the engine's masks
    assert node.node("AddMaskLayer").input(0).name() == "Input"
    assert node.node("Output1").input(0) is copy
    read = node.node("MaskRead")
    assert read["on_error"].value() == "black"  # frames not analysed yet: no error
    assert nuke._evaluate(copy, "disable") is True  # nothing to copy before Analyze
    node["mask_pattern"].setValue("/qc/masks/shot.hotpixel.####.exr")
    node["has_mask"].setValue(True)
    assert nuke._evaluate(read, "file") == "/qc/masks/shot.hotpixel.####.exr"
    assert nuke._evaluate(copy, "disable") is False


def test_fix_gizmo_fills_the_dilated_mask_from_the_neighbourhood():
    node = nuke.createNode("HotPixelFix")
    for name in ("threshold", "grow", "mix", "method", "fill_size"):
        assert node[name].tooltip()
    to_alpha = node.node("MaskToAlpha")
    assert (to_alpha["from0"].value(), to_alpha["to0"].value()) == ("hotpixel.mask", "rgba.alpha")
    repair = node.node("Repair")
    assert repair["channels"].value() == "rgb"  # alpha and other layers pass through
    assert [repair.input(i).name() for i in range(3)] == ["Input", "FillMethod", "Grow"]
    assert [node.node("FillMethod").input(i).name() for i in range(2)] == [
        "NeighbourAverage",
        "MedianFill",
    ]
    assert node["method"].values()[0] == "neighbour average"
    assert node.node("Grow").input(0).name() == "Binarise"
    assert node.node("MedianFill").input(0).name() == "Input"
    assert node.node("Repair")["mix"].expression == "{parent.mix}"
    assert node.node("Grow")["size"].expression == "{parent.grow}"


def test_init_adds_paths_without_ui_and_menu_adds_entries_once():
    nuke._reset()
    runpy.run_path(os.path.join(harness.ROOT, "init.py"))
    assert nuke.pluginPath() == [harness.GIZMOS, harness.PLUGIN]
    assert nuke._menus == {}  # farm-safe: no menus from init.py
    nuke.GUI = True
    ui._added.clear()
    runpy.run_path(os.path.join(harness.PLUGIN, "menu.py"))
    runpy.run_path(os.path.join(harness.ROOT, "menu.py"))
    entries = nuke._menus["Nodes"].items["HotPixel"].items
    assert entries == {
        "HotPixelDetect": "nuke.createNode('HotPixelDetect')",
        "HotPixelFix": "nuke.createNode('HotPixelFix')",
    }
    ui._added.clear()


def test_menus_stay_out_of_terminal_sessions():
    ui._added.clear()
    assert ui.add_menus() is False
    assert nuke._menus == {}


def test_the_real_nuke_selfcheck_runs_through_against_the_stand_in(capsys):
    from hotpixel_nuke import selfcheck

    assert selfcheck.main() == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in lines] == [
        "ok   Tracker4 tracks",
        "ok   RotoPaint stroke",
        "ok   undo",
        "ok   gizmo",
    ]


def test_the_engine_never_imports_nuke():
    for path in glob.glob(os.path.join(harness.ROOT, "engine", "**", "*.py"), recursive=True):
        with open(path, encoding="utf-8") as fh:
            tree = ast.parse(fh.read())
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            assert not any(n.split(".")[0] == "nuke" for n in names), path
