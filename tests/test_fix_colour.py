"""hotpixel fix keeps the plate's encoding: a log DPX stays a log DPX, bit for bit.

The repair runs on the plate's own values (docs/colour.md): the flagged pixel gets a code its
neighbours hold, every other code, the bit depth and the header are those of the plate.
"""

from __future__ import annotations

import json
import os

import numpy as np
import OpenImageIO as oiio
import pytest

from hotpixel.cli.main import main
from hotpixel.io.colour import BUILTIN_CONFIG, InputColour, encode
from imagegen import CLASSICAL, dark_plate, write_sequence

LOGC3 = "ARRI LogC3 (EI800)"
HOT = (11, 20)  # (y, x) on frame 1003


def _stored(path):
    """Every channel as stored codes (uint16: 10-bit DPX codes widened) and the header."""
    inp = oiio.ImageInput.open(path)
    assert inp is not None, oiio.geterror()
    spec = inp.spec()
    data = np.asarray(inp.read_image(0, 0, 0, spec.nchannels, "uint16"))
    inp.close()
    return data.reshape(spec.height, spec.width, spec.nchannels), spec


def _header(spec):
    keep = {"oiio:SourcePath", "Software", "DateTime", "hotpixel:repaired_pixels"}
    return {a.name: a.value for a in spec.extra_attribs if a.name not in keep}


@pytest.fixture
def log_dpx(tmp_path):
    """Five LogC3 10-bit DPX frames without colour metadata; a hot pixel on frame 1003."""
    rng = np.random.default_rng(18)
    frames = [np.abs(dark_plate(rng)) * 2 + 0.02 for _ in range(5)]
    frames[2][HOT] = (3.0, 2.6, 2.2)
    colour = InputColour(LOGC3, "flag", "test", BUILTIN_CONFIG, "ACEScg")
    logc = [encode(f, colour) for f in frames]
    return write_sequence(
        str(tmp_path / "plate"), logc, ext="dpx", fmt="uint16", compression=None, bits=10
    )


def test_fix_on_a_log_dpx_keeps_every_unflagged_code_and_repairs_the_hot_one(log_dpx, tmp_path):
    qc, fixed = tmp_path / "qc", tmp_path / "fixed"
    assert main(["detect", *CLASSICAL, log_dpx, "--out", str(qc), "--quiet"]) == 0
    report = json.loads((qc / "report.json").read_text())
    assert report["colour"]["colorspace"] == LOGC3  # detected in linear, through LogC3
    assert [(d["frame"], int(d["x"]), int(d["y"])) for d in report["detections"]] == [
        (1003, HOT[1], HOT[0])
    ]
    assert main(["fix", log_dpx, "--qc", str(qc), "--out", str(fixed), "--grow", "0"]) == 0
    src, spec_a = _stored(str(tmp_path / "plate" / "shot.1003.dpx"))
    out, spec_b = _stored(str(fixed / "shot.1003.dpx"))
    assert spec_b.get_int_attribute("oiio:BitsPerSample") == 10
    assert str(spec_b.format) == "uint16" and _header(spec_b) == _header(spec_a)
    changed = np.argwhere((src != out).any(axis=-1)).tolist()
    assert changed == [list(HOT)]
    unflagged = np.ones(src.shape[:2], bool)
    unflagged[HOT] = False
    np.testing.assert_array_equal(out[unflagged], src[unflagged])  # bit-identical codes
    y, x = HOT
    around = src[y - 2 : y + 3, x - 2 : x + 3].reshape(-1, 3)
    around = np.delete(around, 12, axis=0)  # the neighbours, without the hot pixel
    assert (around.min(axis=0) <= out[y, x]).all() and (out[y, x] <= around.max(axis=0)).all()
    assert (out[y, x] < src[y, x]).all()  # the log code of 3.0 is gone
    for f in (1001, 1002, 1004, 1005):  # nothing to repair: byte-for-byte copies
        name = f"shot.{f}.dpx"
        assert (fixed / name).read_bytes() == (tmp_path / "plate" / name).read_bytes()


def test_fix_keeps_each_channels_own_pixel_type(tmp_path):
    """Half RGBA beside a float depth channel: written back half and float, not all float."""
    rng = np.random.default_rng(5)
    folder = tmp_path / "plate"
    folder.mkdir()
    for i in range(5):
        rgb = dark_plate(rng)
        if i == 2:
            rgb[10, 20] = (4.0, 3.0, 3.5)
        depth = rng.uniform(1, 1000, (48, 64, 1)).astype(np.float32)
        pixels = np.concatenate([rgb, np.full((48, 64, 1), 0.5, np.float32), depth], axis=-1)
        spec = oiio.ImageSpec(64, 48, 5, "half")
        spec.channelnames = ("R", "G", "B", "A", "Z")
        spec.channelformats = (oiio.HALF,) * 4 + (oiio.FLOAT,)
        spec.attribute("compression", "zip")
        path = str(folder / f"shot.{1001 + i}.exr")
        out = oiio.ImageOutput.create(path)
        assert out.open(path, spec), out.geterror()
        assert out.write_image(pixels)
        out.close()
    plate, qc, fixed = str(folder / "shot.####.exr"), str(tmp_path / "qc"), tmp_path / "fixed"
    assert main(["detect", *CLASSICAL, plate, "--out", qc, "--quiet"]) == 0
    assert main(["fix", plate, "--qc", qc, "--out", str(fixed), "--quiet"]) == 0
    a = oiio.ImageInput.open(str(folder / "shot.1003.exr"))
    b = oiio.ImageInput.open(str(fixed / "shot.1003.exr"))
    try:
        assert [str(t) for t in b.spec().channelformats] == ["half"] * 4 + ["float"]
        src, got = np.asarray(a.read_image("float")), np.asarray(b.read_image("float"))
    finally:
        a.close()
        b.close()
    changed = np.argwhere((src != got).any(axis=-1)).tolist()
    assert [10, 20] in changed and len(changed) <= 9
    np.testing.assert_array_equal(got[..., 3:], src[..., 3:])
    assert os.path.getsize(fixed / "shot.1003.exr") < 1.5 * os.path.getsize(
        folder / "shot.1003.exr"
    )
