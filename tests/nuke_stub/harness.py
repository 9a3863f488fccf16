"""Shared set-up for the Nuke plugin tests: the stub ``nuke``, the plugin, small plates.

Importing this puts ``tests/nuke_stub`` (the strict stand-in ``nuke``) and ``nuke_plugin`` on
``sys.path`` and imports both, so test modules take everything from here.
"""

from __future__ import annotations

import os
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
STUB = os.path.join(ROOT, "tests", "nuke_stub")
PLUGIN = os.path.join(ROOT, "nuke_plugin")
GIZMOS = os.path.join(ROOT, "gizmos")
for _path in (PLUGIN, STUB):
    if _path not in sys.path:
        sys.path.insert(0, _path)

import nuke  # noqa: E402
from hotpixel_nuke import (  # noqa: E402
    buttons,
    colour,
    config,
    engine_process,
    errors,
    farm,
    feedback,
    fix_node,
    frame_ranges,
    graph,
    jobs,
    nodes,
    paint,
    progress,
    report,
    selfcheck,
    tracker,
    tracks_table,
    ui,
)
from hotpixel_nuke import nuke_facts as facts  # noqa: E402

from imagegen import dark_plate, write_sequence  # noqa: E402

__all__ = [
    "buttons",
    "colour",
    "config",
    "engine_process",
    "errors",
    "facts",
    "farm",
    "feedback",
    "fix_node",
    "frame_ranges",
    "graph",
    "jobs",
    "nodes",
    "nuke",
    "paint",
    "progress",
    "report",
    "selfcheck",
    "tracker",
    "tracks_table",
    "ui",
]
DOCS = os.path.join(ROOT, "docs", "nuke.md")

CLASSICAL = {"detector": "classical"}


def fresh_session(monkeypatch, tmp_path):
    """A new stub session with the gizmos on the plugin path and the test venv as engine."""
    nuke._reset()
    nodes._running.clear()
    nuke.pluginAddPath(GIZMOS)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv(config.ENV_PYTHON, sys.executable)
    monkeypatch.delenv(config.ENV_CONFIG, raising=False)


def plate(folder, count=6, hot=None, size=(64, 48), seed=1):
    """A dark plate ``folder/shot.####.exr`` from 1001; ``hot`` = {index: [(row, col), ...]}."""
    rng = np.random.default_rng(seed)
    frames = [dark_plate(rng, *size) for _ in range(count)]
    for i, spots in (hot or {}).items():
        for row, col in spots:
            frames[i][row, col] = (4.0, 3.0, 3.5)
    return write_sequence(str(folder), frames)


def detect_node(pattern, out, first=1001, last=1006, params=None):
    """A Read of ``pattern`` feeding a new HotPixelDetect node set to the classical detector."""
    read = nuke.nodes.Read(file=pattern.replace("####", "%04d"), first=first, last=last)
    node = nuke.createNode("HotPixelDetect")
    node.setInput(0, read)
    node["output"].setValue(str(out))
    for name, value in {**CLASSICAL, **(params or {})}.items():
        node[name].setValue(value)
    return node
