"""Whole images in and out: every channel of a plate frame, one named channel, 8-bit PNGs.

:mod:`.frames` decodes the RGB the detector sees; this module serves what must keep a file as it
is (``hotpixel fix`` rewrites a frame with every channel, format and attribute kept) and small
pictures (the hit sheet). Arrays are ``(H, W, C)`` float32 over the file's data window.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import OpenImageIO as oiio

from hotpixel.errors import FrameReadError, InputError, OutputError
from hotpixel.io.atomic import atomic_path


@dataclass
class WholeImage:
    """Every channel of one file. ``spec`` is the reader's own description, kept for writing."""

    pixels: np.ndarray  # (H, W, C) float32 over the data window
    x: int  # data window origin, in pixels
    y: int
    full_x: int  # display window origin
    full_y: int
    spec: Any  # opaque: pass back to write_whole_image


def read_whole_image(path: str, frame: int) -> WholeImage:
    """Every channel of the first part of ``path`` as float32, with its header."""
    buf = oiio.ImageBuf(path)
    spec = buf.spec()
    pixels = buf.get_pixels(oiio.FLOAT)
    if buf.has_error or pixels is None:
        raise FrameReadError(f"frame {frame}: {path!r} could not be decoded ({buf.geterror()})")
    pixels = np.asarray(pixels, np.float32).reshape(spec.height, spec.width, spec.nchannels)
    return WholeImage(pixels, spec.x, spec.y, spec.full_x, spec.full_y, spec)


def write_whole_image(
    path: str, image: WholeImage, pixels: np.ndarray, attributes: dict[str, int]
) -> None:
    """Write ``pixels`` with ``image``'s header (format, windows, metadata), atomically.

    Every channel is written in the pixel type it was read from (per channel where the file
    mixes them), so values read from it and written back unchanged stay bit-identical.
    """
    spec = image.spec
    for name, value in attributes.items():
        spec.attribute(name, value)
    out = oiio.ImageBuf(spec)
    if not out.set_pixels(oiio.ROI(), pixels):
        raise OutputError(f"cannot prepare {path!r} ({out.geterror()})")
    # each channel keeps its own pixel type (half RGBA beside a float depth), not spec.format
    formats = list(spec.channelformats)
    out.set_write_format(formats if formats else spec.format)
    with atomic_path(path) as tmp:
        if not out.write(tmp):
            raise OutputError(f"cannot write {path!r} ({out.geterror()})")


def read_named_channel(
    path: str, name: str, window: tuple[int, int, int, int]
) -> np.ndarray | None:
    """Channel ``name`` of ``path`` as ``(H, W)`` float32, or None when the file cannot be read,
    lacks the channel or its data window ``(x, y, width, height)`` is not ``window``."""
    inp = oiio.ImageInput.open(path)
    if inp is None:
        return None
    try:
        m = inp.spec()
        idx = m.channelindex(name)
        if idx < 0 or (m.x, m.y, m.width, m.height) != window:
            return None
        data = inp.read_image(0, 0, idx, idx + 1, "float")
    finally:
        inp.close()
    return np.asarray(data, np.float32).reshape(m.height, m.width)


def read_rgb(path: str, what: str) -> np.ndarray:
    """The first three channels of ``path`` as ``(H, W, 3)`` float32; ``what`` names it."""
    buf = oiio.ImageBuf(path)
    if buf.has_error:
        raise InputError(f"{what} cannot be read ({buf.geterror()}); reinstall")
    pixels = buf.get_pixels(oiio.FLOAT)
    if pixels is None:
        raise InputError(f"{what} cannot be decoded; reinstall the package")
    return np.ascontiguousarray(pixels[..., :3], dtype=np.float32)


def write_png8(path: str, rgb: np.ndarray) -> None:
    """Write ``(H, W, 3)`` values in 0..1 (clipped) as an 8-bit PNG, atomically."""
    h, w = rgb.shape[:2]
    spec = oiio.ImageSpec(w, h, 3, "uint8")
    with atomic_path(path) as tmp:
        out = oiio.ImageOutput.create(tmp)
        if out is None or not out.open(tmp, spec):
            raise OutputError(f"cannot write {path!r}: {oiio.geterror()}")
        out.write_image(np.clip(rgb, 0.0, 1.0))
        out.close()
