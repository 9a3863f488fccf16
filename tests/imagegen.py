"""Small images made in code for the tests, written through OpenImageIO."""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
import OpenImageIO as oiio


def write_image(
    path: str,
    pixels: np.ndarray,
    channels: Sequence[str] = ("R", "G", "B"),
    fmt: str = "half",
    compression: str | None = "zip",
    data_window: tuple[int, int] | None = None,
    display: tuple[int, int] | None = None,
    bits: int | None = None,
) -> None:
    """Write ``(h, w, C)`` pixels; ``data_window`` is its (x, y) origin, ``display`` (w, h)."""
    h, w, c = pixels.shape
    spec = oiio.ImageSpec(w, h, c, fmt)
    spec.channelnames = tuple(channels)
    if data_window is not None:
        spec.x, spec.y = data_window
    if display is not None:
        spec.full_x, spec.full_y = 0, 0
        spec.full_width, spec.full_height = display
    if compression:
        spec.attribute("compression", compression)
    if bits:
        spec.attribute("oiio:BitsPerSample", bits)
    out = oiio.ImageOutput.create(path)
    assert out is not None, oiio.geterror()
    assert out.open(path, spec), out.geterror()
    assert out.write_image(np.ascontiguousarray(pixels, dtype=np.float32)), out.geterror()
    out.close()


def write_parts(path: str, parts: Sequence[tuple[str, np.ndarray]], fmt: str = "half") -> None:
    """A multi-part EXR: one part per ``(name, (h, w, 3) pixels)``, channels R, G, B each."""
    specs = []
    for name, pixels in parts:
        spec = oiio.ImageSpec(pixels.shape[1], pixels.shape[0], 3, fmt)
        spec.channelnames = ("R", "G", "B")
        spec.attribute("name", name)
        specs.append(spec)
    out = oiio.ImageOutput.create(path)
    assert out is not None and out.open(path, specs), oiio.geterror()
    for i, (_, pixels) in enumerate(parts):
        if i:
            assert out.open(path, specs[i], "AppendSubimage"), out.geterror()
        assert out.write_image(np.ascontiguousarray(pixels, np.float32)), out.geterror()
    out.close()


def dark_plate(rng: np.random.Generator, w: int = 64, h: int = 48) -> np.ndarray:
    """A dark, grainy, slightly textured ``(h, w, 3)`` float32 plate."""
    yy, xx = np.mgrid[0:h, 0:w]
    base = 0.03 + 0.01 * np.sin(xx / 7.0) * np.cos(yy / 5.0)
    rgb = np.stack([base, base * 0.9, base * 1.1], axis=-1)
    return (rgb + rng.normal(0, 0.001, rgb.shape)).astype(np.float32)


def write_sequence(
    folder: str,
    frames: Sequence[np.ndarray],
    first: int = 1001,
    name: str = "shot",
    ext: str = "exr",
    **kwargs: object,
) -> str:
    """Write ``frames`` as ``folder/name.####.ext``; return the ``####`` pattern."""
    os.makedirs(folder, exist_ok=True)
    for i, rgb in enumerate(frames):
        write_image(os.path.join(folder, f"{name}.{first + i:04d}.{ext}"), rgb, **kwargs)  # type: ignore[arg-type]
    return os.path.join(folder, f"{name}.####.{ext}")


def read_channel(path: str, name: str) -> tuple[np.ndarray, oiio.ImageSpec]:
    """One channel by name as ``(h, w)`` float32, and the file's spec."""
    inp = oiio.ImageInput.open(path)
    assert inp is not None, oiio.geterror()
    spec = inp.spec()
    idx = spec.channelindex(name)
    assert idx >= 0, f"{name} not in {spec.channelnames}"
    pixels = inp.read_image(0, 0, idx, idx + 1, "float")
    inp.close()
    return np.asarray(pixels).reshape(spec.height, spec.width), spec


def classical_job(pattern: str, out: str, params: object = None, **kwargs: object) -> object:
    """A DetectJob on the classical detector: exact and deterministic, for plumbing tests.

    The shipped default is the cascade detector; tests of coordinates, resume, errors and
    outputs use the classical one so their expectations do not move with each retrained model.
    """
    import dataclasses

    from hotpixel.params import DetectParams
    from hotpixel.run.job import DetectJob

    base = params if isinstance(params, DetectParams) else DetectParams()
    return DetectJob(pattern, out, params=dataclasses.replace(base, detector="classical"), **kwargs)  # type: ignore[arg-type]


CLASSICAL = ("--detector", "classical")  # CLI flags for the plumbing tests (see classical_job)


def clear_defect_plate(
    folder: str, size: tuple[int, int], points: int, speed: tuple[float, float]
) -> tuple[str, list[object]]:
    """A 5-frame float EXR sequence from a bundled plate in motion with 3 clear defects (20-50x
    their level) in frame 1003; returns its pattern and the defects (generator ``Defect``s)."""
    from hotpixel.ml.synth.plates import load_plate
    from hotpixel.ml.synth.windows import WindowConfig, make_window

    config = WindowConfig(
        size=size,
        defects=(3, 3),
        contrast=(20.0, 50.0),
        points=(points, points),
        speed=speed,
        grain=(0.002, 0.004),
        flash_rate=0,
        cut_rate=0,
        stuck=(0, 0),
        curvilinear_share=0.0,
    )
    sample = make_window([load_plate("courtyard")], np.random.default_rng(8), config)
    return write_sequence(folder, list(sample.frames), fmt="float"), list(sample.defects)
