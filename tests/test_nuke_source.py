"""Nuke plugin, static checks: it parses as Python 3.7, imports only the
standard library and ``nuke`` with no import cycle, its gizmos' knobs match the engine's
parameter set and their expressions use no reserved name, one init.py/menu.py pair keeps UI code
out of farm sessions, and the real-Nuke self-check covers every fact not verified."""

from __future__ import annotations

import ast
import dataclasses
import glob
import os
import re
import runpy
import sys

import pytest

from hotpixel.params import DetectParams, param_fields
from nuke_stub import harness
from nuke_stub.harness import buttons, facts, jobs, nuke, selfcheck, ui

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
    for button in ("analyze", "create_tracker", "create_paint_fix", "create_fix", "open_report"):
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


def test_one_init_and_menu_pair_at_the_root_adds_paths_then_menus():
    """NUKE_PATH names the checkout's root: its init.py (every session, no UI) and menu.py
    (GUI only) are the only pair; nuke_plugin/ holds none."""
    pairs = sorted(
        os.path.relpath(os.path.dirname(p), harness.ROOT)
        for p in glob.glob(os.path.join(harness.ROOT, "**", "menu.py"), recursive=True)
        if ".venv" not in p
    )
    assert pairs == ["."]
    assert not os.path.exists(os.path.join(harness.PLUGIN, "init.py"))
    nuke._reset()
    runpy.run_path(os.path.join(harness.ROOT, "init.py"))
    assert sorted(nuke.pluginPath()) == sorted([harness.GIZMOS, harness.PLUGIN])
    assert nuke._menus == {}  # farm-safe: no menus from init.py
    assert nuke.createNode("HotPixelDetect").Class() == "HotPixelDetect"  # gizmos found
    nuke.GUI = True
    ui._added.clear()
    runpy.run_path(os.path.join(harness.ROOT, "menu.py"))
    runpy.run_path(os.path.join(harness.ROOT, "menu.py"))  # a second run adds nothing
    entries = nuke._menus["Nodes"].items["HotPixel"].items
    assert entries == {
        "HotPixelDetect": "nuke.createNode('HotPixelDetect')",
        "HotPixelFix": "nuke.createNode('HotPixelFix')",
    }
    ui._added.clear()


def test_the_plugin_modules_import_each_other_without_a_cycle():
    """Imports inside functions count too: a late import is how the old cycle was hidden."""
    package = os.path.join(harness.PLUGIN, "hotpixel_nuke")
    graph = {}
    for path in glob.glob(os.path.join(package, "*.py")):
        name = os.path.basename(path)[:-3]
        with open(path, encoding="utf-8") as fh:
            tree = ast.parse(fh.read())
        deps = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                deps |= {node.module} if node.module else {a.name for a in node.names}
        graph[name] = deps - {"__init__"}

    def visit(name, trail):
        assert name not in trail, " -> ".join([*trail, name])
        for dep in graph.get(name, ()):
            visit(dep, [*trail, name])

    for name in graph:
        visit(name, [])


def test_menus_stay_out_of_terminal_sessions():
    ui._added.clear()
    assert ui.add_menus() is False
    assert nuke._menus == {}


def _tagged_facts():
    """{name: tag} of every constant in nuke_facts.py whose comment starts with a tag."""
    with open(facts.__file__, encoding="utf-8") as fh:
        text = fh.read()
    pattern = r"^([A-Z][A-Z0-9_]*) = .*#\s*(VERIFIED|INFERRED|UNVERIFIED)\b"
    return {m.group(1): m.group(2) for m in re.finditer(pattern, text, re.MULTILINE)}


def test_the_selfcheck_covers_every_fact_not_verified():
    tags = _tagged_facts()
    assert tags["TRACKS_FROM_SCRIPT"] == "INFERRED" and tags["COL_TRACK_X"] == "VERIFIED"
    checked = {name for names, _ in selfcheck.CHECKS for name in names}
    assert checked <= set(tags)  # the checks name real facts
    assert {n for n, tag in tags.items() if tag != "VERIFIED"} <= checked


def test_the_real_nuke_selfcheck_prints_one_line_per_fact_against_the_stand_in(capsys):
    assert selfcheck.main() == 0
    lines = capsys.readouterr().out.splitlines()
    names = [name for names, _ in selfcheck.CHECKS for name in names]
    assert [line.split(":")[0] for line in lines] == [f"ok   {n}" for n in names]


def test_the_selfcheck_compares_clone_values_after_a_reload_not_only_keys(capsys, monkeypatch):
    """A Nuke that saves a stroke's keys but not the values set from Python must fail."""
    real = nuke._Stroke.serialise

    def forgetful(stroke):  # saves "stx 0": the key is there, the value is not
        return re.sub(r" stx [^ ]+", " stx 0", real(stroke))

    monkeypatch.setattr(nuke._Stroke, "serialise", forgetful)
    assert selfcheck.main() == 1
    out = capsys.readouterr().out
    assert "FAIL CLONE_STROKES_FROM_PYTHON: AssertionError" in out and "'stx': 0.0" in out


def _gizmo_nodes(name):
    node = nuke.createNode(name)
    return [n for n in node.nodes() if n.Class() == "Expression"]


def test_no_gizmo_expression_uses_a_reserved_name():
    """A temporary named t (or x, y, frame, a channel...) reads Nuke's own value instead."""
    for gizmo in ("HotPixelDetect", "HotPixelFix"):
        for node in _gizmo_nodes(gizmo):
            temps = [node[f"temp_name{i}"].value().strip() for i in range(4)]
            temps = [t for t in temps if t]
            for temp in temps:
                assert temp not in facts.EXPRESSION_RESERVED, f"{gizmo}.{node.name()}: {temp}"
            for i in range(4):
                text = node[f"expr{i}"].value() + " " + node[f"temp_expr{i}"].value()
                text = re.sub(r"\bparent\.\w+", "", text)
                for word in re.findall(r"[A-Za-z_]\w*", text):
                    assert word in temps or word in "rgba", f"{gizmo}.{node.name()}: {word}"


@pytest.mark.parametrize("frame", [1, 1001])
def test_fix_gizmo_binarises_the_mask_at_its_threshold_on_any_frame(frame):
    fix = nuke.createNode("HotPixelFix")
    fix["threshold"].setValue(0.5)
    nuke.root()["frame"].setValue(frame)
    binarise = fix.node("Binarise")
    assert nuke._pixel(binarise, (0.1, 0.2, 0.3, 0.9))[3] == 1.0
    assert nuke._pixel(binarise, (0.1, 0.2, 0.3, 0.3))[3] == 0.0


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
