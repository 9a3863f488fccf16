"""Nuke plugin, install (issues 4, 15): install/install.py writes the engine config and the
~/.nuke/init.py block (naming the checkout, whose init.py/menu.py are the plugin's one pair)
idempotently, without Nuke, replaces an older block, and uninstalls cleanly (temp HOME)."""

from __future__ import annotations

import importlib.util
import json
import os
import runpy
import subprocess
import sys
from pathlib import Path

import pytest

from nuke_stub import harness
from nuke_stub.harness import config, nuke

SCRIPT = os.path.join(harness.ROOT, "install", "install.py")
_spec = importlib.util.spec_from_file_location("hotpixel_install", SCRIPT)
install = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(install)


@pytest.fixture(autouse=True)
def session(monkeypatch, tmp_path):
    harness.fresh_session(monkeypatch, tmp_path)
    monkeypatch.delenv(config.ENV_PYTHON)


def _init_py(tmp_path):
    return tmp_path / "home" / ".nuke" / "init.py"


def test_install_twice_then_uninstall_in_a_temp_home(tmp_path, capsys):
    init_py = _init_py(tmp_path)
    init_py.parent.mkdir(parents=True)
    init_py.write_text("import nuke\nnuke.pluginAddPath('/studio/tools')\n")
    assert install.main(["--engine-python", sys.executable]) == 0
    first = init_py.read_text()
    assert install.main(["--engine-python", sys.executable]) == 0
    assert init_py.read_text() == first  # idempotent
    assert first.startswith("import nuke\nnuke.pluginAddPath('/studio/tools')\n")
    assert first.count(install.BEGIN) == 1 and f"({harness.ROOT!r})" in first
    cfg = json.loads((init_py.parent / "hotpixel_engine.json").read_text())
    assert cfg["engine_python"] == sys.executable and cfg["created_venv"] is None
    assert "engine: hotpixel" in capsys.readouterr().out

    # what Nuke does at startup: run ~/.nuke/init.py; the plugin then finds the engine
    nuke._reset()
    runpy.run_path(str(init_py))
    assert harness.ROOT in nuke.pluginPath()  # whose init.py added the other two
    assert harness.PLUGIN in nuke.pluginPath() and harness.GIZMOS in nuke.pluginPath()
    assert config.engine_python() == sys.executable

    assert install.main(["--uninstall"]) == 0
    assert init_py.read_text() == "import nuke\nnuke.pluginAddPath('/studio/tools')\n"
    assert not (init_py.parent / "hotpixel_engine.json").exists()


def test_a_new_engine_venv_is_planned_from_this_checkout(tmp_path, capsys):
    venv = tmp_path / "engine venv"
    assert install.main(["--venv", str(venv), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert f"+ {sys.executable} -m venv {venv}" in out
    assert f"-m pip install {harness.ROOT}" in out
    assert not venv.exists() and not _init_py(tmp_path).exists()


def test_print_env_for_studio_launchers_leaves_init_py_alone(tmp_path, capsys):
    assert install.main(["--engine-python", sys.executable, "--no-init-py", "--print-env"]) == 0
    out = capsys.readouterr().out
    assert f"NUKE_PATH={harness.ROOT}\n" in out
    assert f"HOTPIXEL_ENGINE_PYTHON={sys.executable}\n" in out
    assert not _init_py(tmp_path).exists()


def test_a_broken_engine_is_refused_with_the_reason(tmp_path):
    proc = subprocess.run(
        [sys.executable, SCRIPT, "--engine-python", str(tmp_path / "no python")],
        capture_output=True, text=True, env={**os.environ, "HOME": str(tmp_path / "home")},
    )  # fmt: skip
    assert proc.returncode == 1 and "does not exist" in proc.stderr
    assert not _init_py(tmp_path).exists()


def test_an_older_block_naming_nuke_plugin_is_replaced_issue_15(tmp_path):
    init_py = _init_py(tmp_path)
    init_py.parent.mkdir(parents=True)
    init_py.write_text(install.block(harness.PLUGIN))  # what the previous release wrote
    assert install.main(["--engine-python", sys.executable]) == 0
    text = init_py.read_text()
    assert text.count(install.BEGIN) == 1 and repr(harness.PLUGIN) not in text
    assert f"({harness.ROOT!r})" in text


def test_the_docs_install_commands_use_real_flags():
    text = Path(harness.DOCS).read_text(encoding="utf-8")
    lines = [line.split("#")[0].split() for line in text.splitlines()]
    commands = [words[2:] for words in lines if words[:2] == ["python3", "install/install.py"]]
    assert len(commands) == 4
    for args in commands:
        install.build_parser().parse_args(args)
