"""Architecture rules: the engine never imports Nuke; detection never needs torch."""

from __future__ import annotations

import ast
import pathlib
import subprocess
import sys

ENGINE = pathlib.Path(__file__).resolve().parents[1] / "engine" / "hotpixel"


def _imports(path: pathlib.Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_engine_never_imports_nuke():
    offenders = [str(p) for p in ENGINE.rglob("*.py") if "nuke" in _imports(p)]
    assert offenders == []


def test_detection_path_does_not_load_torch():
    code = (
        "import sys, hotpixel.cli.main, hotpixel.pipeline, hotpixel.detectors.classical;"
        "print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_detector_choices_match_registry():
    from hotpixel.detectors import DETECTORS
    from hotpixel.params import param_fields

    field = next(f for f in param_fields() if f.name == "detector")
    assert set(field.metadata["choices"]) == set(DETECTORS)
