"""The QC page's CSS and JavaScript are package files, checked here since no Python linter reads
them, and inlined whole into report.html."""

from __future__ import annotations

import re
import shutil
import subprocess
from importlib import resources
from pathlib import Path

import pytest

from hotpixel.outputs.qc_page import page_asset

ASSETS = resources.files("hotpixel.outputs") / "assets"
ROOT = Path(__file__).resolve().parents[1]


def _without_comments_and_strings(css: str) -> str:
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    return re.sub(r'"[^"\n]*"|\'[^\'\n]*\'', '""', css)


def test_the_script_parses():
    node = shutil.which("node")
    if node is None:
        pytest.skip("node not installed: the JavaScript syntax check needs it")
    with resources.as_file(ASSETS / "qc_page.js") as path:
        done = subprocess.run([node, "--check", str(path)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_the_style_has_balanced_braces_and_no_import():
    css = _without_comments_and_strings(page_asset("qc_page.css"))
    depth = 0
    for i, c in enumerate(css):
        depth += {"{": 1, "}": -1}.get(c, 0)
        assert depth >= 0, f"qc_page.css: '}}' with no '{{' before it, at character {i}"
    assert depth == 0, f"qc_page.css: {depth} '{{' never closed"
    assert "@import" not in css and "url(" not in css  # the page loads nothing


def test_neither_asset_can_close_its_own_tag_early():
    assert "</style" not in page_asset("qc_page.css").lower()
    assert "</script" not in page_asset("qc_page.js").lower()


def test_the_assets_are_package_data():
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    package_data = re.search(
        r"(?m)^\[tool\.setuptools\.package-data\]\nhotpixel = (.*)$", pyproject
    )
    assert package_data and '"outputs/assets/*"' in package_data.group(1)
    assert {p.name for p in ASSETS.iterdir()} >= {"qc_page.css", "qc_page.js"}
