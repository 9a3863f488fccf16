"""A sequence's frames on one canvas: header scan, decoding, NaN/Inf repair.

The canvas is the union of every frame's data window (:func:`scan_geometry`); each decoded frame
is pasted onto it (:func:`load_frame`) so that windows line up pixel for pixel. Non-finite values
are filled from their finite neighbours and reported separately. The plate's encoding is chosen
once per run (:func:`choose_colour`) and each frame decoded to scene-linear as it is read.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from hotpixel.errors import FrameReadError
from hotpixel.io.colour import Decoder, InputColour, choose_input
from hotpixel.io.frames import FIRST, Frame, Selection, read_frame, read_header, read_spec
from hotpixel.io.geometry import Geometry, paste
from hotpixel.io.sequence import FrameSequence


@dataclass
class Loaded:
    """A decoded frame aligned to the sequence's canvas, non-finite values zeroed."""

    frame: Frame
    rgb: np.ndarray  # (H, W, 3) float32 on the canvas (union of data windows)
    nonfinite: np.ndarray | None  # (H, W) bool, None when every value is finite


def load_frame(
    seq: FrameSequence,
    n: int,
    canvas: Geometry,
    colour: Decoder | None = None,
    select: Selection = FIRST,
) -> Loaded:
    """Frame ``n`` decoded (to scene-linear through ``colour`` when given) onto ``canvas``;
    ``select`` picks its part and layer."""
    frame = read_frame(seq.path(n), n, colour, select)
    g = frame.geometry
    if (g.full_width, g.full_height) != (canvas.full_width, canvas.full_height):
        raise size_error(seq, n, g, canvas)
    rgb = frame.rgb
    finite = np.isfinite(rgb)
    nonfinite = None
    if not finite.all():
        nonfinite = ~finite.all(axis=-1)
        rgb = fill_nonfinite(rgb, finite)
    if g != canvas:
        rgb = paste(rgb, g, canvas)
        nonfinite = None if nonfinite is None else paste(nonfinite, g, canvas)
    return Loaded(frame, rgb, nonfinite)


def choose_colour(
    seq: FrameSequence,
    frames: list[int],
    colorspace: str = "",
    ocio: str = "",
    select: Selection = FIRST,
) -> InputColour:
    """The run's input encoding: ``colorspace`` if given, else the first frame's metadata.

    ``colorspace`` and ``ocio`` are the detection parameters of the same names ("" = not
    set). The frames of one sequence share one encoding, so one header is read. Raises
    :class:`~hotpixel.errors.UsageError` for an unknown name or an OCIO config that does not
    load.
    """
    first = frames[0] if frames else seq.frames[0]
    path = seq.path(first)
    return choose_input(read_header(path, first, select), path, first, colorspace, ocio)


def fill_nonfinite(rgb: np.ndarray, finite: np.ndarray) -> np.ndarray:
    """Replace NaN/Inf values by the mean of the finite values around them (3x3, per channel).

    Zeros would leave a dark hole that a detector reads as a one-frame defect of its own; the
    non-finite pixels are reported separately as kind ``nonfinite``. ``(H, W, C)`` in and out.
    """
    clean = np.where(finite, rgb, np.float32(0.0))
    sums = ndimage.uniform_filter(clean, size=(3, 3, 1), mode="constant")
    counts = ndimage.uniform_filter(finite.astype(np.float32), size=(3, 3, 1), mode="constant")
    fill = np.where(counts > 0, sums / np.maximum(counts, 1e-6), np.float32(0.0))
    out: np.ndarray = np.where(finite, rgb, fill).astype(np.float32)
    return out


def scan_geometry(
    seq: FrameSequence, frames: list[int], select: Selection = FIRST
) -> tuple[Geometry, Geometry]:
    """Check every frame's header (of the part ``select`` picks); return the canvas (union
    of data windows) and display."""
    first: Geometry | None = None
    x0 = y0 = 1 << 30
    x1 = y1 = -(1 << 30)
    for n in frames:
        g, _, _, _ = read_spec(seq.path(n), n, select)
        if first is None:
            first = g
        elif (g.full_x, g.full_y, g.full_width, g.full_height) != (
            first.full_x,
            first.full_y,
            first.full_width,
            first.full_height,
        ):
            raise size_error(seq, n, g, first, frames[0])
        x0, y0 = min(x0, g.x), min(y0, g.y)
        x1, y1 = max(x1, g.x + g.width), max(y1, g.y + g.height)
    assert first is not None
    canvas = Geometry(
        x0, y0, x1 - x0, y1 - y0, first.full_x, first.full_y, first.full_width, first.full_height
    )
    return canvas, first


def size_error(
    seq: FrameSequence, n: int, g: Geometry, ref: Geometry, ref_frame: int | None = None
) -> FrameReadError:
    where = f" (from frame {ref_frame})" if ref_frame is not None else ""
    return FrameReadError(
        f"frame {n}: {seq.path(n)!r} is {g.full_width}x{g.full_height} but the sequence is "
        f"{ref.full_width}x{ref.full_height}{where}; replace the frame or leave it out with "
        f"--exclude {n}",
        seq.path(n),
        n,
    )
