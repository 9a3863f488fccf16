"""Reading every format and layout the plates come in, RGB found by channel name."""

from __future__ import annotations

import numpy as np
import OpenImageIO as oiio
import pytest

from hotpixel.io.frames import read_frame
from imagegen import write_image

RAMP = np.linspace(0.1, 0.9, 6 * 8 * 3, dtype=np.float32).reshape(6, 8, 3)


@pytest.mark.parametrize(
    ("ext", "fmt", "bits", "atol"),
    [
        ("exr", "half", None, 1e-3),
        ("exr", "float", None, 0),
        ("dpx", "uint16", 10, 1.0 / 1023),
        ("dpx", "uint16", 12, 1.0 / 4095),
        ("dpx", "uint16", 16, 1.0 / 65535),
        ("tif", "uint8", None, 1.0 / 255),
        ("tif", "uint16", None, 1.0 / 65535),
        ("tif", "float", None, 0),
        ("png", "uint8", None, 1.0 / 255),
        ("png", "uint16", None, 1.0 / 65535),
    ],
)
def test_formats_decode_to_float_rgb(tmp_path, ext, fmt, bits, atol):
    path = str(tmp_path / f"f.0001.{ext}")
    write_image(path, RAMP, fmt=fmt, compression=None, bits=bits)
    frame = read_frame(path, 1)
    assert frame.rgb.shape == (6, 8, 3) and frame.rgb.dtype == np.float32
    np.testing.assert_allclose(frame.rgb, RAMP, atol=atol + 1e-6)


def test_jpeg_is_read_approximately(tmp_path):
    path = str(tmp_path / "f.0001.jpg")
    write_image(path, np.full((8, 8, 3), 0.5, np.float32), fmt="uint8", compression=None)
    frame = read_frame(path, 1)
    np.testing.assert_allclose(frame.rgb, 0.5, atol=0.02)


@pytest.mark.parametrize("compression", ["none", "zip", "piz", "dwaa"])
def test_exr_compressions(tmp_path, compression):
    path = str(tmp_path / "f.exr")
    write_image(path, RAMP, compression=compression)
    frame = read_frame(path, 1)
    tol = 0.02 if compression == "dwaa" else 1e-3
    np.testing.assert_allclose(frame.rgb, RAMP, atol=tol)
    assert frame.compression == compression


def test_channels_by_name_not_position(tmp_path):
    """Extra channels before and after RGB, stored in an odd order: RGB still comes out right."""
    path = str(tmp_path / "f.exr")
    h, w = 6, 8
    z = np.full((h, w), 7.0, np.float32)
    extra = np.full((h, w), -3.0, np.float32)
    planes = [extra, RAMP[..., 2], z, RAMP[..., 0], RAMP[..., 1]]
    names = ["diffuse.R", "B", "Z", "R", "G"]
    write_image(path, np.stack(planes, axis=-1), channels=names, fmt="float")
    frame = read_frame(path, 1)
    np.testing.assert_allclose(frame.rgb, RAMP, atol=0)


def test_gray_and_rgba(tmp_path):
    gray = str(tmp_path / "g.exr")
    write_image(gray, RAMP[..., :1], channels=["Y"], fmt="float")
    frame = read_frame(gray, 1)
    np.testing.assert_allclose(frame.rgb, np.repeat(RAMP[..., :1], 3, axis=-1))
    rgba = str(tmp_path / "a.exr")
    alpha = np.full((6, 8, 1), 0.25, np.float32)
    write_image(rgba, np.concatenate([RAMP, alpha], -1), channels="RGBA", fmt="float")
    frame = read_frame(rgba, 1)
    np.testing.assert_allclose(frame.rgb, RAMP)
    assert frame.alpha is not None and np.allclose(frame.alpha, 0.25)


def test_multipart_exr_picks_the_rgb_part(tmp_path):
    path = str(tmp_path / "mp.exr")
    depth = oiio.ImageSpec(8, 6, 1, "float")
    depth.channelnames = ("Z",)
    depth.attribute("name", "depth")
    beauty = oiio.ImageSpec(8, 6, 3, "float")
    beauty.channelnames = ("R", "G", "B")
    beauty.attribute("name", "beauty")
    out = oiio.ImageOutput.create(path)
    assert out.open(path, (depth, beauty))
    assert out.write_image(np.full((6, 8, 1), 9.0, np.float32))
    assert out.open(path, beauty, "AppendSubimage")
    assert out.write_image(RAMP)
    out.close()
    frame = read_frame(path, 1)
    np.testing.assert_allclose(frame.rgb, RAMP)


def test_plate_values_vfx_plates_really_hold(tmp_path):
    """Negative, above 1, 65504 (half max) and denormals survive decoding unchanged."""
    values = np.array([-0.5, 0.0, 1.5, 65504.0, 6e-8, 1e-3], np.float32)
    rgb = np.repeat(values.reshape(1, 6, 1), 3, axis=-1)
    path = str(tmp_path / "v.exr")
    write_image(path, rgb, fmt="half")
    frame = read_frame(path, 1)
    np.testing.assert_allclose(frame.rgb[0, :, 0], values, rtol=1e-3, atol=1e-8)
