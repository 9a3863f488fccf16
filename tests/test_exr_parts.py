"""Multi-part and multi-layer EXRs: the run says which part and layer it read, and
``--part NAME`` / ``--layer NAME`` choose another; a name the file lacks is refused (exit 3)."""

from __future__ import annotations

import hashlib
import json
import pathlib

import numpy as np
import pytest

from hotpixel.cli.main import main
from hotpixel.params import DetectParams
from hotpixel.run.chunks import chunk_command
from hotpixel.run.job import DetectJob
from imagegen import CLASSICAL, dark_plate, write_image, write_parts

HOT = (20, 10)  # x, y of the hot pixel frame 1003 has in its second part or layer only


def _frames(seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Five (first, second) pairs of dark plates; the second of 1003 has the hot pixel."""
    rng = np.random.default_rng(seed)
    pairs = [(dark_plate(rng, 48, 40), dark_plate(rng, 48, 40)) for _ in range(5)]
    pairs[2][1][HOT[1], HOT[0]] = (3.0, 2.5, 2.0)
    return pairs


def _two_parts(folder: pathlib.Path) -> str:
    folder.mkdir()
    for i, (beauty, diffuse) in enumerate(_frames(1)):
        parts = [("beauty", beauty), ("diffuse", diffuse)]
        write_parts(str(folder / f"shot.{1001 + i}.exr"), parts)
    return str(folder / "shot.####.exr")


def _two_layers(folder: pathlib.Path) -> str:
    folder.mkdir()
    names = ("R", "G", "B", "diffuse.R", "diffuse.G", "diffuse.B")
    for i, (rgb, diffuse) in enumerate(_frames(2)):
        pixels = np.concatenate([rgb, diffuse], axis=-1)
        write_image(str(folder / f"shot.{1001 + i}.exr"), pixels, channels=names)
    return str(folder / "shot.####.exr")


def _hashes(folder: pathlib.Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def _run(pattern: str, out: pathlib.Path, *extra: str) -> int:
    return main(["detect", *CLASSICAL, pattern, "--out", str(out), "--quiet", *extra])


def _report(out: pathlib.Path) -> dict:
    return json.loads((out / "report.json").read_text(encoding="utf-8"))


def _found(out: pathlib.Path) -> list[tuple[int, float, float]]:
    return [(d["frame"], d["x"], d["y"]) for d in _report(out)["detections"]]


def test_two_part_exr_warns_which_part_is_read_and_part_picks_the_second(tmp_path, capsys):
    pattern = _two_parts(tmp_path / "plate")
    before = _hashes(tmp_path / "plate")
    assert _run(pattern, tmp_path / "first") == 0
    err = capsys.readouterr().err
    assert "holds 2 parts (beauty, diffuse); part 'beauty' is read; choose with --part" in err
    assert _found(tmp_path / "first") == []  # the hot pixel is in the other part
    codes = [w["code"] for w in _report(tmp_path / "first")["warnings"]]
    assert codes == ["part_chosen"]
    assert _run(pattern, tmp_path / "second", "--part", "diffuse") == 0
    assert "choose with --part" not in capsys.readouterr().err  # chosen: nothing to say
    assert _found(tmp_path / "second") == [(1003, HOT[0] + 0.5, HOT[1] + 0.5)]
    assert _report(tmp_path / "second")["params"]["part"] == "diffuse"
    assert _hashes(tmp_path / "plate") == before


def test_part_the_file_lacks_exits_3_naming_its_parts(tmp_path, capsys):
    pattern = _two_parts(tmp_path / "plate")
    assert _run(pattern, tmp_path / "qc", "--part", "specular") == 3
    err = capsys.readouterr().err
    assert "no part named 'specular' (its parts: beauty, diffuse); pass one of them" in err


def test_two_layer_exr_warns_and_layer_picks_the_named_one(tmp_path, capsys):
    pattern = _two_layers(tmp_path / "plate")
    assert _run(pattern, tmp_path / "first") == 0
    err = capsys.readouterr().err
    assert "holds 2 RGB layers (R,G,B, diffuse); R,G,B is read; choose with --layer" in err
    assert _found(tmp_path / "first") == []
    assert _run(pattern, tmp_path / "second", "--layer", "diffuse") == 0
    assert _found(tmp_path / "second") == [(1003, HOT[0] + 0.5, HOT[1] + 0.5)]
    assert _run(pattern, tmp_path / "third", "--layer", "spec") == 3
    assert "no layer 'spec' with .R, .G and .B channels" in capsys.readouterr().err


def test_an_unnamed_part_is_called_by_its_number_and_part_and_layer_choose_together(tmp_path):
    pattern = _two_layers(tmp_path / "plate")  # one part, without a name
    assert _run(pattern, tmp_path / "qc", "--part", "#0", "--layer", "diffuse") == 0
    assert _found(tmp_path / "qc") == [(1003, HOT[0] + 0.5, HOT[1] + 0.5)]


@pytest.mark.parametrize(("name", "value"), [("part", "diffuse"), ("layer", "diffuse")])
def test_the_chunk_command_carries_the_choice(tmp_path, name, value):
    params = DetectParams(**{name: value})
    cmd = chunk_command(DetectJob(str(tmp_path / "s.####.exr"), str(tmp_path), params), "1-5")
    assert cmd[cmd.index(f"--{name}") + 1] == value


def test_the_qc_page_shows_the_part_detection_read(tmp_path):
    from hotpixel.outputs.qc_page import frame_loader

    pattern = _two_parts(tmp_path / "plate")
    assert _run(pattern, tmp_path / "qc", "--part", "diffuse") == 0
    frame = frame_loader(_report(tmp_path / "qc"))(1003)
    assert frame is not None and frame[HOT[1], HOT[0]].max() > 1.0  # the hot pixel's part
