"""Motion compensation: dense flow from a window's centre frame to each neighbour, warping, trust.

Flow is OpenCV's DIS (dense inverse search) at full resolution, on a grey image that a one-frame
defect cannot pull toward itself: luminance, tone-compressed to 8 bits the way a display would
(so dark and bright areas both get code values to match on), then 3x3-median filtered (a spike
of one or two pixels is gone before the flow sees it).

Conventions: a flow ``(H, W, 2)`` float32 from frame ``a`` to frame ``b`` holds, for the pixel at
column x, row y of ``a``, the displacement ``(dx, dy)`` in pixels to where that point is in
``b``: ``a[y, x] ~ b[y + dy, x + dx]``. Warping ``b`` by it (:func:`warp`) gives ``b`` aligned
onto ``a``. Confidence ``(H, W)`` float32 in 0..1 comes from forward-backward consistency: where
the flow ``a -> b`` followed by ``b -> a`` does not come back (occlusion, a flow failure) or
leaves the picture, confidence is near 0; and from the photometric match of the warped grey
images (a cut, a flash).

Each frame pair's flow is computed once and shared by every window that needs it
(:class:`MotionCache`, keyed by frame numbers): the windows of a sequence need four flows per
frame, t -> t+1, t+1 -> t, t -> t+2 and t+2 -> t.
"""

from __future__ import annotations

import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

import cv2
import numpy as np

PRESETS = {
    "ultrafast": cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST,
    "fast": cv2.DISOPTICAL_FLOW_PRESET_FAST,
    "medium": cv2.DISOPTICAL_FLOW_PRESET_MEDIUM,
}
FLOW_WIDTH = 1024  # the widest picture flow runs on at full size under flow scale "auto"
IMAGE_CAPACITY = 6  # flow images kept: a window's 5 and the next frame's (8 MB each at 4K)
BLOCK_PIXELS = 1 << 18  # whole-picture steps go this many pixels at a time (small temporaries)
K = TypeVar("K")
V = TypeVar("V")
LUMA = np.array([0.2126, 0.7152, 0.0722], np.float32)  # Rec.709 / sRGB primaries
# The smallest picture DIS is given, (height, width) px. Below it DIS refuses some sizes
# ("width or height >= 12") and crashes the whole process on others (8-15 px high and 40 px or
# more wide, every preset, opencv-python 5.1), so sizes are checked before the call, never
# caught after it. Every preset ran cleanly from 32 x 16 up to 36 x 16384 and 8192 x 20.
MIN_FLOW_SIZE = (32, 16)


def flow_image(frame: np.ndarray) -> np.ndarray:
    """The ``(H, W)`` uint8 image flow is computed on, from a ``(H, W, C)`` scene-linear frame.

    Luminance (the mean for C != 3), compressed by ``v / (1 + v)`` (so values far above 1.0
    keep detail), sRGB-encoded to 8 bits, then a 3x3 median: a one- or two-pixel defect is
    removed before flow sees it. NaN and negative values count as 0.
    """
    if frame.ndim != 3:
        raise ValueError(f"frame must be (H, W, C), got shape {frame.shape}")
    code = np.empty(frame.shape[:2], np.uint8)
    for y0, y1 in row_blocks(*frame.shape[:2]):
        code[y0:y1] = _code(frame[y0:y1])
    image: np.ndarray = cv2.medianBlur(code, 3)
    return image


def _code(frame: np.ndarray) -> np.ndarray:
    """The 8-bit tone-compressed luminance of :func:`flow_image`, before its median."""
    grey = frame @ LUMA if frame.shape[2] == 3 else frame.mean(axis=2)
    grey = np.nan_to_num(np.maximum(grey, 0.0), nan=0.0, posinf=1e6)
    grey = grey / (1.0 + grey)
    code = np.where(grey <= 0.0031308, 12.92 * grey, 1.055 * np.power(grey, 1 / 2.4) - 0.055)
    out: np.ndarray = (code * 255.0 + 0.5).astype(np.uint8)
    return out


def row_blocks(height: int, width: int, pixels: int | None = None) -> list[tuple[int, int]]:
    """``(top, bottom)`` rows of a ``height`` x ``width`` picture in blocks of about ``pixels``
    pixels (:data:`BLOCK_PIXELS` by default), 16 rows at least."""
    step = max(16, (BLOCK_PIXELS if pixels is None else pixels) // max(1, width))
    return [(y, min(y + step, height)) for y in range(0, height, step)]


@dataclass(frozen=True)
class FlowScale:
    """The resolution flow runs at: a fixed ``share`` of the picture's width (1, 0.5, ...), or
    ``None`` for "auto", which picks the share per picture width (:meth:`at`).

    :meth:`parse` reads the ``--flow-scale`` setting once, where the parameters enter the
    detector; everything past it holds this.
    """

    share: float | None = None

    @classmethod
    def parse(cls, setting: str) -> FlowScale:
        """``"auto"`` or a number in (0, 1]; ``ValueError`` otherwise."""
        if setting == "auto":
            return cls()
        share = float(setting)
        if not 0.0 < share <= 1.0:
            raise ValueError(f"flow scale must be auto or in (0, 1]; got {setting!r}")
        return cls(share)

    def at(self, width: int) -> float:
        """The scale for a picture ``width`` px wide: the fixed share, or for "auto" the largest
        power of two share (1, 1/2, 1/4, ...) that is at most :data:`FLOW_WIDTH` wide."""
        if self.share is not None:
            return self.share
        scale = 1.0
        while width * scale > FLOW_WIDTH and scale > 1 / 64:
            scale /= 2
        return scale

    def __str__(self) -> str:
        return "auto" if self.share is None else f"{self.share:g}"


def flow_fits(height: int, width: int) -> bool:
    """Whether DIS flow can run on a ``height`` x ``width`` picture (:data:`MIN_FLOW_SIZE`)."""
    return height >= MIN_FLOW_SIZE[0] and width >= MIN_FLOW_SIZE[1]


def shrunk(length: int, scale: float) -> int:
    """A side of ``length`` px shrunk by ``scale``, rounded down: OpenCV rounds the flow
    images' sides to nearest, so they are never smaller than this."""
    return int(length * scale)


def fitting_scale(scale: float, height: int, width: int) -> float | None:
    """``scale``, doubled (up to 1) until the picture shrunk by it :func:`flow_fits`; ``None``
    when not even the full ``height`` x ``width`` picture does (no flow can be had)."""
    while not flow_fits(shrunk(height, scale), shrunk(width, scale)):
        if scale >= 1.0:
            return None
        scale = min(1.0, scale * 2)
    return scale


def _grid(h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixel column and row coordinates ``(H, W)`` float32 each, shared (read-only)."""
    xx, yy = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    xx.setflags(write=False)
    yy.setflags(write=False)
    return xx, yy


def warp(frame: np.ndarray, flow: np.ndarray, top: int = 0) -> np.ndarray:
    """``frame`` ``(H, W, C)`` or ``(H, W)`` resampled along ``flow`` ``(H, W, 2)``: bilinear.

    ``out[y, x] = frame[y + flow[y, x, 1], x + flow[y, x, 0]]``; outside the picture the edge
    pixel is repeated (confidence marks those pixels). ``flow`` may be the rows ``top`` to
    ``top + h`` of the picture's flow only: the output is then those rows, the same numbers as
    the same rows of the whole warp.
    """
    h, w = flow.shape[:2]
    xx, yy = _grid(frame.shape[0], w)
    out: np.ndarray = cv2.remap(
        frame,
        xx[top : top + h] + flow[..., 0],
        yy[top : top + h] + flow[..., 1],
        cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REPLICATE,
    )
    return out.reshape((h, w, *frame.shape[2:]))


def consistency(
    forward: np.ndarray, backward: np.ndarray, top: int = 0, slack: float = 0.7
) -> np.ndarray:
    """``(H, W)`` confidence 0..1 of ``forward`` (a -> b) given ``backward`` (b -> a).

    The round trip error ``|F(x) + B(x + F(x))|`` in pixels, against a tolerance of ``slack``
    (0.7 px) plus 5 % of the motion; points carried outside the picture get 0. ``forward`` may
    be rows ``top`` to ``top + h`` of the flow (``backward`` is always the whole picture's):
    the confidence of those rows. For flows on a picture shrunk by ``s``, a ``slack`` of
    ``0.7 s`` is the same 0.7 px of the full picture.
    """
    # the same float32 operations in the same order as the plain expression
    # exp(-0.5 * (|F + B'| / (0.7 + 0.05 (|F| + |B'|)))**2), done in place: this runs four
    # times per frame over the whole picture. Lengths are OpenCV's (SIMD), within 1 ulp of
    # np.hypot's and 15x faster.
    h, w = backward.shape[:2]
    rows = slice(top, top + forward.shape[0])
    fx, fy = forward[..., 0], forward[..., 1]
    xx, yy = _grid(h, w)
    tx, ty = xx[rows] + fx, yy[rows] + fy
    back = cv2.remap(backward, tx, ty, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    tolerance = _length(forward)
    tolerance += _length(back)
    tolerance *= np.float32(0.05)
    tolerance += np.float32(slack)
    back += forward  # the round trip
    error = _length(back)
    error /= tolerance
    np.square(error, out=error)
    error *= np.float32(-0.5)
    confidence: np.ndarray = np.exp(error, out=error)
    inside = tx >= 0
    inside &= tx <= w - 1
    inside &= ty >= 0
    inside &= ty <= h - 1
    confidence[~inside] = 0.0
    return confidence


def _length(vectors: np.ndarray) -> np.ndarray:
    """``(H, W)`` float32 lengths of ``(H, W, 2)`` float32 vectors."""
    out: np.ndarray = cv2.magnitude(vectors[..., 0], vectors[..., 1])
    return out


def photometric(
    image_a: np.ndarray, image_b: np.ndarray, flow: np.ndarray, top: int = 0, box: int = 7
) -> np.ndarray:
    """``(H, W)`` 0..1: how well ``image_b`` warped by ``flow`` matches ``image_a`` around each
    pixel, from the two ``(H, W)`` uint8 flow images (:func:`flow_image`).

    The mean absolute difference over a 7x7 box, in 8-bit code values of the tone-compressed
    image, against a tolerance of 12 codes. Flow between unrelated pictures (across a cut) can
    be smooth and consistent both ways; it does not match.

    ``flow`` and ``image_a`` may be rows ``top`` to ``top + h`` only (``image_b``, uint8 or
    already float32, is the whole picture): the box then stops at their edges, so only rows 3
    or more from an edge that is not the picture's are the whole picture's numbers.
    """
    warped = warp(image_b.astype(np.float32, copy=False), flow, top)
    np.subtract(image_a, warped, out=warped)  # uint8 - float32 is float32
    error: np.ndarray = cv2.blur(np.abs(warped, out=warped), (box, box))
    error /= np.float32(12.0)
    np.square(error, out=error)
    error *= np.float32(-0.5)
    out: np.ndarray = np.exp(error, out=error)
    return out


@dataclass(frozen=True)
class Motion:
    """How frame ``b`` maps onto frame ``a``: ``flow`` ``(H, W, 2)``, ``confidence`` ``(H, W)``."""

    flow: np.ndarray
    confidence: np.ndarray


@dataclass(frozen=True)
class Aligned:
    """A window's neighbours aligned onto its centre.

    ``frames`` ``(T, H, W, C)`` float32 (the centre slot is the centre frame itself),
    ``confidence`` ``(T, H, W)`` float32 0..1 (1 in the centre slot), ``flow`` ``(T, H, W, 2)``
    float32 from the centre to each slot (0 in the centre slot).
    """

    frames: np.ndarray
    confidence: np.ndarray
    flow: np.ndarray


class FullFlow:
    """A stored flow (:class:`MotionCache`) read at the full picture size, rows at a time.

    At scale 1 the stored flow is the full-size flow. Below 1, :meth:`rows` scales up only the
    rows asked for, from the stored rows around them (2 stored rows of margin): the same
    numbers as the rows of the whole upscaled flow when the picture is a whole multiple of the
    stored flow (the tests check it); otherwise the whole flow is scaled up once and kept.
    """

    def __init__(self, stored: np.ndarray, shape: tuple[int, ...], scale: float) -> None:
        self.stored, self.shape, self.scale = stored, (shape[0], shape[1]), scale
        h, w = self.shape
        self._factor = k = round(1.0 / scale)
        self._exact = k * scale == 1.0 and (stored.shape[0] * k, stored.shape[1] * k) == (h, w)
        self._whole: np.ndarray | None = None

    def whole(self) -> np.ndarray:
        """The whole ``(H, W, 2)`` flow (at 4K, 66 MB)."""
        if self.scale == 1.0:
            return self.stored
        if self._whole is None:
            h, w = self.shape
            up: np.ndarray = np.asarray(
                cv2.resize(self.stored, (w, h), interpolation=cv2.INTER_LINEAR), np.float32
            )
            up /= np.float32(self.scale)
            self._whole = up
        return self._whole

    def rows(self, top: int, bottom: int) -> np.ndarray:
        """Rows ``top`` to ``bottom`` of :meth:`whole`, ``(bottom - top, W, 2)``."""
        if self.scale == 1.0 or not self._exact:
            return self.whole()[top:bottom]
        k, (h, w) = self._factor, self.shape
        c0, c1 = max(0, top // k - 2), min(h // k, -(-bottom // k) + 2)
        size = (w, (c1 - c0) * k)
        up = np.asarray(cv2.resize(self.stored[c0:c1], size, interpolation=cv2.INTER_LINEAR))
        part: np.ndarray = up[top - c0 * k : bottom - c0 * k]
        part /= np.float32(self.scale)
        return part

    def at(self, ys: np.ndarray, xs: np.ndarray) -> np.ndarray:
        """The flow at pixels ``(ys, xs)`` (any matching shapes): ``(*ys.shape, 2)``."""
        ys, xs = np.asarray(ys), np.asarray(xs)
        if self.scale == 1.0 or not self._exact:
            whole: np.ndarray = self.whole()[ys, xs]
            return whole
        out = np.empty((*ys.shape, 2), np.float32)
        wanted = np.unique(ys)
        # runs of consecutive rows, each scaled up once
        breaks = np.flatnonzero(np.diff(wanted) > 1) + 1
        for run in np.split(wanted, breaks) if len(wanted) else []:
            top, bottom = int(run[0]), int(run[-1]) + 1
            part = self.rows(top, bottom)
            sel = (ys >= top) & (ys < bottom)
            out[sel] = part[ys[sel] - top, xs[sel]]
        return out


class MotionCache:
    """DIS flow per ordered frame pair, computed once and kept for the windows that share it.

    Frames are known by their numbers: give the same number only for the same picture (call
    :meth:`clear` between sequences). ``capacity`` flows are kept (least recently used go
    first); a sequence's windows need at most 12 at a time (the 8 of a window, 4 of them made
    by the two windows before it, and the 4 new ones the two windows after it reuse).

    ``workers`` DIS runs (and the confidence and warp of each neighbour) go on at once, each
    in its own thread with its own DIS instance: OpenCV releases the GIL and a DIS run barely
    uses a second core by itself. The results do not depend on it.

    ``scale`` below 1 computes the flow on the flow images shrunk by that factor (area
    average), keeps it at that size (a 4K flow is 66 MB; at a quarter, 4 MB) and hands it out
    scaled back up (bilinear, :class:`FullFlow`). The confidence is made at that size too: the
    forward-backward check with the same tolerance in full-size pixels, the photometric check
    on the shrunk flow images over a 3x3 box, both then scaled up the same way. Candidates are
    still tested at every full-size pixel. :class:`FlowScale` picks the scale; :meth:`rescale`
    changes it.
    """

    def __init__(
        self,
        preset: str = "medium",
        capacity: int = 12,
        workers: int | None = None,
        scale: float = 1.0,
    ) -> None:
        if preset not in PRESETS:
            raise ValueError(f"unknown DIS preset {preset!r}; choose one of {', '.join(PRESETS)}")
        if not 0.0 < scale <= 1.0:
            raise ValueError(f"flow scale must be in (0, 1]; got {scale}")
        self.preset = preset
        self.capacity = capacity
        self.scale = scale
        self.workers = max(1, workers if workers is not None else min(2, os.cpu_count() or 1))
        self._local = threading.local()  # one DIS instance per thread: they hold state
        self._pool: ThreadPoolExecutor | None = None
        self._images: OrderedDict[int, np.ndarray] = OrderedDict()
        self._smalls: OrderedDict[int, np.ndarray] = OrderedDict()  # at ``scale``, for DIS
        self._flows: OrderedDict[tuple[int, int], np.ndarray] = OrderedDict()
        # confidences are asked for by the window of their centre only (a window's distinct
        # neighbours are at most 4): keep few, they are a frame each
        self._motions: OrderedDict[tuple[int, int], Motion] = OrderedDict()
        self._motion_capacity = 5
        self.computed = 0  # DIS runs so far, for tests and benchmarks
        self.seconds = {"flow": 0.0, "confidence": 0.0, "warp": 0.0}  # thread time, summed
        self._clock = threading.Lock()

    def rescale(self, scale: float) -> None:
        """Run flow at ``scale`` from now on (another picture size); flows made at another
        scale are forgotten."""
        if scale == self.scale:
            return
        if not 0.0 < scale <= 1.0:
            raise ValueError(f"flow scale must be in (0, 1]; got {scale}")
        self.clear()
        self.scale = scale

    def clear(self) -> None:
        self._images.clear()
        self._smalls.clear()
        self._flows.clear()
        self._motions.clear()

    def _image(self, number: int, frame: np.ndarray) -> np.ndarray:
        image = self._images.get(number)
        if image is None:
            image = flow_image(frame)
            self._images[number] = image
        self._images.move_to_end(number)
        _trim(self._images, IMAGE_CAPACITY)
        return image

    def _small(self, number: int, frame: np.ndarray) -> np.ndarray:
        """:meth:`_image` shrunk to the cache's scale (area average), made once per frame."""
        if self.scale == 1.0:
            return self._image(number, frame)
        small = self._smalls.get(number)
        if small is None:
            image = self._image(number, frame)
            small = cv2.resize(
                image, None, fx=self.scale, fy=self.scale, interpolation=cv2.INTER_AREA
            )
            self._smalls[number] = small
        self._smalls.move_to_end(number)
        _trim(self._smalls, IMAGE_CAPACITY)
        return small

    def _calc(self, image_a: np.ndarray, image_b: np.ndarray) -> np.ndarray:
        """One DIS run on this thread's instance on two images at the cache's scale
        (:meth:`_small`): ``(h, w, 2)`` float32 flow a -> b in pixels of those images."""
        if not flow_fits(*image_a.shape[:2]):  # DIS would fail or crash: see MIN_FLOW_SIZE
            h, w = image_a.shape[:2]
            raise ValueError(f"a {w}x{h} picture is too small for DIS flow; check flow_fits")
        t0 = time.perf_counter()
        dis = getattr(self._local, "dis", None)
        if dis is None:
            dis = self._local.dis = cv2.DISOpticalFlow.create(PRESETS[self.preset])
        flow = np.asarray(dis.calc(image_a, image_b, None))  # type: ignore[call-overload]
        self.count("flow", t0)
        return flow.astype(np.float32, copy=False)

    def _full(self, stored: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
        """A stored flow at the full picture size ``shape[:2]`` (see the class's doc)."""
        return FullFlow(stored, shape, self.scale).whole()

    def count(self, stage: str, t0: float) -> None:
        """Add the time since ``t0`` (``time.perf_counter``) to ``seconds[stage]``."""
        with self._clock:
            self.seconds[stage] = self.seconds.get(stage, 0.0) + time.perf_counter() - t0

    def _store(self, cache: OrderedDict[K, V], key: K, value: V) -> V:
        cache[key] = value
        cache.move_to_end(key)
        _trim(cache, self._motion_capacity if cache is self._motions else self.capacity)
        return value

    def flow(self, a: int, frame_a: np.ndarray, b: int, frame_b: np.ndarray) -> np.ndarray:
        """``(H, W, 2)`` float32 flow from frame ``a`` to frame ``b`` (see the module's doc)."""
        if a == b:
            return np.zeros((*frame_a.shape[:2], 2), np.float32)
        return self._full(self.flow_pairs(a, frame_a, [(b, frame_b)])[b][0], frame_a.shape)

    def motion(self, a: int, frame_a: np.ndarray, b: int, frame_b: np.ndarray) -> Motion:
        """Flow from ``a`` to ``b`` and its confidence: forward-backward consistency times
        the photometric match (:func:`consistency`, :func:`photometric`)."""
        key = (a, b)
        found = self._motions.get(key)
        if found is None:
            if a == b:
                still = np.ones(frame_a.shape[:2], np.float32)
                found = Motion(self.flow(a, frame_a, b, frame_b), still)
            else:
                flow, confidence = self.confidences(a, frame_a, [(b, frame_b)])[b]
                found = Motion(flow.whole(), confidence)
        return self._store(self._motions, key, found)

    def _confidence(
        self,
        forward: np.ndarray,
        backward: np.ndarray,
        images: tuple[np.ndarray, np.ndarray],
        smalls: tuple[np.ndarray, np.ndarray],
    ) -> tuple[FullFlow, np.ndarray]:
        """The full-size flow (read by rows) and confidence from two stored flows, the two
        flow images and the same at the cache's scale; the full-size flow is never made whole
        when the sizes allow."""
        t0 = time.perf_counter()
        image_a, image_b = images
        flow = FullFlow(forward, image_a.shape, self.scale)
        if self.scale != 1.0:  # both checks at the flow's size, then scaled up (class doc)
            h, w = image_a.shape[:2]
            small_a, small_b = smalls
            small = consistency(forward, backward, slack=0.7 * self.scale)
            small *= photometric(small_a, small_b, forward, box=3)
            up = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
            self.count("confidence", t0)
            return flow, np.asarray(up, np.float32)
        confidence = consistency(forward, backward)
        source = image_b.astype(np.float32)
        h = image_a.shape[0]
        for y0, y1 in row_blocks(*image_a.shape):  # the 7x7 box reaches 3 rows: 3 rows of halo
            r0, r1 = max(0, y0 - 3), min(h, y1 + 3)
            match = photometric(image_a[r0:r1], source, flow.rows(r0, r1), r0)
            confidence[y0:y1] *= match[y0 - r0 : y1 - r0]
        self.count("confidence", t0)
        return flow, confidence

    def _map(self, fn: Callable[[Any], V], jobs: Sequence[Any]) -> list[V]:
        """``fn`` over ``jobs``, ``workers`` at a time (in order)."""
        if self.workers == 1 or len(jobs) < 2:
            return [fn(j) for j in jobs]
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="hotpixel-flow")
        return list(self._pool.map(fn, jobs))

    def flow_pairs(
        self, a: int, frame_a: np.ndarray, others: Sequence[tuple[int, np.ndarray]]
    ) -> dict[int, tuple[np.ndarray, np.ndarray]]:
        """``{b: (flow a -> b, flow b -> a)}`` for each ``(number, frame)`` of ``others``
        other than ``a``; the flows not cached yet are computed ``workers`` at a time."""
        frames = {b: f for b, f in others if b != a}
        pairs: dict[tuple[int, int], tuple[np.ndarray, np.ndarray]] = {}
        for b in frames:
            for x, fx, y, fy in ((a, frame_a, b, frames[b]), (b, frames[b], a, frame_a)):
                if (x, y) not in self._flows:
                    pairs[(x, y)] = (self._small(x, fx), self._small(y, fy))
        flows = self._map(lambda images: self._calc(*images), list(pairs.values()))
        new = dict(zip(pairs, flows, strict=True))
        self.computed += len(new)
        got = {k: new[k] if k in new else self._flows[k] for b in frames for k in ((a, b), (b, a))}
        for key, flow in new.items():
            self._store(self._flows, key, flow)
        return {b: (got[(a, b)], got[(b, a)]) for b in frames}

    def image(self, number: int, frame: np.ndarray) -> np.ndarray:
        """The ``(H, W)`` uint8 image flow is computed on (:func:`flow_image`), cached."""
        return self._image(number, frame)

    def confidences(
        self, a: int, frame_a: np.ndarray, others: Sequence[tuple[int, np.ndarray]]
    ) -> dict[int, tuple[FullFlow, np.ndarray]]:
        """:meth:`motion` from ``a`` to each ``(number, frame)`` of ``others`` other than ``a``,
        by number, ``workers`` at a time, without keeping them (only the flows are kept), the
        flow as a :class:`FullFlow` to read by rows."""
        frames = {b: f for b, f in others if b != a}
        got = self.flow_pairs(a, frame_a, list(frames.items()))
        jobs = [
            (
                *got[b],
                (self._image(a, frame_a), self._image(b, frames[b])),
                (self._small(a, frame_a), self._small(b, frames[b])),
            )
            for b in frames
        ]
        done = self._map(lambda job: self._confidence(*job), jobs)
        return dict(zip(frames, done, strict=True))

    def motions(
        self, a: int, frame_a: np.ndarray, others: Sequence[tuple[int, np.ndarray]]
    ) -> dict[int, Motion]:
        """:meth:`motion` from ``a`` to each ``(number, frame)`` of ``others``, by number.

        The flows not cached yet are computed ``workers`` at a time, then the confidences;
        the results are those of :meth:`motion` one by one.
        """
        frames = {b: f for b, f in others if b != a}
        missing = [(b, frames[b]) for b in frames if (a, b) not in self._motions]
        for b, (flow, confidence) in self.confidences(a, frame_a, missing).items():
            self._store(self._motions, (a, b), Motion(flow.whole(), confidence))
        out = {b: self.motion(a, frame_a, b, f) for b, f in frames.items()}  # refresh LRU
        out[a] = self.motion(a, frame_a, a, frame_a)
        return out

    def warp_all(self, jobs: Sequence[tuple[np.ndarray, np.ndarray]]) -> list[np.ndarray]:
        """:func:`warp` of each ``(frame, flow)``, ``workers`` at a time."""

        def one(job: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
            t0 = time.perf_counter()
            out = warp(*job)
            self.count("warp", t0)
            return out

        return self._map(one, jobs)


def _trim(cache: OrderedDict[K, V], capacity: int) -> None:
    while len(cache) > capacity:
        cache.popitem(last=False)


def align(frames: np.ndarray, numbers: Sequence[int], cache: MotionCache) -> Aligned:
    """Every frame of a window ``(T, H, W, C)`` float32 aligned onto its centre ``T // 2``.

    ``numbers`` are the frames' numbers in window order (a mirrored window repeats some), used
    as the cache's keys. NaN/Inf in the frames must be dealt with before (they do not move).
    """
    if frames.ndim != 4 or len(numbers) != len(frames):
        raise ValueError(
            f"frames must be (T, H, W, C) with one number each; got {frames.shape} and "
            f"{len(numbers)} numbers"
        )
    slots = align_slots(list(frames), numbers, cache)
    return Aligned(np.stack(slots.frames), np.stack(slots.confidence), np.stack(slots.flow))


@dataclass(frozen=True)
class AlignedSlots:
    """:class:`Aligned` as one array per slot, not stacked: ``frames`` T x ``(H, W, C)``,
    ``confidence`` T x ``(H, W)``, ``flow`` T x ``(H, W, 2)``. Slots of the same frame number
    share arrays, the centre slot is the centre frame itself and flows are the cache's own:
    read only. At 4K this saves a copy of the window and of its flows (about 0.8 GB)."""

    frames: list[np.ndarray]
    confidence: list[np.ndarray]
    flow: list[np.ndarray]


def align_slots(
    frames: Sequence[np.ndarray], numbers: Sequence[int], cache: MotionCache
) -> AlignedSlots:
    """:func:`align` for T ``(H, W, C)`` float32 frames, giving :class:`AlignedSlots`."""
    if len(numbers) != len(frames) or any(f.ndim != 3 for f in frames):
        raise ValueError(f"frames must be T (H, W, C) arrays, one number each; got {len(numbers)}")
    c = numbers[len(frames) // 2]
    slots = {n: t for t, n in enumerate(numbers)}  # one slot per distinct number
    motions = cache.motions(c, frames[slots[c]], [(n, frames[t]) for n, t in slots.items()])
    moved = [n for n in slots if n != c]
    warped = cache.warp_all([(frames[slots[n]], motions[n].flow) for n in moved])
    by_number = {c: frames[slots[c]], **dict(zip(moved, warped, strict=True))}
    return AlignedSlots(
        [by_number[n] for n in numbers],
        [motions[n].confidence for n in numbers],
        [motions[n].flow for n in numbers],
    )
