"""The contact sheet ``hits.png`` comes from every plain ``detect``, ``merge`` and ``report``
(before, only the demo drew it): one row per hit, the hits of one place together, linked from
the QC page, and left out with ``--no-contact-sheet``."""

from __future__ import annotations

import numpy as np
import pytest

from hotpixel.cli.main import main
from hotpixel.io.images import read_rgb
from hotpixel.outputs.contact_sheet import sheet_rows
from hotpixel.outputs.hit_sheet import MAX_ROWS, SHEET
from hotpixel.outputs.report import read_report
from imagegen import CLASSICAL, dark_plate, write_sequence

PLACE = (40, 12)  # x, y of a pixel lit in frames 1002, 1005 and 1008: one place, three hits
ROW = 20 + 16 + (17 * 8 + 6)  # a sheet row: caption, labels, crops of 17 px at 8x, border


@pytest.fixture(scope="module")
def plate(tmp_path_factory):
    rng = np.random.default_rng(4)
    frames = [dark_plate(rng, 64, 40) for _ in range(8)]
    frames[2][30, 10] = (3.0, 3.0, 3.0)
    for i in (1, 4, 7):
        frames[i][PLACE[1], PLACE[0]] = (3.0, 3.0, 3.0)
    frames[6][20, 55] = (4.0, 0.5, 0.5)
    return write_sequence(str(tmp_path_factory.mktemp("sheet") / "plate"), frames)


def _rows(path) -> int:
    height = read_rgb(str(path), "the sheet").shape[0]
    assert height % ROW == 0, height
    return height // ROW


def test_a_plain_detect_writes_the_sheet_and_the_page_links_it(plate, tmp_path, capsys):
    out = tmp_path / "qc"
    assert main(["detect", *CLASSICAL, plate, "--out", str(out)]) == 0
    assert f"contact sheet: {out / SHEET}" in capsys.readouterr().err
    report = read_report(str(out))
    hits = report["detections"]
    assert len(hits) >= 5 and _rows(out / SHEET) == len(hits)
    assert f'<a href="{SHEET}">{SHEET}</a>' in (out / "report.html").read_text()
    order = [d["group"] for d in sheet_rows(report)]
    assert order == sorted(order, key=order.index)  # each place's hits in one run of rows
    biggest = max(order, key=order.count)
    place = [d for d in sheet_rows(report) if d["group"] == biggest]
    assert [d["frame"] for d in place] == [1002, 1005, 1008]  # the lit pixel, by frame


def test_no_contact_sheet_leaves_it_out_and_report_draws_it_later(plate, tmp_path, capsys):
    out = tmp_path / "qc"
    assert main(["detect", *CLASSICAL, plate, "--out", str(out), "--no-contact-sheet"]) == 0
    assert not (out / SHEET).exists()
    assert "hits.png" not in (out / "report.html").read_text()
    assert main(["report", str(out), "--no-contact-sheet"]) == 0
    assert not (out / SHEET).exists()
    assert main(["report", str(out)]) == 0
    assert "contact sheet:" in capsys.readouterr().err
    assert _rows(out / SHEET) == len(read_report(str(out))["detections"])
    assert f'href="{SHEET}"' in (out / "report.html").read_text()


def test_a_folder_without_hits_has_no_sheet(tmp_path):
    rng = np.random.default_rng(5)
    clean = write_sequence(str(tmp_path / "clean"), [dark_plate(rng, 32, 24) for _ in range(5)])
    out = tmp_path / "qc"
    (out).mkdir()
    (out / SHEET).write_bytes(b"an older run's sheet")
    assert main(["detect", *CLASSICAL, clean, "--out", str(out), "--quiet"]) == 0
    assert read_report(str(out))["detections"] == [] and not (out / SHEET).exists()


def test_a_sheet_holds_at_most_max_rows(monkeypatch, plate, tmp_path, capsys):
    monkeypatch.setattr("hotpixel.outputs.contact_sheet.MAX_ROWS", 2)
    monkeypatch.setattr("hotpixel.outputs.qc_page.MAX_ROWS", 2)
    out = tmp_path / "qc"
    assert main(["detect", *CLASSICAL, plate, "--out", str(out)]) == 0
    hits = len(read_report(str(out))["detections"])
    assert f"the first 2 of {hits} hits" in capsys.readouterr().err
    assert _rows(out / SHEET) == 2 < MAX_ROWS
    assert f"(the first 2 of {hits} hits)" in (out / "report.html").read_text()
