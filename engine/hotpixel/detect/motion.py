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

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

import cv2
import numpy as np

PRESETS = {
    "ultrafast": cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST,
    "fast": cv2.DISOPTICAL_FLOW_PRESET_FAST,
    "medium": cv2.DISOPTICAL_FLOW_PRESET_MEDIUM,
}
K = TypeVar("K")
V = TypeVar("V")
LUMA = np.array([0.2126, 0.7152, 0.0722], np.float32)  # Rec.709 / sRGB primaries


def flow_image(frame: np.ndarray) -> np.ndarray:
    """The ``(H, W)`` uint8 image flow is computed on, from a ``(H, W, C)`` scene-linear frame.

    Luminance (the mean for C != 3), compressed by ``v / (1 + v)`` (so values far above 1.0
    keep detail), sRGB-encoded to 8 bits, then a 3x3 median: a one- or two-pixel defect is
    removed before flow sees it. NaN and negative values count as 0.
    """
    if frame.ndim != 3:
        raise ValueError(f"frame must be (H, W, C), got shape {frame.shape}")
    grey = frame @ LUMA if frame.shape[2] == 3 else frame.mean(axis=2)
    grey = np.nan_to_num(np.maximum(grey, 0.0), nan=0.0, posinf=1e6)
    grey = grey / (1.0 + grey)
    code = np.where(grey <= 0.0031308, 12.92 * grey, 1.055 * np.power(grey, 1 / 2.4) - 0.055)
    image: np.ndarray = cv2.medianBlur((code * 255.0 + 0.5).astype(np.uint8), 3)
    return image


def warp(frame: np.ndarray, flow: np.ndarray) -> np.ndarray:
    """``frame`` ``(H, W, C)`` or ``(H, W)`` resampled along ``flow`` ``(H, W, 2)``: bilinear.

    ``out[y, x] = frame[y + flow[y, x, 1], x + flow[y, x, 0]]``; outside the picture the edge
    pixel is repeated (confidence marks those pixels).
    """
    h, w = flow.shape[:2]
    xx, yy = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    out: np.ndarray = cv2.remap(
        frame,
        xx + flow[..., 0],
        yy + flow[..., 1],
        cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REPLICATE,
    )
    return out.reshape(frame.shape)


def consistency(forward: np.ndarray, backward: np.ndarray) -> np.ndarray:
    """``(H, W)`` confidence 0..1 of ``forward`` (a -> b) given ``backward`` (b -> a).

    The round trip error ``|F(x) + B(x + F(x))|`` in pixels, against a tolerance of 0.7 px
    plus 5 % of the motion; points carried outside the picture get 0.
    """
    h, w = forward.shape[:2]
    back = warp(backward, forward)  # (H, W, 2): B sampled where each point of a lands in b
    error = np.hypot(*(forward + back).transpose(2, 0, 1))
    tolerance = 0.7 + 0.05 * (
        np.hypot(*forward.transpose(2, 0, 1)) + np.hypot(*back.transpose(2, 0, 1))
    )
    confidence = np.exp(-0.5 * (error / tolerance) ** 2)
    xx, yy = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    tx, ty = xx + forward[..., 0], yy + forward[..., 1]
    inside = (tx >= 0) & (tx <= w - 1) & (ty >= 0) & (ty <= h - 1)
    out: np.ndarray = np.where(inside, confidence, 0.0).astype(np.float32)
    return out


def photometric(image_a: np.ndarray, image_b: np.ndarray, flow: np.ndarray) -> np.ndarray:
    """``(H, W)`` 0..1: how well ``image_b`` warped by ``flow`` matches ``image_a`` around each
    pixel, from the two ``(H, W)`` uint8 flow images (:func:`flow_image`).

    The mean absolute difference over a 7x7 box, in 8-bit code values of the tone-compressed
    image, against a tolerance of 12 codes. Flow between unrelated pictures (across a cut) can
    be smooth and consistent both ways; it does not match.
    """
    warped = warp(image_b.astype(np.float32), flow)
    error = cv2.blur(np.abs(image_a.astype(np.float32) - warped), (7, 7))
    out: np.ndarray = np.exp(-0.5 * (error / 12.0) ** 2).astype(np.float32)
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


class MotionCache:
    """DIS flow per ordered frame pair, computed once and kept for the windows that share it.

    Frames are known by their numbers: give the same number only for the same picture (call
    :meth:`clear` between sequences). ``capacity`` flows are kept (least recently used go
    first); a sequence's windows need at most 8 at a time.
    """

    def __init__(self, preset: str = "medium", capacity: int = 12) -> None:
        if preset not in PRESETS:
            raise ValueError(f"unknown DIS preset {preset!r}; choose one of {', '.join(PRESETS)}")
        self.preset = preset
        self.capacity = capacity
        self._dis = cv2.DISOpticalFlow.create(PRESETS[preset])
        self._images: OrderedDict[int, np.ndarray] = OrderedDict()
        self._flows: OrderedDict[tuple[int, int], np.ndarray] = OrderedDict()
        self._motions: OrderedDict[tuple[int, int], Motion] = OrderedDict()
        self.computed = 0  # DIS runs so far, for tests and benchmarks

    def clear(self) -> None:
        self._images.clear()
        self._flows.clear()
        self._motions.clear()

    def _image(self, number: int, frame: np.ndarray) -> np.ndarray:
        image = self._images.get(number)
        if image is None:
            image = flow_image(frame)
            self._images[number] = image
        self._images.move_to_end(number)
        _trim(self._images, self.capacity)
        return image

    def flow(self, a: int, frame_a: np.ndarray, b: int, frame_b: np.ndarray) -> np.ndarray:
        """``(H, W, 2)`` float32 flow from frame ``a`` to frame ``b`` (see the module's doc)."""
        key = (a, b)
        flow = self._flows.get(key)
        if flow is None:
            if a == b:
                flow = np.zeros((*frame_a.shape[:2], 2), np.float32)
            else:
                ia, ib = self._image(a, frame_a), self._image(b, frame_b)
                flow = np.asarray(self._dis.calc(ia, ib, None))  # type: ignore[call-overload]
                self.computed += 1
            self._flows[key] = flow
        self._flows.move_to_end(key)
        _trim(self._flows, self.capacity)
        return flow

    def motion(self, a: int, frame_a: np.ndarray, b: int, frame_b: np.ndarray) -> Motion:
        """Flow from ``a`` to ``b`` and its confidence: forward-backward consistency times
        the photometric match (:func:`consistency`, :func:`photometric`)."""
        key = (a, b)
        found = self._motions.get(key)
        if found is None:
            forward = self.flow(a, frame_a, b, frame_b)
            if a == b:
                confidence = np.ones(frame_a.shape[:2], np.float32)
            else:
                confidence = consistency(forward, self.flow(b, frame_b, a, frame_a))
                confidence *= photometric(self._image(a, frame_a), self._image(b, frame_b), forward)
            found = Motion(forward, confidence)
            self._motions[key] = found
        self._motions.move_to_end(key)
        _trim(self._motions, self.capacity)
        return found


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
    centre = len(frames) // 2
    c = numbers[centre]
    out = np.empty_like(frames)
    confidence = np.empty(frames.shape[:3], np.float32)
    flows = np.zeros((*frames.shape[:3], 2), np.float32)
    for t, (n, frame) in enumerate(zip(numbers, frames, strict=True)):
        m = cache.motion(c, frames[centre], n, frame)
        out[t] = frame if n == c else warp(frame, m.flow)
        confidence[t] = m.confidence
        flows[t] = m.flow
    return Aligned(out, confidence, flows)
