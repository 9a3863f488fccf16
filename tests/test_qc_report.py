"""report.html: one card per detection with its crops, filters that work in a real browser."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess

import numpy as np
import pytest

from hotpixel.cli.main import main
from imagegen import CLASSICAL, dark_plate, write_sequence

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_browser = pytest.mark.skipif(
    CHROMIUM is None and not os.environ.get("HOTPIXEL_REQUIRE_BROWSER"),
    reason="chromium not installed (make test installs it and then requires it)",
)


@pytest.fixture(scope="module")
def qc(tmp_path_factory):
    """A shot with three hot pixels and a NaN pixel, detected with report.html written."""
    root = tmp_path_factory.mktemp("qc")
    rng = np.random.default_rng(12)
    frames = [dark_plate(rng, 96, 64) for _ in range(8)]
    frames[1][10, 20] = (3.0, 3.0, 3.0)
    frames[4][40, 70] = (0.2, 2.5, 0.2)
    frames[6][50, 10] = (4.0, 0.5, 0.5)
    frames[5][30, 30] = (np.nan, 0.1, 0.1)
    pattern = write_sequence(str(root / "plate <&> 'x'"), frames)  # HTML-special characters
    out = root / "out"
    assert main(["detect", *CLASSICAL, pattern, "--out", str(out), "--quiet"]) == 0
    return out


def test_page_has_a_card_and_a_crop_per_detection(qc):
    report = json.loads((qc / "report.json").read_text())
    page = (qc / "report.html").read_text()
    cards = re.findall(r'<figure class="hit" data-frame="(-?\d+)"', page)
    assert len(cards) == report["summary"]["detections"] == 4
    assert sorted(map(int, cards)) == sorted(d["frame"] for d in report["detections"])
    crops = re.findall(r'src="report_files/([^"]+\.png)"', page)
    assert sorted(crops) == sorted(os.listdir(qc / "report_files"))
    assert all((qc / "report_files" / c).stat().st_size > 500 for c in crops)
    assert "plate &lt;&amp;&gt;" in page  # the pattern is escaped, not injected
    assert "<dt>Ran on</dt><dd>numpy/scipy (CPU)</dd>" in page
    assert "http://" not in page and "https://" not in page  # nothing from the network


def test_report_command_rebuilds_and_drops_stale_crops(qc):
    stale = qc / "report_files" / "hot_999_0.png"
    stale.write_bytes(b"old")
    assert main(["report", str(qc), "--quiet"]) == 0
    assert not stale.exists()
    assert len(os.listdir(qc / "report_files")) == 4


def test_no_html_leaves_no_page(tmp_path):
    rng = np.random.default_rng(1)
    pattern = write_sequence(str(tmp_path / "p"), [dark_plate(rng) for _ in range(3)])
    out = tmp_path / "o"
    assert main(["detect", *CLASSICAL, pattern, "--out", str(out), "--no-html", "--quiet"]) == 0
    assert not (out / "report.html").exists()


def _chromium(*args: str) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None, "chromium is required here (HOTPIXEL_REQUIRE_BROWSER is set)"
    cmd = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--enable-logging=stderr",
        "--v=0",
        "--virtual-time-budget=5000",
        *args,
    ]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)


def _console_errors(stderr: str) -> list[str]:
    lines = [ln for ln in stderr.splitlines() if "CONSOLE" in ln or "Uncaught" in ln]
    return [ln for ln in lines if "error" in ln.lower() or "Uncaught" in ln]


@needs_browser
def test_page_loads_in_chromium_without_errors_and_filters(qc, tmp_path):
    url = (qc / "report.html").as_uri()
    dom = _chromium("--dump-dom", url)
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert _console_errors(dom.stderr) == []
    assert 'data-shown="4"' in dom.stdout  # the script ran and counted every card
    only_nan = _chromium("--dump-dom", url + "#kind=nonfinite")
    assert 'data-shown="1"' in only_nan.stdout
    late = _chromium("--dump-dom", url + "#frames=1006-1008")
    assert 'data-shown="2"' in late.stdout
    shot = tmp_path / "report.png"
    done = _chromium(f"--screenshot={shot}", "--window-size=1000,1400", url)
    assert done.returncode == 0, done.stderr[-2000:]
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000
