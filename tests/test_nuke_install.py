"""Nuke plugin, install: install/install.py writes the engine config and the
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


def test_an_older_block_naming_nuke_plugin_is_replaced(tmp_path):
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


# --- dry run: every check of a real install, nothing changed


def _dry_run(tmp_path, *args):
    return subprocess.run(
        [sys.executable, SCRIPT, *args, "--dry-run"],
        capture_output=True, text=True, env={**os.environ, "HOME": str(tmp_path / "home")},
    )  # fmt: skip


def test_a_dry_run_refuses_a_missing_engine_as_the_install_does(tmp_path):
    proc = _dry_run(tmp_path, "--engine-python", str(tmp_path / "no python"))
    assert proc.returncode == 1 and "does not exist" in proc.stderr
    assert "installed" not in proc.stdout and "nothing changed" in proc.stderr
    assert not (tmp_path / "home").exists()


def test_a_dry_run_with_a_working_engine_checks_it_and_changes_nothing(tmp_path):
    proc = _dry_run(tmp_path, "--engine-python", sys.executable)
    assert proc.returncode == 0, proc.stderr
    assert "engine: hotpixel " in proc.stdout  # the engine was asked for its version
    assert proc.stdout.rstrip().endswith("dry run: nothing changed")
    assert "installed" not in proc.stdout and not (tmp_path / "home").exists()


def test_a_dry_run_reports_every_problem_at_once(tmp_path):
    blocker = tmp_path / "a file"
    blocker.write_text("")
    config = blocker / "hotpixel_engine.json"  # under a file: cannot be created
    missing = str(tmp_path / "no python")
    proc = _dry_run(tmp_path, "--engine-python", missing, "--config", str(config))
    assert proc.returncode == 1
    assert "2 problem(s)" in proc.stderr
    assert "does not exist" in proc.stderr and "is not a writable folder" in proc.stderr


def test_a_dry_run_checks_the_python_a_new_venv_is_made_with(tmp_path):
    proc = _dry_run(tmp_path, "--venv", str(tmp_path / "venv"), "--python", str(tmp_path / "py"))
    assert proc.returncode == 1 and "--python" in proc.stderr
    assert not (tmp_path / "venv").exists()
