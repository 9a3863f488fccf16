"""Movie files as plates: QuickTime, MXF, MP4 and the like, decoded through PyAV (FFmpeg).

A movie is a sequence whose frames live in one file (:func:`movie_sequence`): frame numbers
start at the movie's start timecode (``01:00:00:00`` at 25 fps is frame 90000), else at 1.
Frames are decoded at full precision: more than 8 bits per sample (10/12-bit ProRes and DNxHR)
to 16-bit RGB, 8-bit codecs (H.264) to 8-bit; an alpha channel (ProRes 4444) is kept. YUV is
converted to RGB with the file's own matrix and range; the transfer and primaries tags choose
the colour space (:func:`tagged_colorspace`) that :mod:`hotpixel.io.colour` decodes the RGB
from, through the same OpenColorIO path as image plates. A movie whose frames do not follow
at one constant rate is refused (frame numbers would not be times), and so is a truncated one.

The tags are FFmpeg's (``AVColorTransferCharacteristic``, ``AVColorPrimaries``,
``AVColorSpace``, ``AVColorRange``: https://ffmpeg.org/doxygen/trunk/pixfmt_8h.html), which
number as ITU-T H.273 does.
"""

from __future__ import annotations

import functools
import itertools
import os
import re
import threading
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import av
import numpy as np
import OpenImageIO as oiio
import opentimelineio as otio

from hotpixel.errors import FrameReadError
from hotpixel.io.colour import MOVIE_ASSUMED, MOVIE_TAGS
from hotpixel.io.sequence import FramePattern, FrameSequence

# transfer (H.273 TransferCharacteristics) -> colour-space name in the OCIO config; video
# transfers (BT.709, BT.601, BT.2020) are the camera encoding the DPX path also calls Rec.709
VIDEO_TRANSFERS = {1, 6, 14, 15}  # bt709, smpte170m, bt2020-10, bt2020-12
TRANSFERS = {13: "srgb_tx", 16: "Rec.2100-PQ - Display", 18: "Rec.2100-HLG - Display"}
REC709_VIDEO = "ocio:itu709_rec709_scene"
LINEAR = {1: "lin_rec709_scene", 9: "lin_rec2020_scene"}  # linear transfer (8), by primaries
# matrix (H.273 MatrixCoefficients) -> PyAV's name for swscale; unknown ones go by frame height
MATRICES = {1: "ITU709", 5: "ITU601", 6: "ITU601", 7: "SMPTE240M", 9: "BT2020", 10: "BT2020"}
FULL_RANGE = 2  # AVCOL_RANGE_JPEG
_NAMES = {
    "trc": {1: "bt709", 6: "smpte170m", 8: "linear", 13: "srgb", 14: "bt2020-10", 16: "pq"},
    "primaries": {1: "bt709", 5: "bt470bg", 6: "smpte170m", 9: "bt2020"},
}


def _fix(path: str) -> str:
    return f"re-copy or re-export {os.path.basename(path)!r}"


@dataclass(frozen=True)
class MovieInfo:
    """What :func:`probe` found. ``pts`` are the frames' presentation times, in order."""

    path: str
    width: int
    height: int
    rate: Fraction  # frames per second
    first_frame: int  # the number of the first frame (start timecode, else 1)
    timecode: str  # the start timecode as the file gives it, "" if none
    pts: tuple[int, ...]
    codec: str
    pix_fmt: str
    bits: int  # per sample: 8 or more
    alpha: bool
    trc: int
    primaries: int
    matrix: int
    colour_range: int

    @property
    def frames(self) -> tuple[int, ...]:
        return tuple(range(self.first_frame, self.first_frame + len(self.pts)))

    def tags(self) -> str:
        """``transfer bt709, primaries bt709, matrix 1, range 1``, for people."""
        trc = _NAMES["trc"].get(self.trc, str(self.trc))
        primaries = _NAMES["primaries"].get(self.primaries, str(self.primaries))
        return (
            f"movie tags in {os.path.basename(self.path)}: transfer {trc}, primaries "
            f"{primaries}, matrix {self.matrix}, range {'full' if self.full_range else 'video'}"
        )

    @property
    def full_range(self) -> bool:
        return self.colour_range == FULL_RANGE or self.pix_fmt.startswith(("gbr", "rgb", "bgr"))


def movie_sequence(path: str) -> FrameSequence:
    """The frames of the movie ``path`` as a sequence (every frame maps to the file)."""
    info = probe(path)
    directory, name = os.path.split(path)
    stem, ext = os.path.splitext(name)
    pattern = FramePattern(directory, stem + ".", ext, 0, movie=path)
    return FrameSequence(pattern, info.frames, dict.fromkeys(info.frames, path))


def source_fields(seq: FrameSequence) -> dict[str, Any]:
    """The report's extra ``source`` fields for a movie (rate, timecode, codec), else none."""
    if not seq.pattern.movie:
        return {}
    info = probe(seq.pattern.movie)
    return {
        "movie": True,
        "rate": float(info.rate),
        "start_timecode": info.timecode or None,
        "codec": info.codec,
        "pixel_format": info.pix_fmt,
    }


def probe(path: str) -> MovieInfo:
    """Open ``path`` and index its frames (packets only, nothing decoded); cached per version."""
    stat = os.stat(path)
    return _probe(os.path.abspath(path), stat.st_size, stat.st_mtime_ns)


@functools.lru_cache(maxsize=16)
def _probe(path: str, size: int, mtime_ns: int) -> MovieInfo:
    container = _open(path)
    try:
        stream = _video_stream(container, path)
        pts = _packet_times(container, stream, path)
        rate = _constant_rate(stream, pts, path)
        ctx = stream.codec_context
        fmt = ctx.format
        pix = fmt.name if fmt is not None else str(ctx.pix_fmt)
        bits = max((c.bits for c in fmt.components), default=8) if fmt is not None else 8
        alpha = fmt is not None and any(c.is_alpha for c in fmt.components)
        timecode = str(stream.metadata.get("timecode") or container.metadata.get("timecode", ""))
        return MovieInfo(
            path=path,
            width=int(ctx.width),
            height=int(ctx.height),
            rate=rate,
            first_frame=_first_frame(timecode, rate, path),
            timecode=timecode,
            pts=tuple(pts),
            codec=str(ctx.name),
            pix_fmt=pix,
            bits=int(bits),
            alpha=bool(alpha),
            trc=int(ctx.color_trc or 2),
            primaries=int(ctx.color_primaries or 2),
            matrix=int(ctx.colorspace or 2),
            colour_range=int(ctx.color_range or 0),
        )
    finally:
        container.close()


def _open(path: str) -> Any:
    try:
        return av.open(path)
    except (av.error.FFmpegError, OSError) as exc:
        raise FrameReadError(
            f"cannot open the movie {path!r} ({exc}); it is damaged, truncated or not a movie "
            f"FFmpeg reads; {_fix(path)}",
            path,
        ) from exc


def _video_stream(container: Any, path: str) -> Any:
    if not container.streams.video:
        raise FrameReadError(f"{path!r} holds no video stream; pass a movie with picture", path)
    return container.streams.video[0]


def _packet_times(container: Any, stream: Any, path: str) -> list[int]:
    """Every frame's presentation time, sorted; a truncated or damaged file is an error."""
    times: list[int] = []
    try:
        for packet in container.demux(stream):
            if packet.size == 0:
                continue  # the flush packet at the end
            t = packet.pts if packet.pts is not None else packet.dts
            if t is None:
                raise FrameReadError(f"{path!r} has frames without times; {_fix(path)}", path)
            times.append(int(t))
    except av.error.FFmpegError as exc:
        raise FrameReadError(
            f"the movie {path!r} is damaged or truncated after {len(times)} frame(s) ({exc}); "
            f"{_fix(path)}",
            path,
        ) from exc
    declared = int(stream.frames or 0)
    if not times or (declared and len(times) < declared):
        raise FrameReadError(
            f"the movie {path!r} is truncated: it holds {len(times)} frame(s) but its header "
            f"says {declared}; {_fix(path)}",
            path,
        )
    return sorted(times)


def _constant_rate(stream: Any, pts: list[int], path: str) -> Fraction:
    """The frame rate, checked against every frame's time: variable rates are refused."""
    rate = stream.average_rate or stream.guessed_rate or stream.base_rate
    if not rate:
        raise FrameReadError(f"{path!r} states no frame rate; {_fix(path)}", path)
    rate = Fraction(rate)
    tick = Fraction(stream.time_base)
    step = 1 / (rate * tick)  # frame duration in time-base ticks
    durations = sorted({b - a for a, b in itertools.pairwise(pts)})
    if durations and (abs(durations[0] - step) > 1 or abs(durations[-1] - step) > 1):
        shortest, longest = (float(d * tick * 1000) for d in (durations[0], durations[-1]))
        raise FrameReadError(
            f"the movie {path!r} has a variable frame rate (frames last {shortest:.1f} to "
            f"{longest:.1f} ms, not {1000 / float(rate):.1f}): frame numbers would not be "
            "times. Convert it to a constant rate first, e.g. ffmpeg -i IN -fps_mode cfr "
            f"-r {float(rate):g} -c:v prores_ks OUT.mov",
            path,
        )
    return rate


def _first_frame(timecode: str, rate: Fraction, path: str) -> int:
    """The frame number of ``timecode``; at a rate SMPTE timecode lacks (12.5 fps, say), the
    frames of a second are counted at the nearest whole rate."""
    if not timecode:
        return 1
    try:
        return int(otio.opentime.from_timecode(timecode, float(rate)).to_frames())
    except ValueError as exc:
        m = re.fullmatch(r"(\d+):(\d\d):(\d\d):(\d\d)", timecode)
        if m:
            h, mi, se, fr = (int(g) for g in m.groups())
            return ((h * 60 + mi) * 60 + se) * max(1, int(float(rate) + 0.5)) + fr
        raise FrameReadError(
            f"the start timecode {timecode!r} of {path!r} does not fit its rate {float(rate):g} "
            f"({exc}); {_fix(path)}",
            path,
        ) from exc


def tagged_colorspace(info: MovieInfo) -> str | None:
    """The colour-space name (of the built-in OCIO config) the tags say, or None if untagged."""
    if info.trc in VIDEO_TRANSFERS and info.primaries in (1, 2, 5, 6):
        return REC709_VIDEO
    if info.trc == 8:
        return LINEAR.get(info.primaries)
    return TRANSFERS.get(info.trc)


def header(path: str, frame: int) -> oiio.ImageSpec:
    """An image header for the movie's frames: size, channels, 16- or 8-bit, colour tags.

    ``oiio:ColorSpace`` holds the tagged colour space; an untagged movie has
    :data:`MOVIE_ASSUMED` (Rec.709 video) instead, which the colour choice reports as assumed.
    """
    info = probe(path)
    channels = 4 if info.alpha else 3
    spec = oiio.ImageSpec(info.width, info.height, channels, _stored(info))
    spec.channelnames = ("R", "G", "B", "A")[:channels]
    spec.attribute(MOVIE_TAGS, info.tags())
    named = tagged_colorspace(info)
    spec.attribute("oiio:ColorSpace" if named else MOVIE_ASSUMED, named or REC709_VIDEO)
    spec.attribute("compression", info.codec)
    return spec


def _stored(info: MovieInfo) -> oiio.TypeDesc:
    return oiio.TypeDesc(oiio.UINT16 if info.bits > 8 else oiio.UINT8)


def decode(path: str, frame: int) -> tuple[np.ndarray, MovieInfo]:
    """Frame number ``frame`` of the movie as ``(H, W, 3 or 4)`` uint16 (or uint8) RGB(A)."""
    info = probe(path)
    index = frame - info.first_frame
    if not 0 <= index < len(info.pts):
        raise FrameReadError(
            f"frame {frame} is not in {path!r} (frames {info.frames[0]}-{info.frames[-1]}); "
            "pass --frames within them",
            path,
            frame,
        )
    with _READERS_LOCK:
        reader = _READERS.get(info.path)
        if reader is None or reader.info is not info:
            for old in _READERS.values():  # one movie open per process: a run reads one plate
                with old.lock:
                    old.container.close()
            _READERS.clear()
            reader = _READERS[info.path] = _Reader(info)
    return reader.read(index, frame), info


class _Reader:
    """An open movie decoded forwards; a jump backwards or far ahead seeks (intra codecs seek
    to the frame itself, long-GOP ones to the keyframe before it)."""

    AHEAD = 16  # frames decoded through rather than seeking over

    def __init__(self, info: MovieInfo) -> None:
        self.info = info
        self.lock = threading.Lock()
        self.container = _open(info.path)
        self.stream = _video_stream(self.container, info.path)
        self.frames: Any = None  # the decoder's frame iterator
        self.next = 0  # the index it yields next

    def read(self, index: int, frame: int) -> np.ndarray:
        with self.lock:
            if self.frames is None or not self.next <= index < self.next + self.AHEAD:
                self.container.seek(self.info.pts[index], stream=self.stream, backward=True)
                self.frames = self.container.decode(self.stream)
            wanted = self.info.pts[index]
            try:
                for decoded in self.frames:
                    if decoded.pts is not None and decoded.pts >= wanted:
                        break
                else:
                    decoded = None
            except av.error.FFmpegError as exc:
                self.frames = None
                raise FrameReadError(
                    f"frame {frame}: the movie {self.info.path!r} could not be decoded there "
                    f"({exc}); {_fix(self.info.path)}, or leave it out with --exclude {frame}",
                    self.info.path,
                    frame,
                ) from exc
            if decoded is None or decoded.pts != wanted:
                self.frames = None
                raise FrameReadError(
                    f"frame {frame}: the movie {self.info.path!r} ends or is damaged before "
                    f"it; {_fix(self.info.path)}, or leave it out with --exclude {frame}",
                    self.info.path,
                    frame,
                )
            self.next = index + 1
            return _rgb(decoded, self.info)


_READERS: dict[str, _Reader] = {}
_READERS_LOCK = threading.Lock()


def _rgb(decoded: Any, info: MovieInfo) -> np.ndarray:
    """One decoded picture as RGB(A) at full precision, YUV converted with the file's matrix."""
    deep = info.bits > 8
    fmt = ("rgba64le" if deep else "rgba") if info.alpha else ("rgb48le" if deep else "rgb24")
    interpolation = av.video.reformatter.Interpolation
    picture = decoded.reformat(
        format=fmt,
        src_colorspace=MATRICES.get(info.matrix, "ITU709" if info.height >= 720 else "ITU601"),
        src_color_range="JPEG" if info.full_range else "MPEG",
        dst_color_range="JPEG",
        interpolation=interpolation.BILINEAR | interpolation.ACCURATE_RND,
    )
    out: np.ndarray = picture.to_ndarray()
    return out
