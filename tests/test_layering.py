"""Architecture rules: the layer order, who may import torch, OpenImageIO and Nuke.

The layers, lowest first (docs/development.md explains them):
errors/params/progress < io < outputs < detect < run/sensor/review/fix < farm/ml < cli/demo.
A module imports only from its own layer or lower ones, so the plan of the tree stays true.
"""

from __future__ import annotations

import ast
import pathlib
import subprocess
import sys

ENGINE = pathlib.Path(__file__).resolve().parents[1] / "engine" / "hotpixel"

LAYERS: dict[str, int] = {
    "hotpixel": 0,  # the package itself: __version__ only
    "errors": 0,
    "params": 0,
    "progress": 0,
    "io": 1,
    "outputs": 2,
    "detect": 3,
    "run": 4,
    "sensor": 4,
    "review": 4,
    "fix": 4,
    "farm": 5,
    "ml": 5,
    "cli": 6,
    "demo": 6,
    "__main__": 6,
}
TORCH_ALLOWED = ("ml/", "detect/detectors/torch_runner.py", "detect/detectors/network.py")


def _room(module: str) -> str:
    """The top-level room of a dotted engine module: ``hotpixel.io.frames`` -> ``io``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def _engine_modules() -> dict[str, pathlib.Path]:
    out = {}
    for path in ENGINE.rglob("*.py"):
        rel = path.relative_to(ENGINE.parent).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _imported(path: pathlib.Path, module: str) -> set[str]:
    """Every module name ``path`` imports, relative imports resolved, at any depth."""
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            names.add(mod)
            names.update(f"{mod}.{a.name}" for a in node.names)  # `from pkg import module`
    return names


def test_layer_rule_holds():
    modules = _engine_modules()
    offenders = []
    for module, path in modules.items():
        own = LAYERS[_room(module)]
        for name in _imported(path, module):
            if name.startswith("hotpixel") and name in modules:
                room = _room(name)
                if LAYERS[room] > own and room != _room(module):
                    offenders.append(f"{module} imports {name}")
    assert offenders == []


def test_every_room_has_a_layer():
    assert {_room(m) for m in _engine_modules()} <= set(LAYERS)


def test_only_ml_and_the_torch_runner_import_torch():
    offenders = []
    for module, path in _engine_modules().items():
        rel = path.relative_to(ENGINE).as_posix()
        torch = any(n.split(".")[0] == "torch" for n in _imported(path, module))
        if torch and not rel.startswith(TORCH_ALLOWED):
            offenders.append(rel)
    assert offenders == []


def test_only_io_imports_openimageio():
    offenders = [
        path.relative_to(ENGINE).as_posix()
        for module, path in _engine_modules().items()
        if any(n.split(".")[0] == "OpenImageIO" for n in _imported(path, module))
        and _room(module) != "io"
    ]
    assert offenders == []


def test_engine_never_imports_nuke():
    offenders = [
        str(path)
        for module, path in _engine_modules().items()
        if any(n.split(".")[0] == "nuke" for n in _imported(path, module))
    ]
    assert offenders == []


def test_the_product_never_imports_ml():
    product = {"io", "outputs", "detect", "run", "sensor", "review", "fix", "farm"}
    offenders = [
        f"{module} imports {name}"
        for module, path in _engine_modules().items()
        if _room(module) in product
        for name in _imported(path, module)
        if name.startswith("hotpixel.ml")
    ]
    assert offenders == []


def test_detection_path_does_not_load_torch():
    code = (
        "import sys, hotpixel.cli.main, hotpixel.run.detect, hotpixel.detect.detectors.classical;"
        "print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_no_import_cycle_between_rooms():
    """Rooms form a DAG: no room reaches itself through others (late imports included)."""
    modules = _engine_modules()
    edges: dict[str, set[str]] = {}
    for module, path in modules.items():
        for name in _imported(path, module):
            if name in modules and _room(name) != _room(module):
                edges.setdefault(_room(module), set()).add(_room(name))
    edges.pop("hotpixel", None)
    for room in edges.values():
        room.discard("hotpixel")

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        for nxt in edges.get(start, ()):
            if nxt == goal or (nxt not in seen and reaches(nxt, goal, seen | {nxt})):
                return True
        return False

    assert [room for room in edges if reaches(room, room, {room})] == []


def test_detector_choices_match_registry():
    from hotpixel.detect.detectors import DETECTORS
    from hotpixel.params import param_fields

    field = next(f for f in param_fields() if f.name == "detector")
    assert set(field.metadata["choices"]) == set(DETECTORS)
