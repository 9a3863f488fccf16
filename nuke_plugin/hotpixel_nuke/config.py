"""Where the engine lives: the Python interpreter that has ``hotpixel`` installed.

Looked up in this order (the first that names an interpreter wins):

1. ``HOTPIXEL_ENGINE_PYTHON``: the interpreter's path (farm and studio launchers set this);
2. ``HOTPIXEL_CONFIG``: path of a JSON file ``{"engine_python": "..."}``;
3. ``hotpixel_engine.json`` next to this package's folder (a studio-wide install);
4. ``~/.nuke/hotpixel_engine.json`` (what ``install/install.py`` writes for one user).

The engine never runs inside Nuke's interpreter: torch, onnxruntime and OpenImageIO bring CUDA
and Qt libraries that can clash with Nuke's own.
"""

import json
import os

from .errors import EngineNotFound

ENV_PYTHON = "HOTPIXEL_ENGINE_PYTHON"
ENV_CONFIG = "HOTPIXEL_CONFIG"
CONFIG_NAME = "hotpixel_engine.json"
FIX = "run `python install/install.py` from the hotpixel checkout, or set " + ENV_PYTHON


def plugin_dir():
    """The ``nuke_plugin`` folder (a studio-wide install puts ``hotpixel_engine.json`` there)."""
    return os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def user_config_path():
    """``~/.nuke/hotpixel_engine.json``."""
    return os.path.join(os.path.expanduser("~"), ".nuke", CONFIG_NAME)


def config_paths():
    """Candidate config files, in lookup order (existing or not)."""
    paths = []
    if os.environ.get(ENV_CONFIG):
        paths.append(os.environ[ENV_CONFIG])
    paths += [os.path.join(plugin_dir(), CONFIG_NAME), user_config_path()]
    return paths


def read_config(path):
    """The settings in ``path``, or None when the file does not exist."""
    if not os.path.isfile(path):
        return None
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, ValueError) as exc:
        raise EngineNotFound(f"cannot read HotPixel config {path} ({exc}); {FIX}") from exc
    if not isinstance(data, dict):
        raise EngineNotFound(f"HotPixel config {path} is not a JSON object; {FIX}")
    return data


def engine_python():
    """The engine's interpreter, checked to exist; raises :class:`EngineNotFound`."""
    value, origin = os.environ.get(ENV_PYTHON, ""), ENV_PYTHON
    if not value:
        for path in config_paths():
            data = read_config(path)
            if data and data.get("engine_python"):
                value, origin = str(data["engine_python"]), path
                break
    if not value:
        raise EngineNotFound(
            "the HotPixel engine is not configured (looked at {} and {}); {}".format(
                ENV_PYTHON, ", ".join(config_paths()), FIX
            )
        )
    value = os.path.expanduser(value)
    if not os.path.isfile(value):
        raise EngineNotFound(
            f"the HotPixel engine's Python {value!r} (from {origin}) does not exist; {FIX}"
        )
    return value


def engine_command(*args):
    """The argument list that runs ``hotpixel ARGS`` in the engine's own Python."""
    return [engine_python(), "-m", "hotpixel"] + [str(a) for a in args]
