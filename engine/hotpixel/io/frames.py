"""Decoding one frame through OpenImageIO into the engine's array convention.

RGB is found by channel name, never by position (OpenImageIO reorders channels on read). A
multi-part EXR gives its first part holding R, G and B; a grayscale image (one channel, or ``Y``)
is repeated into three channels. Alpha is kept for ``--with-plate`` output but not detected on.
A :class:`Selection` (``--part NAME``, ``--layer NAME``) picks another part, or the layer whose
channels are ``NAME.R``, ``NAME.G``, ``NAME.B``; :func:`choice_warning` says when a file holds
several and which one is read.

Given a :class:`~hotpixel.io.colour.Decoder`, the read decodes the plate's encoding to
scene-linear on the way: pixels are read in their stored codes and mapped straight to linear
float32, so the transform replaces OpenImageIO's own conversion to float (docs/colour.md).
A movie file's frames come from :mod:`hotpixel.io.movie` and are decoded the same way.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

import numpy as np
import OpenImageIO as oiio

from hotpixel.errors import FrameReadError
from hotpixel.io.colour import Decoder, rgb_float, unit_float
from hotpixel.io.geometry import Geometry, paste
from hotpixel.io.sequence import is_movie


def _fix(frame: int) -> str:
    """What to do about an unreadable frame: the flag that leaves out just this one."""
    return f"re-render or re-copy the file, or leave it out with --exclude {frame}"


@dataclass
class Frame:
    """One decoded frame. ``rgb`` is ``(h, w, 3)`` float32 over the data window."""

    frame: int
    path: str
    rgb: np.ndarray  # (h, w, 3) float32, data window
    alpha: np.ndarray | None  # (h, w) float32 or None
    geometry: Geometry
    pixel_format: str  # e.g. "half", "float", "uint16"
    compression: str


@dataclass(frozen=True)
class Selection:
    """Which part and layer of a file to read: ``part`` an EXR part name, ``layer`` the prefix
    of ``LAYER.R``, ``LAYER.G``, ``LAYER.B``; empty: the first part holding R, G and B (or
    ``rgba.R``...), else the first gray one."""

    part: str = ""
    layer: str = ""


FIRST = Selection()


@dataclass(frozen=True)
class ChannelLayout:
    subimage: int
    chbegin: int
    chend: int
    rgb: tuple[int, int, int]  # indices relative to chbegin
    alpha: int | None
    spec: oiio.ImageSpec


def read_frame(
    path: str, frame: int, colour: Decoder | None = None, select: Selection = FIRST
) -> Frame:
    """Decode ``path`` (frame number ``frame``) into a :class:`Frame`.

    Without ``colour`` the values are as stored (float); with it, RGB is decoded to
    scene-linear by the run's one colour processor. Alpha is never colour-converted.
    Raises :class:`FrameReadError` naming the file and the frame when the file cannot be opened,
    has no usable colour channels, or is truncated.
    """
    if is_movie(path):
        return _movie_frame(path, frame, colour)
    inp = open_image(path, frame)
    try:
        layout = find_layout(inp, path, frame, select)
        kind = "float" if colour is None else colour.read_type(layout.spec.format)
        pixels = inp.read_image(layout.subimage, 0, layout.chbegin, layout.chend, kind)
        if pixels is None or not isinstance(pixels, np.ndarray):
            detail = inp.geterror().strip() or "pixel data could not be decoded"
            raise FrameReadError(
                f"frame {frame}: {path!r} is damaged or truncated ({detail}); {_fix(frame)}",
                path,
                frame,
            )
    finally:
        inp.close()
    spec = layout.spec
    pixels = pixels.reshape(spec.height, spec.width, layout.chend - layout.chbegin)
    rgb = rgb_float(pixels, layout.rgb) if colour is None else colour.decode(pixels, layout.rgb)
    alpha = None if layout.alpha is None else unit_float(pixels[..., layout.alpha])
    geometry = Geometry(
        spec.x,
        spec.y,
        spec.width,
        spec.height,
        spec.full_x,
        spec.full_y,
        spec.full_width,
        spec.full_height,
    )
    return Frame(
        frame=frame,
        path=path,
        rgb=rgb,
        alpha=alpha,
        geometry=geometry,
        pixel_format=str(spec.format),
        compression=str(spec.getattribute("compression") or "none"),
    )


def _movie_frame(path: str, frame: int, colour: Decoder | None) -> Frame:
    """Frame ``frame`` of a movie (:mod:`hotpixel.io.movie`), decoded as an image file is."""
    from hotpixel.io.movie import decode

    pixels, info = decode(path, frame)  # (h, w, 3 or 4) uint16 or uint8
    kind = "float" if colour is None else colour.read_type(oiio.TypeDesc(str(pixels.dtype)))
    codes = unit_float(pixels) if kind == "float" else pixels
    rgb = rgb_float(codes, (0, 1, 2)) if colour is None else colour.decode(codes, (0, 1, 2))
    alpha = unit_float(pixels[..., 3]) if pixels.shape[2] == 4 else None
    h, w = pixels.shape[:2]
    geometry = Geometry(0, 0, w, h, 0, 0, w, h)
    return Frame(frame, path, rgb, alpha, geometry, str(pixels.dtype), info.codec)


def read_header(path: str, frame: int, select: Selection = FIRST) -> oiio.ImageSpec:
    """The header (with its metadata) of the part a read of ``path`` decodes."""
    if is_movie(path):
        from hotpixel.io.movie import header

        return header(path, frame)
    inp = open_image(path, frame)
    try:
        return find_layout(inp, path, frame, select).spec
    finally:
        inp.close()


def read_spec(
    path: str, frame: int, select: Selection = FIRST
) -> tuple[Geometry, tuple[str, ...], str, str]:
    """Geometry, channel names, pixel format and compression of a frame without decoding it."""
    s = read_header(path, frame, select)
    geometry = Geometry(
        s.x, s.y, s.width, s.height, s.full_x, s.full_y, s.full_width, s.full_height
    )
    compression = str(s.getattribute("compression") or "none")
    return geometry, tuple(s.channelnames), str(s.format), compression


def open_image(path: str, frame: int) -> oiio.ImageInput:
    inp = oiio.ImageInput.open(path)
    if inp is None:
        detail = oiio.geterror().strip() or "not an image OpenImageIO can read"
        raise FrameReadError(
            f"frame {frame}: cannot open {path!r}: {detail}; {_fix(frame)}", path, frame
        )
    return inp


def _parts(inp: oiio.ImageInput) -> list[tuple[int, oiio.ImageSpec, list[str]]]:
    """Every part of an open file: index, header, channel names."""
    parts: list[tuple[int, oiio.ImageSpec, list[str]]] = []
    subimage = 0
    while inp.seek_subimage(subimage, 0):
        spec = inp.spec()
        parts.append((subimage, spec, list(spec.channelnames)))
        subimage += 1
    return parts


def part_name(spec: oiio.ImageSpec, index: int) -> str:
    """A part's name (EXR's ``name`` attribute), or ``#index`` for an unnamed one."""
    return str(spec.getattribute("name") or "") or f"#{index}"


def layers(names: list[str]) -> list[str]:
    """The layers of a part: prefixes ``L`` with ``L.R``, ``L.G`` and ``L.B`` all present,
    ``""`` for plain R, G, B, in channel order."""
    found = []
    for name in names:
        prefix = name[: -len(".R")] if name.endswith(".R") else None
        if name == "R":
            prefix = ""
        if prefix is not None and all(f"{prefix}.{c}".lstrip(".") in names for c in "GB"):
            found.append(prefix)
    return found


def find_layout(
    inp: oiio.ImageInput, path: str, frame: int, select: Selection = FIRST
) -> ChannelLayout:
    """The part and channels ``select`` names; by default the first part with R, G and B,
    failing that the first gray part. :class:`FrameReadError` naming what the file holds
    when the chosen part or layer is not in it."""
    parts = _parts(inp)
    if select.part:
        chosen = [p for p in parts if part_name(p[1], p[0]) == select.part]
        if not chosen:
            held = ", ".join(part_name(sp, i) for i, sp, _ in parts)
            raise FrameReadError(
                f"frame {frame}: {path!r} has no part named {select.part!r} (its parts: "
                f"{held}); pass one of them with --part",
                path,
                frame,
            )
        parts = chosen
    if select.layer:
        for index, spec, names in parts:
            if select.layer in layers(names):
                found = _named_layout(index, spec, names, f"{select.layer}.")
                assert found is not None
                return found
        listed = sorted({lay or "(R, G, B)" for _, _, ch in parts for lay in layers(ch)})
        raise FrameReadError(
            f"frame {frame}: {path!r} has no layer {select.layer!r} with .R, .G and .B "
            f"channels (its layers: {', '.join(listed) or 'none'}); pass one of them with "
            "--layer",
            path,
            frame,
        )
    for gray in (False, True):
        for index, spec, names in parts:
            layout = _layout_for(index, spec, names, gray)
            if layout is not None:
                return layout
    seen = " | ".join(",".join(names) for _, _, names in parts) or "none"
    raise FrameReadError(
        f"frame {frame}: {path!r} has no R, G, B (or single gray) channels "
        f"(found {seen}); write the plate with RGB channels",
        path,
        frame,
    )


def choice_warning(path: str, frame: int, select: Selection = FIRST) -> str | None:
    """Which part and layer are read, when ``path`` holds several parts or RGB layers and
    ``select`` leaves the choice open; else None. A movie holds one picture: nothing to say,
    and a part or layer asked of it is refused."""
    if is_movie(path):
        if select != FIRST:
            raise FrameReadError(
                f"frame {frame}: {path!r} is a movie, which has no parts or layers; "
                "leave out --part and --layer",
                path,
                frame,
            )
        return None
    inp = open_image(path, frame)
    try:
        parts = _parts(inp)
        layout = find_layout(inp, path, frame, select)
    finally:
        inp.close()
    names = [part_name(sp, i) for i, sp, _ in parts]
    held = [lay for i, _, ch in parts if i == layout.subimage for lay in layers(ch)]
    chosen = layout.spec.channelnames[layout.chbegin + layout.rgb[0]]
    layer = chosen[: -len(".R")] if chosen.endswith(".R") else ""
    notes = []
    if len(parts) > 1 and not select.part:
        notes.append(
            f"{len(parts)} parts ({', '.join(names)}); part "
            f"{part_name(layout.spec, layout.subimage)!r} is read; choose with --part NAME"
        )
    if len(held) > 1 and not select.layer:
        shown = ", ".join(lay or "R,G,B" for lay in held)
        notes.append(
            f"{len(held)} RGB layers ({shown}); {layer or 'R,G,B'} is read; choose with "
            "--layer NAME"
        )
    if not notes:
        return None
    return f"frame {frame}: {path!r} holds " + "; and ".join(notes)


def _layout_for(
    subimage: int, spec: oiio.ImageSpec, names: list[str], gray: bool
) -> ChannelLayout | None:
    if gray:
        return _gray_layout(subimage, spec, names)
    for prefix in ("", "rgba.", "rgb."):
        found = _named_layout(subimage, spec, names, prefix)
        if found is not None:
            return found
    return None


def _named_layout(
    subimage: int, spec: oiio.ImageSpec, names: list[str], prefix: str
) -> ChannelLayout | None:
    """The layout of channels ``{prefix}R``, ``G``, ``B`` (and ``A``), or None."""
    wanted = [f"{prefix}{c}" for c in "RGB"]
    if not all(w in names for w in wanted):
        return None
    idx = [names.index(w) for w in wanted]
    a = names.index(f"{prefix}A") if f"{prefix}A" in names else None
    used = idx + ([a] if a is not None else [])
    lo, hi = min(used), max(used) + 1
    rel = (idx[0] - lo, idx[1] - lo, idx[2] - lo)
    return ChannelLayout(subimage, lo, hi, rel, None if a is None else a - lo, spec)


def _gray_layout(subimage: int, spec: oiio.ImageSpec, names: list[str]) -> ChannelLayout | None:
    lone = names[0] if len(names) == 1 and names[0] not in ("Z", "A", "depth.Z") else None
    gray = "Y" if "Y" in names else lone
    if gray is not None:
        g = names.index(gray)
        a = names.index("A") if "A" in names else None
        lo = min(g, a) if a is not None else g
        hi = (max(g, a) if a is not None else g) + 1
        rel_g = (g - lo, g - lo, g - lo)
        return ChannelLayout(subimage, lo, hi, rel_g, None if a is None else a - lo, spec)
    return None


def read_display(
    path: str, frame: int, colour: Decoder | None = None, select: Selection = FIRST
) -> np.ndarray:
    """RGB of a frame placed on its display window ``(H, W, 3)``, zero outside the data window.

    ``colour`` decodes it to scene-linear as :func:`read_frame` does.
    """
    fr = read_frame(path, frame, colour, select)
    g = fr.geometry
    display = Geometry(
        g.full_x,
        g.full_y,
        g.full_width,
        g.full_height,
        g.full_x,
        g.full_y,
        g.full_width,
        g.full_height,
    )
    return fr.rgb if g == display else paste(fr.rgb, g, display)


Image = TypeVar("Image")


class FrameCache(Generic[Image]):
    """``load(frame)`` remembered for the last ``keep`` frames asked for.

    Readers that walk a shot in frame order with a window around each frame (the QC page, the
    review app, fine-tuning) decode each frame once.
    """

    def __init__(self, load: Callable[[int], Image], keep: int = 6) -> None:
        self.load, self.keep = load, keep
        self._items: OrderedDict[int, Image] = OrderedDict()

    def __call__(self, frame: int) -> Image:
        if frame not in self._items:
            self._items[frame] = self.load(frame)
            if len(self._items) > self.keep:
                self._items.popitem(last=False)
        self._items.move_to_end(frame)
        return self._items[frame]
