"""Input colour: which encoding a plate is in, and its decoding to scene-linear through OCIO.

The detector, the generator and training all work on scene-linear values (docs/colour.md). A
plate arrives in some encoding (ARRI LogC3 DPX, S-Log3, ACEScct EXR, linear EXR, sRGB PNG); a
run chooses it once (:func:`choose_input`): the ``colorspace`` parameter when set, otherwise the
first frame's metadata (``oiio:ColorSpace``, the DPX transfer and colorimetric fields, EXR
chromaticities), otherwise a documented assumption. The OpenColorIO config is the ``ocio``
parameter, else ``$OCIO``, else OpenImageIO's built-in ``ocio://studio-config-latest``.

The run's one OCIO processor (encoding -> the config's ``scene_linear`` role) is applied by a
:class:`Decoder`. Calling OCIO on every 4K frame costs about three decodes, so the decoder
samples the processor once per stored pixel type instead: the transforms of camera log spaces
are a per-channel curve followed by a 3x3 matrix, and for 8/10/12/16-bit codes and half floats
that curve is a lookup table over every possible code value, exact at each. The decomposition is
checked against OCIO on a grid of colours when it is made; a transform that is not of that form
(a 3D LUT, say) falls back to OCIO itself on the whole frame, in place.
"""

from __future__ import annotations

import difflib
import functools
import os
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import OpenImageIO as oiio

from hotpixel.errors import UsageError

BUILTIN_CONFIG = "ocio://studio-config-latest"
# A DPX that says nothing of its encoding is almost always camera log, and an ALEXA's LogC3 is
# the commonest. Taken with a warning that names the flag.
ASSUMED_LOG_DPX = "ARRI LogC3 (EI800)"
# DPX "Logarithmic" / "Printing density" is a film scan; the first of these the config has
FILM_SCAN_SPACES = ("Cineon", "cineon", "ADX10")
HALF_MAX = 65504.0
# header attributes of a movie's frames (hotpixel.io.movie.header): its colour tags for people,
# and the colour space an untagged movie is taken to be
MOVIE_TAGS = "hotpixel:movie_tags"
MOVIE_ASSUMED = "hotpixel:movie_assumed"
BAND = 64  # rows decoded at a time: the temporaries stay in cache, never a whole frame
_TOLERANCE = (1e-3, 1e-6)  # relative, absolute: the baked decoder against OCIO itself


@dataclass(frozen=True)
class InputColour:
    """The encoding a run decodes its plate from, and how it was chosen.

    ``chosen_by`` is ``flag`` (the ``colorspace`` parameter), ``metadata`` (the file said so),
    ``assumed`` (nothing said; ``warning`` explains) or ``linear`` (a float format without
    colour metadata, taken as already scene-linear).
    """

    colorspace: str  # canonical name in the config
    chosen_by: str
    reason: str  # for people: "oiio:ColorSpace 'ACEScct' in frame 1001"
    config: str  # the OCIO config: a path or ocio:// URI
    linear: str  # the config's scene_linear colour space, what frames are decoded to
    warning: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def describe(self) -> str:
        """``ACEScct (metadata: oiio:ColorSpace 'ACEScct' in frame 1001), decoded to ACEScg``."""
        return f"{self.colorspace} ({self.chosen_by}: {self.reason}), decoded to {self.linear}"


def config_name(ocio: str = "") -> str:
    """The OCIO config a run uses: ``ocio`` if given, else ``$OCIO``, else the built-in one."""
    return ocio or os.environ.get("OCIO", "") or BUILTIN_CONFIG


@functools.lru_cache(maxsize=8)
def open_config(name: str) -> oiio.ColorConfig:
    """Load an OCIO config (a file or an ``ocio://`` URI); :class:`UsageError` if it fails."""
    config = oiio.ColorConfig(name)
    error = config.geterror().strip()
    if error or not config.getNumColorSpaces():
        raise UsageError(
            f"cannot load the OCIO config {name!r} ({error or 'it holds no colour spaces'}); "
            f"pass --ocio a config file or an ocio:// URI such as {BUILTIN_CONFIG}, "
            "or fix $OCIO"
        )
    return config


def known_names(config: oiio.ColorConfig) -> list[str]:
    """Every name the config resolves: colour spaces, their aliases and roles."""
    names = list(config.getColorSpaceNames())
    for n in list(names):
        names += list(config.getAliases(n))
    return names + list(config.getRoles())


def resolve_colorspace(config: oiio.ColorConfig, name: str) -> str | None:
    """The canonical colour-space name for ``name`` (a name, alias, role or interop id)."""
    resolved = str(config.resolve(name))
    return resolved if config.getColorSpaceIndex(resolved) >= 0 else None


def require_colorspace(config_path: str, name: str) -> str:
    """:func:`resolve_colorspace` or a :class:`UsageError` listing close matches."""
    config = open_config(config_path)
    resolved = resolve_colorspace(config, name)
    if resolved is not None:
        return resolved
    close = close_matches(name, known_names(config))
    hint = f"close matches: {', '.join(repr(c) for c in close)}" if close else "no close match"
    raise UsageError(
        f"--colorspace {name!r} is not a colour space of the OCIO config {config_path!r} "
        f"({hint}); pass one of its names (docs/colour.md lists the built-in config's)"
    )


def close_matches(name: str, names: list[str], count: int = 5) -> list[str]:
    """Names containing ``name`` (any case), then the most similar ones."""
    low = name.lower()
    lowered = {n.lower(): n for n in names}
    inside = [n for n in names if low and low in n.lower()]
    similar = [lowered[n] for n in difflib.get_close_matches(low, list(lowered), count, 0.5)]
    return list(dict.fromkeys(inside + similar))[:count]


def choose_input(
    spec: oiio.ImageSpec, path: str, frame: int, colorspace: str = "", ocio: str = ""
) -> InputColour:
    """The run's input encoding: the ``colorspace`` parameter, else ``spec``'s metadata.

    ``spec`` is the header of the sequence's first frame (``path``, frame number ``frame``).
    Raises :class:`UsageError` for an unknown name or a config that does not load.
    """
    cfg = config_name(ocio)
    config = open_config(cfg)
    linear = str(config.getColorSpaceNameByRole("scene_linear") or "") or _first_linear(config)
    if colorspace:
        name = require_colorspace(cfg, colorspace)
        return InputColour(name, "flag", f"--colorspace {colorspace!r}", cfg, linear)
    found = from_metadata(config, spec, frame)
    if found is not None:
        return InputColour(found[0], "metadata", found[1], cfg, linear)
    return _default(config, cfg, linear, path, frame, spec)


def from_metadata(
    config: oiio.ColorConfig, spec: oiio.ImageSpec, frame: int
) -> tuple[str, str] | None:
    """(colour space, why) from a header, or None when it says nothing the config knows."""
    tagged = str(spec.get_string_attribute("oiio:ColorSpace") or "")
    name = resolve_colorspace(config, tagged) if tagged else None
    movie = str(spec.get_string_attribute(MOVIE_TAGS) or "")  # io/movie.py's header
    if name is not None:
        return name, movie or f"oiio:ColorSpace {tagged!r} in frame {frame}"
    found = _from_dpx(config, spec)
    if found is not None:
        return found
    return _from_chromaticities(config, spec)


def _from_dpx(config: oiio.ColorConfig, spec: oiio.ImageSpec) -> tuple[str, str] | None:
    transfer = str(spec.get_string_attribute("dpx:Transfer") or "")
    colorimetric = str(spec.get_string_attribute("dpx:Colorimetric") or "")
    said = f"DPX transfer {transfer!r}, colorimetric {colorimetric!r}"
    if transfer in ("Logarithmic", "Printing density"):
        for candidate in FILM_SCAN_SPACES:
            name = resolve_colorspace(config, candidate)
            if name is not None:
                return name, f"{said}: a film scan"
    if transfer in ("ITU-R 709-4", "SMPTE 274M") or colorimetric in ("ITU-R 709-4",):
        name = resolve_colorspace(config, "ocio:itu709_rec709_scene")
        if name is not None:
            return name, f"{said}: Rec.709 video"
    if transfer == "Linear":
        name = resolve_colorspace(config, "lin_rec709_scene")
        if name is not None:
            return name, f"{said}: linear"
    return None


def _from_chromaticities(config: oiio.ColorConfig, spec: oiio.ImageSpec) -> tuple[str, str] | None:
    """A linear colour space of the config whose primaries and white match EXR chromaticities."""
    chroma = spec.getattribute("chromaticities")
    if not chroma or len(chroma) != 8:
        return None
    for name in config.getColorSpaceNames():
        if not config.isColorSpaceLinear(name):
            continue
        known = config.get_chromaticities(name)
        if known is not None and np.allclose(known, chroma, atol=2e-3):
            said = ", ".join(f"{v:.4g}" for v in chroma)
            return str(name), f"EXR chromaticities ({said}), linear"
    return None


def _default(
    config: oiio.ColorConfig, cfg: str, linear: str, path: str, frame: int, spec: oiio.ImageSpec
) -> InputColour:
    is_dpx = path.lower().endswith((".dpx", ".cin"))
    assumed = resolve_colorspace(config, ASSUMED_LOG_DPX) if is_dpx else None
    usual = "the usual camera DPX"
    movie = str(spec.get_string_attribute(MOVIE_ASSUMED) or "")  # an untagged movie
    if movie:
        assumed, usual = resolve_colorspace(config, movie), "the usual video encoding"
    if assumed is not None:
        reason = f"{os.path.basename(path)} (frame {frame}) carries no colour metadata"
        warning = (
            f"{reason}; its values are taken as {assumed}, {usual}. If the plate "
            "is encoded otherwise, pass --colorspace NAME (docs/colour.md)"
        )
        return InputColour(assumed, "assumed", reason, cfg, linear, warning)
    # the reason only: "linear" in chosen_by already says it is taken as scene-linear
    return InputColour(linear, "linear", f"no colour metadata in frame {frame}", cfg, linear)


def _first_linear(config: oiio.ColorConfig) -> str:
    names = [n for n in config.getColorSpaceNames() if config.isColorSpaceLinear(n)]
    if not names:
        raise UsageError("the OCIO config has no scene_linear role and no linear colour space")
    return str(names[0])


# ---- decoding ---------------------------------------------------------------------------------


@dataclass
class Baked:
    """The processor sampled for one stored pixel type.

    ``lut`` is float32, scene-linear by code value (``N`` = 256 for 8-bit, 65536 for 16-bit
    codes and for half bit patterns): ``(N,)`` when one curve serves all three channels,
    ``(3, N)`` otherwise, None where the curve is a straight line (folded into
    ``matrix``/``offset``). ``matrix`` ``(3, 3)`` and ``offset`` ``(3,)`` follow
    it, or are None. ``exact`` False means the transform is not a curve then a matrix: OCIO
    itself runs on the frame.
    """

    lut: np.ndarray | None
    matrix: np.ndarray | None
    offset: np.ndarray | None
    exact: bool = True


class Decoder:
    """The run's one OCIO processor, encoding -> scene-linear, applied band by band in place.

    Build it once per run from :class:`InputColour`; :mod:`hotpixel.io.frames` asks
    :meth:`read_type` which pixel type to decode a file to and hands the pixels to
    :meth:`decode`. Thread-safe once baked (the read-ahead decodes on several threads).
    """

    def __init__(self, colour: InputColour) -> None:
        self.colour = colour
        config = open_config(colour.config)
        self.identity = colour.colorspace == colour.linear or bool(
            config.equivalent(colour.colorspace, colour.linear)
        )
        self._baked: dict[str, Baked] = {}

    def read_type(self, stored: oiio.TypeDesc) -> str:
        """The type to decode pixels stored as ``stored`` to: their own codes where a table
        covers them (uint8, uint16 and 10/12-bit DPX, half), float otherwise."""
        if self.identity:
            return "float"
        base = {oiio.UINT8: "uint8", oiio.UINT16: "uint16", oiio.HALF: "half"}.get(
            stored.basetype, "float"
        )
        return base if self.baked(base).exact else "float"

    def baked(self, kind: str) -> Baked:
        if kind not in self._baked:  # a race bakes twice, with the same result
            self._baked[kind] = bake(self.colour, kind)
        return self._baked[kind]

    def decode(self, pixels: np.ndarray, rgb: tuple[int, int, int]) -> np.ndarray:
        """``(h, w, C)`` pixels of :meth:`read_type`'s type -> ``(h, w, 3)`` float32 linear.

        ``rgb`` indexes the colour channels of ``pixels``. One new float32 array, the size of
        the result, is made; everything else is done in bands of :data:`BAND` rows.
        """
        h, w = pixels.shape[:2]
        if self.identity:
            return rgb_float(pixels, rgb)
        kind = _kind(pixels.dtype)
        b = self.baked(kind)
        if not b.exact:
            out = unit_float(pixels[..., list(rgb)])
            return run_processor(
                out, self.colour.colorspace, self.colour.linear, self.colour.config
            )
        out = np.empty((h, w, 3), np.float32)
        # half bit patterns index the table; without one the values are used as they are
        codes = pixels.view(np.uint16) if kind == "half" and b.lut is not None else pixels
        for y in range(0, h, BAND):
            _decode_band(codes[y : y + BAND], rgb, b, out[y : y + BAND])
        return out


def rgb_float(pixels: np.ndarray, rgb: tuple[int, int, int]) -> np.ndarray:
    """The ``rgb`` channels of ``(h, w, C)`` ``pixels`` as contiguous float32: ``pixels``
    itself when it is already exactly that (no 100 MB copy of a 4K frame), else a new array."""
    if tuple(rgb) == tuple(range(pixels.shape[2])):
        return np.ascontiguousarray(pixels, dtype=np.float32)
    return np.ascontiguousarray(pixels[..., list(rgb)], dtype=np.float32)


def unit_float(values: np.ndarray) -> np.ndarray:
    """Stored values as float32, integers scaled to 0..1 as OpenImageIO scales them."""
    if values.dtype.kind == "u":
        scaled: np.ndarray = values.astype(np.float32) / np.float32(np.iinfo(values.dtype).max)
        return scaled
    return np.array(values, np.float32)


def _kind(dtype: np.dtype[Any]) -> str:
    return {np.dtype(np.uint8): "uint8", np.dtype(np.uint16): "uint16"}.get(
        dtype, "half" if dtype == np.float16 else "float"
    )


def _decode_band(codes: np.ndarray, rgb: tuple[int, int, int], b: Baked, out: np.ndarray) -> None:
    """One band: table look-up (or the raw values), then the matrix and offset, into ``out``."""
    idx = list(rgb)
    src = codes if codes.shape[-1] == 3 and idx == [0, 1, 2] else codes[..., idx]
    lin = out if b.matrix is None else np.empty(out.shape, np.float32)
    if b.lut is None:
        lin[...] = src
    elif b.lut.ndim == 1:  # one curve for all three channels: one gather
        np.take(b.lut, src, out=lin, mode="clip")  # every code is in the table: clip is free
    else:
        for c in range(3):
            np.take(b.lut[c], src[..., c], out=lin[..., c], mode="clip")
    if b.matrix is not None:
        np.matmul(lin, b.matrix.T, out=out)
    if b.offset is not None:
        out += b.offset


def code_values(kind: str) -> np.ndarray:
    """Every value a stored type can hold, as floats: ``(N,)`` (half: every bit pattern)."""
    if kind == "uint8":
        return np.arange(256, dtype=np.float64) / 255.0
    if kind == "uint16":
        return np.arange(65536, dtype=np.float64) / 65535.0
    return np.arange(65536, dtype=np.uint16).view(np.float16).astype(np.float64)


def bake(colour: InputColour, kind: str) -> Baked:
    """Sample the processor ``colour.colorspace -> colour.linear`` for pixels stored as ``kind``.

    Writes the transform as ``out = M @ lut(x) + offset`` per pixel from single-channel probes
    and checks that against OCIO on a grid of colours; ``exact`` is False when it does not hold
    (or, for float32 pixels, which no table covers, when the curve is not a straight line).
    """
    src, dst, cfg = colour.colorspace, colour.linear, colour.config
    # float32: probe a range only to tell a straight line (linear -> linear) from a curve
    codes = np.linspace(-1.0, 4.0, 1001) if kind == "float" else code_values(kind)
    base = 0.5
    probes = np.full((3, codes.size, 3), base)
    for j in range(3):
        probes[j, :, j] = codes
    rows = np.concatenate([probes.reshape(-1, 3), [[base] * 3]])
    out = _processor64(rows, src, dst, cfg)
    k = out[:-1].reshape(3, codes.size, 3) - out[-1]  # (input channel j, code, output i)
    # codes that decode to ordinary values: what the matrix is fitted on and checked with
    good = np.isfinite(codes) & np.all(np.isfinite(k) & (np.abs(k) < 1e7), axis=(0, 2))
    baked = _decompose(k, out[-1], codes, good)
    if baked is None or (kind == "float" and baked.lut is not None):
        return Baked(None, None, None, exact=False)
    if baked.lut is None and kind in ("uint8", "uint16"):  # raw integer codes, not 0..1
        unit = np.eye(3, dtype=np.float32) / np.float32(np.iinfo(kind).max)
        baked.matrix = unit if baked.matrix is None else baked.matrix * unit[0, 0]
    grid = _grid(codes[good])
    truth = _processor64(grid, src, dst, cfg)
    predicted = _apply_rows(baked, grid, kind)
    ok = np.abs(predicted - truth) <= _TOLERANCE[0] * np.abs(truth) + _TOLERANCE[1]
    return baked if bool(ok.all()) else Baked(None, None, None, exact=False)


def _processor64(rows: np.ndarray, src: str, dst: str, cfg: str) -> np.ndarray:
    with np.errstate(invalid="ignore", over="ignore"):
        values = rows.astype(np.float32)
    return run_processor(values, src, dst, cfg).astype(np.float64)


def _grid(codes: np.ndarray, levels: int = 13) -> np.ndarray:
    """``(levels**3, 3)`` colours from the plausible codes: every mix of ``levels`` values."""
    ordered = np.sort(codes)  # actual codes, so the check compares table entries exactly
    picks = ordered[np.linspace(0, ordered.size - 1, levels).round().astype(int)]
    g = np.stack(np.meshgrid(picks, picks, picks, indexing="ij"), -1)
    return np.asarray(g.reshape(-1, 3))


def _decompose(
    k: np.ndarray, at_base: np.ndarray, codes: np.ndarray, good: np.ndarray
) -> Baked | None:
    """Curve + matrix from single-channel probes ``k`` ``(j, code, i)``; None if degenerate.

    If the transform is ``out = A @ f(x)``, probing channel j alone moves every output along
    column j of ``A`` by ``f_j``'s change: column j over its diagonal is the matrix, the
    diagonal the curve, and the output at the base colour gives the curves' offsets.
    """
    if not good.any():
        return None
    m = np.eye(3)
    curves = np.empty((3, codes.size))
    for j in range(3):
        g = k[j, :, j]
        norm = float(np.sum(g[good] ** 2))
        if norm <= 1e-12:
            return None
        for i in range(3):
            m[i, j] = float(np.sum(k[j, good, i] * g[good]) / norm) if i != j else 1.0
        curves[j] = g
    try:
        h = np.linalg.solve(m, at_base)
    except np.linalg.LinAlgError:
        return None
    return _simplest(curves + h[:, None], m, codes, good)


def _simplest(curves: np.ndarray, m: np.ndarray, codes: np.ndarray, good: np.ndarray) -> Baked:
    """``m @ curves(x)`` in its cheapest exact form: a matrix alone, one shared table, or three.

    Curves that are scaled copies of one another (a camera log curve, a gamut matrix that does
    not keep the diagonal at 1) become one table, their scales moving into the matrix.
    """
    line = _fit(np.stack([codes, np.ones_like(codes)]), curves, good)
    if line is not None:  # linear -> linear: no table, a matrix and offset on the values
        return _tidy(None, m * line[0][None, :], m @ line[1])
    shared = _fit(np.stack([curves[0], np.ones_like(codes)]), curves, good)
    if shared is not None:
        lut = _clamped(curves[:1], codes)[0]
        return _tidy(lut, m * shared[0][None, :], m @ shared[1])
    return _tidy(_clamped(curves, codes), m, None)


def _fit(
    basis: np.ndarray, curves: np.ndarray, good: np.ndarray
) -> tuple[np.ndarray, np.ndarray] | None:
    """Per curve (scale, shift) with ``curve = scale * basis[0] + shift``, if exact on ``good``."""
    scale, shift = np.empty(3), np.empty(3)
    x = basis[0, good]
    for j in range(3):
        y = curves[j, good]
        # weighted by 1/|y|: a relative fit over codes from denormals to 65504 (half)
        scale[j], shift[j] = np.polyfit(x, y, 1, w=1.0 / (np.abs(y) + 1e-3))
        if not np.allclose(scale[j] * x + shift[j], y, rtol=1e-5, atol=1e-6):
            return None
    return scale, shift


def _tidy(lut: np.ndarray | None, matrix: np.ndarray, offset: np.ndarray | None) -> Baked:
    """float32 parts; an identity matrix or a zero offset left out."""
    keep_matrix = not np.allclose(matrix, np.eye(3), rtol=0, atol=1e-7)
    keep_offset = offset is not None and bool(np.any(np.abs(offset) > 1e-9))
    return Baked(
        None if lut is None else lut.astype(np.float32),
        matrix.astype(np.float32) if keep_matrix else None,
        offset.astype(np.float32) if keep_offset and offset is not None else None,
    )


def _clamped(curves: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """Finite codes never decode to Inf/NaN (a huge ACEScct value): clamp to +-65504."""
    out: np.ndarray = curves.copy()
    finite = np.isfinite(codes)[None, :]
    bad = finite & ~np.isfinite(out)
    out[bad] = np.where(np.nan_to_num(out[bad], nan=1.0) < 0, -HALF_MAX, HALF_MAX)
    over = finite & (np.abs(out) > np.finfo(np.float32).max)
    out[over] = np.sign(out[over]) * HALF_MAX
    return out


def _apply_rows(b: Baked, rows: np.ndarray, kind: str) -> np.ndarray:
    """The baked transform on ``(N, 3)`` code values, through the decoding path itself."""
    if kind in ("uint8", "uint16"):
        stored = np.round(rows * np.iinfo(kind).max).astype(kind)
    else:
        stored = rows.astype(np.float16 if kind == "half" else np.float32)
        if kind == "half" and b.lut is not None:
            stored = stored.view(np.uint16)
    out = np.empty((1, len(rows), 3), np.float32)
    _decode_band(stored[None], (0, 1, 2), b, out)
    result: np.ndarray = out[0].astype(np.float64)
    return result


def run_processor(rgb: np.ndarray, src: str, dst: str, config: str) -> np.ndarray:
    """OCIO itself on ``(..., 3)`` float32 values, ``src`` -> ``dst``; returns the result.

    The slow path (about three decodes per 4K frame): used to bake :class:`Baked` tables, for
    transforms that are not a curve and a matrix, and to encode (evaluation, fix).
    """
    shape = rgb.shape
    flat = np.ascontiguousarray(rgb, dtype=np.float32).reshape(-1, 1, 3) if rgb.ndim != 3 else rgb
    buf = oiio.ImageBuf(np.ascontiguousarray(flat, dtype=np.float32))
    if not oiio.ImageBufAlgo.colorconvert(buf, buf, src, dst, False, colorconfig=config):
        raise UsageError(
            f"OpenColorIO cannot convert {src!r} to {dst!r} with config {config!r}: "
            f"{buf.geterror().strip() or oiio.geterror().strip()}; pass another --colorspace"
        )
    out = np.asarray(buf.get_pixels(oiio.FLOAT), dtype=np.float32)
    return out.reshape(shape)


def encode(linear: np.ndarray, colour: InputColour) -> np.ndarray:
    """Scene-linear ``(..., 3)`` float32 -> the plate's encoding (OCIO's inverse transform)."""
    return run_processor(linear, colour.linear, colour.colorspace, colour.config)
