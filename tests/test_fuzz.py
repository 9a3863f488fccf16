"""Fuzz: plates a hostile or unlucky user could hand over, through the whole ``detect`` command.

Seeded and small (each case a few frames of at most 64 x 48 px, the suite well under a minute):
sizes from 1x1 up, 1-6 channels and extra layers, uint8/uint16/half/float, odd data windows,
NaN/Inf/65504/denormals/negatives, all-zero and constant frames, truncated and garbage files,
wrong extensions. Every case must end in exit 0 with sane outputs, or exit 3 (input error) with
a message naming the frame; never a traceback, never a raw library warning, and the inputs
byte for byte as they were.
"""

from __future__ import annotations

import hashlib
import json
import os
import pathlib

import numpy as np
import pytest

from hotpixel.cli.main import main
from imagegen import dark_plate, write_image

CASES = 120
SIZES = (1, 2, 3, 5, 8, 12, 13, 16, 31, 33, 48, 64)
FORMATS = (  # extension, pixel type, most channels the format holds
    ("exr", "half", 6),
    ("exr", "float", 6),
    ("tif", "uint8", 6),
    ("tif", "uint16", 6),
    ("png", "uint8", 4),
    ("png", "uint16", 4),
)
CHANNELS = {
    1: ("Y",),
    2: ("R", "G"),
    3: ("R", "G", "B"),
    4: ("R", "G", "B", "A"),
    5: ("R", "G", "B", "A", "Z"),
    6: ("R", "G", "B", "diffuse.R", "diffuse.G", "diffuse.B"),
}
CONTENTS = ("plate", "special", "zero", "constant")
DAMAGE = ("none", "none", "none", "truncated", "garbage", "wrong_extension")
KINDS = {"hot", "dead", "stuck", "nonfinite"}
OVERSCAN = 3  # the farthest a data window is moved off the display window, pixels


def _pixels(rng: np.random.Generator, w: int, h: int, channels: int, content: str) -> np.ndarray:
    """``(h, w, channels)`` float32 of one frame's ``content``."""
    if content == "zero":
        return np.zeros((h, w, channels), np.float32)
    if content == "constant":
        return np.full((h, w, channels), float(rng.uniform(0.0, 4.0)), np.float32)
    base = dark_plate(rng, w, h)  # (h, w, 3)
    pixels = np.concatenate([base] * 2, axis=-1)[..., :channels].copy()
    if content == "special":  # what VFX plates really hold
        values = np.array([np.nan, np.inf, -np.inf, 65504.0, 1e-7, -0.5, 3.0], np.float32)
        count = max(1, pixels.size // 50)
        flat = pixels.reshape(-1)
        flat[rng.integers(0, flat.size, count)] = rng.choice(values, count)
    else:
        pixels[rng.integers(0, h), rng.integers(0, w), :3] = 3.0  # a hot pixel
    return pixels


def _case(index: int, folder: pathlib.Path) -> tuple[str, list[str]]:
    """Write case ``index``'s plate into ``folder``; return its pattern and extra flags."""
    rng = np.random.default_rng([29, index])
    w, h = int(rng.choice(SIZES)), int(rng.choice(SIZES))
    ext, fmt, most = FORMATS[int(rng.integers(len(FORMATS)))]
    channels = int(rng.integers(1, most + 1))
    count = int(rng.integers(1, 6))
    content = str(rng.choice(CONTENTS))
    window = ext == "exr" and rng.random() < 0.4  # data windows off the display window
    display = (w + int(rng.integers(0, 5)), h + int(rng.integers(0, 5)))  # one per shot
    folder.mkdir(parents=True)
    for i in range(count):
        path = str(folder / f"shot.{1001 + i:04d}.{ext}")
        pixels = _pixels(rng, w, h, channels, content)
        kwargs: dict[str, object] = {"channels": CHANNELS[channels], "fmt": fmt}
        if ext != "exr":
            kwargs["compression"] = None
        if window:
            shift = rng.integers(-OVERSCAN, OVERSCAN + 1, 2)
            kwargs["data_window"] = (int(shift[0]), int(shift[1]))
            kwargs["display"] = display
        write_image(path, pixels, **kwargs)  # type: ignore[arg-type]
    _damage(rng, folder, ext, count)
    flags = ["--detector", "classical"] if rng.random() < 0.5 else []
    return str(folder / f"shot.####.{ext}"), flags


def _damage(rng: np.random.Generator, folder: pathlib.Path, ext: str, count: int) -> None:
    """Spoil one frame of the case, as a failed copy or a mix-up would."""
    damage = str(rng.choice(DAMAGE))
    victim = folder / f"shot.{1001 + int(rng.integers(count)):04d}.{ext}"
    data = victim.read_bytes()
    if damage == "truncated":
        victim.write_bytes(data[: int(len(data) * rng.uniform(0.1, 0.9))])
    elif damage == "garbage":
        victim.write_bytes(rng.integers(0, 256, len(data), dtype=np.uint8).tobytes())
    elif damage == "wrong_extension":  # another format's bytes under this name
        other = folder / "other.png" if ext != "png" else folder / "other.tif"
        write_image(str(other), np.full((4, 4, 3), 0.5, np.float32), fmt="uint8", compression=None)
        victim.write_bytes(other.read_bytes())
        other.unlink()


def _hashes(folder: pathlib.Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def _check_outputs(out: pathlib.Path) -> None:
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    width, height = report["source"]["width"], report["source"]["height"]
    frames = {r["frame"] for r in report["frames"]}
    for d in report["detections"]:
        assert d["frame"] in frames and d["kind"] in KINDS
        # in the display window's pixels; overscan (data outside the display) reaches beyond
        assert -OVERSCAN <= d["x"] <= width + OVERSCAN and -OVERSCAN <= d["y"] <= height + OVERSCAN
        assert d["nuke_y"] == pytest.approx(height - d["y"]) and d["nuke_x"] == d["x"]
        assert 0.0 <= d["score"] <= 1.0 and d["area"] >= 1
    masks = sorted(os.listdir(out / "masks"))
    assert len(masks) == len(frames)


@pytest.mark.parametrize("index", range(CASES))
def test_any_plate_ends_in_exit_0_or_a_clear_input_error(tmp_path, capsys, index):
    pattern, flags = _case(index, tmp_path / "plate")
    before = _hashes(tmp_path / "plate")
    out = tmp_path / "qc"
    code = main(["detect", pattern, "--out", str(out), "--quiet", *flags])
    err = capsys.readouterr().err
    assert code in (0, 3), err
    assert "Traceback" not in err
    assert not [line for line in err.splitlines() if "Warning: " in line], err  # raw form
    if code == 3:
        errors = [line for line in err.splitlines() if line.startswith("hotpixel: error: ")]
        assert len(errors) == 1 and "frame 10" in errors[0] and "shot." in errors[0], err
    else:
        _check_outputs(out)
    assert _hashes(tmp_path / "plate") == before  # inputs are never modified
