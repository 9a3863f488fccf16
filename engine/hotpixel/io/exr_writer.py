"""Writing EXR outputs: the per-frame ``hotpixel.mask`` and the optional plate-plus-mask."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import OpenImageIO as oiio

from hotpixel.errors import OutputError
from hotpixel.io.atomic import atomic_path
from hotpixel.io.geometry import Geometry

MASK_CHANNEL = "hotpixel.mask"


def write_exr(
    path: str,
    pixels: np.ndarray,
    channels: Sequence[str],
    geometry: Geometry,
    formats: Sequence[str],
    metadata: Mapping[str, str | float | int],
) -> None:
    """Write ``pixels`` ``(h, w, C)`` over ``geometry``'s data window, atomically.

    ``formats`` gives each channel's stored type ("half" or "float"); zip compression.
    """
    if pixels.ndim != 3 or pixels.shape[2] != len(channels) or len(formats) != len(channels):
        raise ValueError(f"pixels {pixels.shape} do not match channels {list(channels)}")
    uniform = len(set(formats)) == 1
    spec = oiio.ImageSpec(
        geometry.width, geometry.height, len(channels), formats[0] if uniform else "float"
    )
    spec.x, spec.y = geometry.x, geometry.y
    spec.full_x, spec.full_y = geometry.full_x, geometry.full_y
    spec.full_width, spec.full_height = geometry.full_width, geometry.full_height
    spec.channelnames = tuple(channels)
    if not uniform:
        spec.channelformats = tuple(oiio.TypeDesc(f) for f in formats)
    spec.attribute("compression", "zip")
    for key, value in metadata.items():
        spec.attribute(key, value)
    with atomic_path(path) as tmp:
        out = oiio.ImageOutput.create(tmp)
        if out is None or not out.open(tmp, spec):
            detail = oiio.geterror() if out is None else out.geterror()
            raise OutputError(f"cannot write {path!r}: {detail}; check free space and permissions")
        ok = out.write_image(np.ascontiguousarray(pixels, dtype=np.float32))
        error = out.geterror()
        out.close()
        if not ok:
            raise OutputError(f"cannot write {path!r}: {error}; check free space and permissions")


def write_mask(
    path: str, mask: np.ndarray, geometry: Geometry, metadata: Mapping[str, str | float | int]
) -> None:
    """Write an ``(h, w)`` map as a half-float EXR with the single channel ``hotpixel.mask``."""
    write_exr(path, mask[..., None], [MASK_CHANNEL], geometry, ["half"], metadata)


def write_plate_with_mask(
    path: str,
    rgb: np.ndarray,
    alpha: np.ndarray | None,
    mask: np.ndarray,
    geometry: Geometry,
    plate_format: str,
    metadata: Mapping[str, str | float | int],
) -> None:
    """Write the plate's RGB(A) at its own precision plus ``hotpixel.mask`` in one EXR."""
    planes = [rgb[..., 0], rgb[..., 1], rgb[..., 2]]
    names = ["R", "G", "B"]
    if alpha is not None:
        planes.append(alpha)
        names.append("A")
    fmt = "half" if plate_format == "half" else "float"
    formats = [fmt] * len(names) + ["half"]
    planes.append(mask)
    write_exr(path, np.stack(planes, axis=-1), [*names, MASK_CHANNEL], geometry, formats, metadata)
