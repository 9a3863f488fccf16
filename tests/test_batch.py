"""The many-shot driver: status table, failures recorded and passed, reruns finish the job."""

from __future__ import annotations

import csv
import os

import numpy as np
import pytest

from hotpixel.cli.main import main
from hotpixel.farm.batch import read_shot_list
from imagegen import CLASSICAL, dark_plate, write_sequence


def _shot(folder, name, n=6, hot=None):
    rng = np.random.default_rng(len(name))
    frames = [dark_plate(rng) for _ in range(n)]
    if hot:
        frames[hot[0]][hot[1], hot[2]] = (2.0, 2.0, 2.0)
    return write_sequence(str(folder / name), frames, name=name)


def _status(path):
    with open(path, encoding="utf-8") as fh:
        return {row["shot"]: row for row in csv.DictReader(fh)}


def test_batch_records_failures_goes_on_and_a_rerun_finishes(tmp_path, capsys):
    _shot(tmp_path, "sh010", hot=(2, 10, 20))
    _shot(tmp_path, "sh020")
    _shot(tmp_path, "sh030", n=8, hot=(5, 30, 40))
    broken = tmp_path / "sh020" / "sh020.1004.exr"
    original = broken.read_bytes()
    broken.write_bytes(original[:150])
    shots = tmp_path / "shots.txt"
    shots.write_text(
        "# tonight's QC\n"
        "sh010/sh010.####.exr\n"
        "sh020/sh020.####.exr\n"
        "\n"
        "sh030/sh030.####.exr 1003-1008\n"
    )
    root = tmp_path / "qc"
    code = main(["batch", str(shots), "--out", str(root), *CLASSICAL])
    assert code == 3  # the failed shot's exit code
    out = capsys.readouterr().out
    assert "sh020" in out and "failed" in out
    table = _status(root / "status.csv")
    assert [r["status"] for r in table.values()] == ["done", "failed", "done"]
    assert "sh020.1004.exr" in table["sh020"]["error"] and table["sh020"]["exit_code"] == "3"
    assert (table["sh010"]["detections"], table["sh030"]["detections"]) == ("1", "1")
    assert table["sh030"]["frames"] == "6"  # its frame range was honoured
    assert os.path.isfile(table["sh010"]["report"])
    done_mask = root / "sh010" / "masks" / "sh010.hotpixel.1001.exr"
    stamp = done_mask.stat().st_mtime_ns

    broken.write_bytes(original)  # the plate is re-copied; the batch is simply rerun
    assert main(["batch", str(shots), "--out", str(root), "--quiet", *CLASSICAL]) == 0
    table = _status(root / "status.csv")
    assert [r["status"] for r in table.values()] == ["done", "done", "done"]
    assert done_mask.stat().st_mtime_ns == stamp  # finished shots were resumed, not redone


def test_fail_on_detections_in_batch(tmp_path):
    _shot(tmp_path, "sh010", hot=(2, 10, 20))
    shots = tmp_path / "shots.txt"
    shots.write_text("sh010/sh010.####.exr\n")
    args = ["batch", str(shots), "--out", str(tmp_path / "qc"), "--quiet", *CLASSICAL]
    assert main([*args, "--fail-on-detections"]) == 1


def test_csv_shot_list_names_outputs_and_duplicates(tmp_path):
    (tmp_path / "list.csv").write_text(
        "pattern,name,out,frames\n"
        "a/plate.####.exr,,,\n"
        "b/plate.####.exr,,,1001-1010\n"
        "c/plate.####.exr,hero,/mnt/qc/hero,\n"
    )
    shots = read_shot_list(str(tmp_path / "list.csv"), "/root/qc")
    assert [s.name for s in shots] == ["plate", "plate_2", "hero"]
    assert [s.out for s in shots] == ["/root/qc/plate", "/root/qc/plate_2", "/mnt/qc/hero"]
    assert shots[0].pattern == str(tmp_path / "a" / "plate.####.exr")
    assert shots[1].frames == tuple(range(1001, 1011))


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        ("", "names no shots"),
        ("# only a comment\n", "names no shots"),
        ("path,frames\nx.####.exr,1\n", "no 'pattern' column"),
        ("pattern,frames\nx.####.exr,10-1\n", "line 2"),
    ],
)
def test_bad_shot_lists_are_input_errors(tmp_path, capsys, content, needle):
    path = tmp_path / "shots.csv"
    path.write_text(content)
    assert main(["batch", str(path), "--out", str(tmp_path / "qc")]) == 3
    assert needle in capsys.readouterr().err
