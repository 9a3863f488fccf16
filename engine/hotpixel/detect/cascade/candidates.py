"""The candidate stage: where, per colour channel, a centre frame stands out of its window.

For every channel separately (a hot photosite under a red or blue filter is invisible in the
brightest channel or the luminance):

- ``reference`` = the largest of the four aligned neighbours, each first max-filtered over
  +-``tolerance`` px (that absorbs flow error and sub-pixel sampling);
- ``residual`` = centre - reference: positive only where the centre is brighter than anything
  near the same place in every neighbour;
- ``sigma`` = the local noise scale: how much the aligned neighbours disagree with each other
  around the pixel (their range, averaged over a box, scaled to a standard deviation), with a
  floor from photon and quantisation noise. Where flow failed or the picture changes (moving
  people, occlusion) neighbours disagree, sigma rises and the residual counts for less;
- ``score`` = residual / sigma, where the centre is also above its local spatial level (the
  mean of the ring 2 px out): a one-frame brightening of a whole area is not a hot pixel.

Each pixel is compared only with the neighbours whose flow is trusted there (confidence at
least ``min_confidence``): across a cut, or where the point is occluded in a neighbour, that
neighbour says nothing about it. Where no neighbour is trusted, all are used.

Candidates are the local maxima of the best channel's score above ``threshold``, at least
``spacing`` px apart. Each carries the features a classifier needs (:class:`Candidates`), and
:func:`cutouts` cuts ``(N, T, h, w, C)`` patches around them from any stack (the aligned window,
the raw window, the confidence maps).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields

import cv2
import numpy as np

from hotpixel.detect.cascade import compiled

# expected range of n normal samples, in standard deviations, by n (1 sample: no range; the
# division by inf makes its disagreement 0 and the other noise terms answer)
RANGE_TO_SIGMA_BY_COUNT = np.array([np.inf, np.inf, 1.128, 1.693, 2.059, 2.326], np.float32)
# mean |x - mean of 4 others| of normal samples, in standard deviations: 0.798 * sqrt(1 + 1/4)
DEVIATION_TO_SIGMA = 0.89


@dataclass(frozen=True)
class CandidateParams:
    """How candidates are found; units are pixels, scene-linear values and noise sigmas."""

    threshold: float = 5.0  # normalised residual (sigmas) a candidate needs
    tolerance: int = 1  # +- px max filter on each aligned neighbour
    noise_radius: int = 3  # box radius over which neighbours' disagreement is averaged
    floor: float = 5e-4  # absolute noise floor (quantisation of dark values)
    floor_relative: float = 0.01  # noise floor as a share of the local level (photon noise)
    min_excess: float = 0.2  # centre above the local spatial level by this share of it
    spacing: int = 2  # candidates are local maxima over +- this many px
    # also take the noise scale from how far the centre strays from its neighbours' mean in a
    # ring around the pixel (the 7x7 box less the 3x3 core): a centre frame that is processed
    # differently (a sharper intra-coded frame, a flow misfit along an edge) raises it there
    centre_noise: bool = True
    min_confidence: float = 0.3  # neighbours less sure than this at a pixel are left out there


@dataclass(frozen=True)
class Evidence:
    """Dense per-channel evidence for one centre frame; every map ``(H, W, C)`` float32.

    ``score`` is ``residual / sigma`` where the spatial test passes, else 0.
    """

    residual: np.ndarray
    sigma: np.ndarray
    level: np.ndarray
    score: np.ndarray


@dataclass(frozen=True)
class Candidates:
    """``N`` candidates of one frame; every field an ``(N,)`` array.

    ``y``, ``x`` pixel row and column (int); ``channel`` the channel with the best score;
    ``score`` its normalised residual; ``residual``, ``sigma``, ``level`` (local spatial level),
    ``value`` (the centre pixel) in scene-linear units of that channel; ``contrast`` =
    ``value / level - 1``; ``confidence`` the lowest flow confidence of the four neighbours at
    the pixel and ``mean_confidence`` their mean; ``motion`` the largest flow magnitude (px).
    """

    y: np.ndarray
    x: np.ndarray
    channel: np.ndarray
    score: np.ndarray
    residual: np.ndarray
    sigma: np.ndarray
    level: np.ndarray
    value: np.ndarray
    contrast: np.ndarray
    confidence: np.ndarray
    mean_confidence: np.ndarray
    motion: np.ndarray

    def __len__(self) -> int:
        return len(self.y)

    def features(self) -> tuple[np.ndarray, list[str]]:
        """``(N, F)`` float32 feature matrix (every field but ``y``, ``x``) and its column names."""
        names = [f.name for f in fields(self) if f.name not in ("y", "x")]
        matrix = np.stack([getattr(self, n).astype(np.float32) for n in names], axis=1)
        return matrix.reshape(len(self), len(names)), names

    def select(self, keep: np.ndarray) -> Candidates:
        """The candidates where the ``(N,)`` bool or index array ``keep`` says."""
        return Candidates(**{f.name: getattr(self, f.name)[keep] for f in fields(self)})


def _max_filter(image: np.ndarray, radius: int) -> np.ndarray:
    """Per-channel grey dilation of ``(H, W, C)`` over a square of side ``2 radius + 1``."""
    if radius <= 0:
        return image
    kernel = np.ones((2 * radius + 1, 2 * radius + 1), np.uint8)
    out: np.ndarray = cv2.dilate(image, kernel, borderType=cv2.BORDER_REPLICATE)
    return out.reshape(image.shape)


def _box(image: np.ndarray, radius: int) -> np.ndarray:
    out: np.ndarray = cv2.blur(
        image, (2 * radius + 1, 2 * radius + 1), borderType=cv2.BORDER_REFLECT
    )
    return out.reshape(image.shape)


def local_level(frame: np.ndarray) -> np.ndarray:
    """``(H, W, C)``: the mean of the ring 2 px out (the 5x5 box less the 3x3 core) per channel.

    The core is left out so a defect up to 3x3 does not raise its own background.
    """
    return _ring_mean(frame, 2)


def _ring_mean(image: np.ndarray, radius: int) -> np.ndarray:
    """``(H, W, C)``: the mean over the ``2 radius + 1`` box less its 3x3 core, per channel
    (box sums as box means times their areas, the core's taken away, over the ring's area)."""
    outer, core = (2 * radius + 1) ** 2, 9
    ring = _box(image, radius)
    ring *= np.float32(outer)
    inner = _box(image, 1)
    inner *= np.float32(core)
    ring -= inner
    ring /= np.float32(outer - core)
    return ring


def trusted(
    confidence: np.ndarray | Sequence[np.ndarray] | None, shape: tuple[int, ...], least: float
) -> np.ndarray:
    """``(K, H, W, 1)`` bool: which neighbours to compare each pixel with.

    Those whose flow confidence there is at least ``least`` (a neighbour across a cut or with the
    point occluded says nothing about it); where none is, all of them (so nothing is found on
    flow failure alone). ``confidence`` ``(K, H, W)`` (or K ``(H, W)`` arrays), or None for all.
    """
    if confidence is None:
        return np.ones((*shape[:3], 1), bool)
    valid = np.stack([c >= least for c in confidence])
    valid |= ~valid.any(axis=0, keepdims=True)
    out: np.ndarray = valid[..., None]
    return out


def evidence(
    centre: np.ndarray,
    neighbours: np.ndarray | Sequence[np.ndarray],
    params: CandidateParams | None = None,
    confidence: np.ndarray | Sequence[np.ndarray] | None = None,
    scratch: bool = False,
) -> Evidence:
    """Per-channel evidence that ``centre`` ``(H, W, C)`` holds something its window does not.

    ``neighbours`` ``(K, H, W, C)`` float32 are the other frames of the window aligned onto the
    centre (or raw, for a tolerance-only comparison; a sequence of K ``(H, W, C)`` arrays
    works too), ``confidence`` ``(K, H, W)`` their flow confidence: each pixel is compared only
    with the neighbours trusted there (:func:`trusted`). Values are scene-linear; NaN/Inf must
    be removed before.

    It runs compiled (:mod:`hotpixel.detect.cascade.compiled`: the same numbers, faster) where
    Numba is installed, else as :func:`evidence_numpy`, the definition. With ``scratch`` the
    maps may be reused by this thread's next ``scratch`` call of the same shape (for a caller
    that reduces them at once, as the candidate stage's bands do).
    """
    p = params or CandidateParams()
    _check_shapes(centre, neighbours)
    valid = None if confidence is None else trusted(confidence, (), p.min_confidence)
    if valid is not None and bool(valid.all()):
        valid = None  # every neighbour trusted everywhere (the usual case)
    got = compiled.evidence(
        centre, neighbours, valid, p, RANGE_TO_SIGMA_BY_COUNT, DEVIATION_TO_SIGMA, scratch
    )
    return evidence_numpy(centre, neighbours, p, confidence) if got is None else Evidence(*got)


def _check_shapes(centre: np.ndarray, neighbours: np.ndarray | Sequence[np.ndarray]) -> None:
    if any(n.shape != centre.shape for n in neighbours) or len(neighbours) == 0:
        shape = np.shape(neighbours) if isinstance(neighbours, np.ndarray) else len(neighbours)
        raise ValueError(f"neighbours {shape} do not match centre {centre.shape}")


def evidence_numpy(
    centre: np.ndarray,
    neighbours: np.ndarray | Sequence[np.ndarray],
    params: CandidateParams | None = None,
    confidence: np.ndarray | Sequence[np.ndarray] | None = None,
) -> Evidence:
    """:func:`evidence` in NumPy and OpenCV: the definition the classifier was trained on, and
    the path taken where the compiled one is unavailable."""
    p = params or CandidateParams()
    _check_shapes(centre, neighbours)
    shape = (len(neighbours), *centre.shape)
    valid = trusted(confidence, shape, p.min_confidence)  # (K, H, W, 1)
    # Every expression below is the plain one of the candidate stage's definition, evaluated
    # with the same float32 (and float64) operations in the same order, in place and one
    # neighbour at a time: the classifier is trained on exactly these numbers.
    every = [bool(ok.all()) for ok in valid]
    # the first neighbour starts the running maxima, minimum and sum (the definition's start
    # values, -inf, inf and 0, change nothing); later ones fold in
    reference = high = low = total = centre  # placeholders, replaced by the first neighbour
    for i, (n, ok, all_ok) in enumerate(zip(neighbours, valid, every, strict=True)):
        spread = _max_filter(n, p.tolerance)
        if i == 0 and all_ok:
            reference = spread.copy() if spread is n else spread
            high, low, total = n.copy(), n.copy(), n.copy()
        elif i == 0:
            reference = np.where(ok, spread, -np.inf)
            high = np.where(ok, n, -np.inf)
            low = np.where(ok, n, np.inf)
            total = np.where(ok, n, 0.0)
        elif all_ok:
            np.maximum(reference, spread, out=reference)
            np.maximum(high, n, out=high)
            np.minimum(low, n, out=low)
            total += n
        else:
            np.maximum(reference, np.where(ok, spread, -np.inf), out=reference)
            np.maximum(high, np.where(ok, n, -np.inf), out=high)
            np.minimum(low, np.where(ok, n, np.inf), out=low)
            total += np.where(ok, n, 0.0)
    residual = np.subtract(centre, reference, out=reference)
    longest = len(RANGE_TO_SIGMA_BY_COUNT) - 1
    count: np.ndarray | int
    if all(every):  # every neighbour trusted everywhere (the usual case): one count, K
        count = len(neighbours)
        expected_range = RANGE_TO_SIGMA_BY_COUNT[min(count, longest)]
    else:
        count = valid.sum(axis=0, dtype=np.uint8)  # (H, W, 1), 1..K
        expected_range = RANGE_TO_SIGMA_BY_COUNT[np.minimum(count, longest)]
    high -= low
    high /= expected_range
    disagreement = _box(high, p.noise_radius)
    del high, low, expected_range  # memory: each is a frame's worth
    if p.centre_noise:
        ring = _ring_mean(_deviation(centre, total, count), 3)
        ring /= np.float32(DEVIATION_TO_SIGMA)
        np.maximum(disagreement, ring, out=disagreement)
        del ring
    level = local_level(centre)
    positive = np.maximum(level, np.float32(0.0))
    floor = positive * np.float32(p.floor_relative)
    floor += np.float32(p.floor)
    sigma = np.square(disagreement, out=disagreement)
    sigma += np.square(floor, out=floor)
    np.sqrt(sigma, out=sigma)
    del floor
    excess = np.subtract(centre, level, out=total)
    positive *= np.float32(p.min_excess)
    positive += sigma
    above = excess > positive
    score = np.zeros(centre.shape, np.float32)
    np.divide(residual, sigma, out=score, where=above)
    return Evidence(residual, sigma, level, score)


def _deviation(centre: np.ndarray, total: np.ndarray, count: np.ndarray | int) -> np.ndarray:
    """``|centre - total / count|`` as float32, computed in float64 (as the definition's integer
    count makes it), a band of rows at a time so the float64 temporaries stay small. ``count``
    is ``(H, W, 1)`` or one number for every pixel."""
    out = np.empty(centre.shape, np.float32)
    step = max(1, (1 << 16) // max(1, centre.shape[1] * centre.shape[2]))
    for y in range(0, centre.shape[0], step):
        rows = slice(y, y + step)
        n = np.float64(count) if isinstance(count, int) else count[rows].astype(np.float64)
        mean = total[rows] / n  # as float32 / int64 would give
        np.subtract(centre[rows], mean, out=mean)
        np.abs(mean, out=mean)
        out[rows] = mean
    return out


def peaks(score: np.ndarray, threshold: float, spacing: int) -> tuple[np.ndarray, np.ndarray]:
    """``(y, x)`` of the local maxima of ``score`` ``(H, W)`` above ``threshold``.

    A maximum is the largest value within +-``spacing`` px; a plateau counts once.
    """
    local = _max_filter(score[..., None], spacing)[..., 0]
    mask = (score >= threshold) & (score >= local)
    ys, xs = np.nonzero(mask)
    if len(ys) < 2:
        return ys, xs
    # plateaus: keep the first of each run of maxima within `spacing` of each other
    order = np.argsort(-score[ys, xs], kind="stable")
    ys, xs = ys[order], xs[order]
    taken = np.zeros((score.shape[0] + 2 * spacing + 1, score.shape[1] + 2 * spacing + 1), bool)
    keep = np.zeros(len(ys), bool)
    for i, (y, x) in enumerate(
        zip(ys.tolist(), xs.tolist(), strict=True)
    ):  # over maxima, not pixels
        if not taken[y + spacing, x + spacing]:
            keep[i] = True
            taken[y : y + 2 * spacing + 1, x : x + 2 * spacing + 1] = True
    return ys[keep], xs[keep]


@dataclass(frozen=True)
class BestChannel:
    """:class:`Evidence` at each pixel's best-scoring channel.

    ``score`` ``(H, W)`` float32 is the best channel's normalised residual (the largest over
    channels) at every pixel. The rest is kept only where ``score`` reaches ``least`` (the
    candidate threshold: no candidate elsewhere), as ``(M,)`` arrays over those pixels in
    raster order: ``index`` (``y * W + x``), ``channel`` (the first channel with the largest
    score), ``residual``, ``sigma`` and ``level`` in that channel.
    """

    score: np.ndarray
    least: float
    index: np.ndarray
    channel: np.ndarray
    residual: np.ndarray
    sigma: np.ndarray
    level: np.ndarray

    @classmethod
    def of(cls, ev: Evidence, least: float, offset: int = 0) -> BestChannel:
        """From ``ev``; ``offset`` is added to ``index`` (for a band of a larger picture)."""
        c = ev.score.shape[2]
        score = ev.score[..., 0].copy()
        for k in range(1, c):  # the largest over channels, as max(axis=2) gives, but faster
            np.maximum(score, ev.score[..., k], out=score)
        index = np.flatnonzero(score >= least)
        rows = ev.score.reshape(-1, c)[index]  # (M, C)
        channel = rows.argmax(axis=1) if len(index) else np.zeros(0, np.intp)

        def at(m: np.ndarray) -> np.ndarray:
            out: np.ndarray = m.reshape(-1, c)[index, channel]
            return out

        kept = (at(ev.residual), at(ev.sigma), at(ev.level))
        return cls(score, least, index + offset, channel, *kept)

    @classmethod
    def join(cls, score: np.ndarray, parts: Sequence[BestChannel]) -> BestChannel:
        """The whole picture's from its bands' ``parts`` (top to bottom, ``index`` already
        offset) and its whole ``score`` map."""

        def cat(name: str) -> np.ndarray:
            return np.concatenate([getattr(p, name) for p in parts])

        least = parts[0].least if parts else 0.0
        names = ("index", "channel", "residual", "sigma", "level")
        return cls(score, least, *(cat(n) for n in names))

    def at(self, ys: np.ndarray, xs: np.ndarray) -> tuple[np.ndarray, ...]:
        """``(channel, residual, sigma, level)`` at pixels whose score reaches ``least``."""
        where = np.searchsorted(self.index, np.asarray(ys) * self.score.shape[1] + xs)
        if len(where) and (where.max() >= len(self.index)):
            raise ValueError("a pixel below the kept score was asked for")
        return (
            self.channel[where].astype(np.intp),
            self.residual[where],
            self.sigma[where],
            self.level[where],
        )


def find(
    frames: np.ndarray | Sequence[np.ndarray],
    confidence: np.ndarray | Sequence[np.ndarray] | None = None,
    flow: np.ndarray | Sequence[np.ndarray] | None = None,
    params: CandidateParams | None = None,
) -> tuple[Candidates, Evidence]:
    """Candidates in the centre frame of a window ``frames`` ``(T, H, W, C)`` float32.

    ``frames`` are aligned onto the centre (:func:`hotpixel.detect.motion.align`), or raw for a
    tolerance-only baseline. ``confidence`` ``(T, H, W)`` and ``flow`` ``(T, H, W, 2)`` from the
    alignment fill the candidates' motion features (1 and 0 when absent). Each may also be a
    sequence of T per-frame arrays (:func:`hotpixel.detect.motion.align_slots`).
    """
    p = params or CandidateParams()
    t = len(frames) // 2
    others = [k for k in range(len(frames)) if k != t]
    conf = None if confidence is None else [confidence[k] for k in others]  # K x (H, W)
    ev = evidence(frames[t], [frames[k] for k in others], p, conf)  # views, no copies
    return gather(frames[t], BestChannel.of(ev, p.threshold), conf, flow, p), ev


def gather(
    centre: np.ndarray,
    best: BestChannel,
    confidence: Sequence[np.ndarray] | None,
    flow: np.ndarray | Sequence[np.ndarray] | None,
    params: CandidateParams,
) -> Candidates:
    """The candidates of ``centre`` ``(H, W, C)``: the peaks of ``best.score``, each with its
    features. ``confidence`` are the K neighbours' ``(H, W)`` flow confidences (None: all 1),
    ``flow`` the window's T ``(H, W, 2)`` flows from the centre (None: no motion)."""
    ys, xs = peaks(best.score, params.threshold, params.spacing)
    ch, residual, sigma, level = best.at(ys, xs)
    value = centre[ys, xs, ch]
    n = len(ys)
    if confidence is not None:
        at = np.stack([c[ys, xs] for c in confidence])  # (K, N)
        low, mean = at.min(axis=0), at.mean(axis=0)
    else:
        low = mean = np.ones(n, np.float32)
    motion = np.zeros(n, np.float32) if flow is None else motion_at(flow, ys, xs)
    return Candidates(
        y=ys,
        x=xs,
        channel=ch,
        score=best.score[ys, xs],
        residual=residual,
        sigma=sigma,
        level=level,
        value=value,
        contrast=value / np.maximum(level, 1e-6) - 1.0,
        confidence=low,
        mean_confidence=mean,
        motion=motion,
    )


def motion_at(
    flow: np.ndarray | Sequence[np.ndarray], ys: np.ndarray, xs: np.ndarray
) -> np.ndarray:
    """``(N,)``: the largest flow magnitude (px) at ``(ys, xs)`` over the window's slots, from
    ``(T, H, W, 2)`` flows (or T ``(H, W, 2)`` arrays)."""
    return largest_motion(np.stack([f[ys, xs] for f in flow]).reshape(len(flow), len(ys), 2))


def largest_motion(at: np.ndarray) -> np.ndarray:
    """``(N,)``: the largest magnitude over the slots of ``(T, N, 2)`` flow vectors."""
    out: np.ndarray = np.hypot(at[..., 0], at[..., 1]).max(axis=0)
    return out


def cutouts(
    stack: np.ndarray | Sequence[np.ndarray], ys: np.ndarray, xs: np.ndarray, size: int = 15
) -> np.ndarray:
    """Patches ``(N, T, size, size, C)`` centred on ``(ys, xs)`` from ``stack`` ``(T, H, W, C)``
    (or T ``(H, W, C)`` arrays).

    ``size`` is odd; the picture is reflected at its borders. Works on the aligned window, the
    raw window, or confidence maps given as ``(T, H, W, 1)``.
    """
    if size % 2 != 1 or any(np.ndim(f) != 3 for f in stack):
        raise ValueError(
            f"size must be odd and stack (T, H, W, C); got {size}, {np.shape(stack[0])[:3]}"
        )
    frames = list(stack)
    rows, cols = cutout_index(ys, xs, size, *frames[0].shape[:2])
    out: np.ndarray = np.stack([f[rows, cols, :] for f in frames], axis=1)  # (N, T, s, s, C)
    return out


def cutout_index(
    ys: np.ndarray, xs: np.ndarray, size: int, h: int, w: int
) -> tuple[np.ndarray, np.ndarray]:
    """Row ``(N, size, 1)`` and column ``(N, 1, size)`` indices of the ``size`` x ``size``
    cutouts centred on ``(ys, xs)`` in an ``h`` x ``w`` picture reflected at its borders without
    repeating the edge (np.pad's "reflect": -1 -> 1, h -> h - 2), as often as a picture
    smaller than the cutout needs."""
    offs = np.arange(-(size // 2), size // 2 + 1)
    rows = _reflect(np.asarray(ys)[:, None] + offs[None, :], h)[:, :, None]
    cols = _reflect(np.asarray(xs)[:, None] + offs[None, :], w)[:, None, :]
    return rows, cols


def _reflect(index: np.ndarray, n: int) -> np.ndarray:
    """``index`` folded into ``0..n-1`` by reflection about the first and last element, as
    often as it takes: a triangle wave of period ``2 (n - 1)``, which is what np.pad's
    "reflect" gives for any pad width."""
    if n == 1:
        return np.zeros_like(index)
    period = 2 * (n - 1)
    folded = np.abs(index) % period
    out: np.ndarray = np.where(folded > n - 1, period - folded, folded)
    return out
