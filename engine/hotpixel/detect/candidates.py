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

from dataclasses import dataclass, fields

import cv2
import numpy as np

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
    box5 = _box(frame, 2) * 25.0
    box3 = _box(frame, 1) * 9.0
    level: np.ndarray = (box5 - box3) / 16.0
    return level


def trusted(confidence: np.ndarray | None, shape: tuple[int, ...], least: float) -> np.ndarray:
    """``(K, H, W, 1)`` bool: which neighbours to compare each pixel with.

    Those whose flow confidence there is at least ``least`` (a neighbour across a cut or with the
    point occluded says nothing about it); where none is, all of them (so nothing is found on
    flow failure alone). ``confidence`` ``(K, H, W)``, or None for all.
    """
    if confidence is None:
        return np.ones((*shape[:3], 1), bool)
    valid = confidence >= least
    valid |= ~valid.any(axis=0, keepdims=True)
    out: np.ndarray = valid[..., None]
    return out


def evidence(
    centre: np.ndarray,
    neighbours: np.ndarray,
    params: CandidateParams | None = None,
    confidence: np.ndarray | None = None,
) -> Evidence:
    """Per-channel evidence that ``centre`` ``(H, W, C)`` holds something its window does not.

    ``neighbours`` ``(K, H, W, C)`` float32 are the other frames of the window aligned onto the
    centre (or raw, for a tolerance-only comparison), ``confidence`` ``(K, H, W)`` their flow
    confidence: each pixel is compared only with the neighbours trusted there (:func:`trusted`).
    Values are scene-linear; NaN/Inf must be removed before.
    """
    p = params or CandidateParams()
    if neighbours.ndim != 4 or neighbours.shape[1:] != centre.shape:
        raise ValueError(f"neighbours {neighbours.shape} do not match centre {centre.shape}")
    valid = trusted(confidence, neighbours.shape, p.min_confidence)  # (K, H, W, 1)
    reference = np.full(centre.shape, -np.inf, np.float32)
    for n, ok in zip(neighbours, valid, strict=True):
        np.maximum(reference, np.where(ok, _max_filter(n, p.tolerance), -np.inf), out=reference)
    residual = centre - reference
    count = valid.sum(axis=0)  # (H, W, 1), 1..K
    high = np.where(valid, neighbours, -np.inf).max(axis=0)
    low = np.where(valid, neighbours, np.inf).min(axis=0)
    expected_range = RANGE_TO_SIGMA_BY_COUNT[np.minimum(count, len(RANGE_TO_SIGMA_BY_COUNT) - 1)]
    disagreement = _box((high - low) / expected_range, p.noise_radius)
    if p.centre_noise:
        mean = np.where(valid, neighbours, 0.0).sum(axis=0) / count
        deviation = np.abs(centre - mean).astype(np.float32)
        ring = (_box(deviation, 3) * 49.0 - _box(deviation, 1) * 9.0) / 40.0
        np.maximum(disagreement, ring / DEVIATION_TO_SIGMA, out=disagreement)
    level = local_level(centre)
    floor = p.floor + p.floor_relative * np.maximum(level, 0.0)
    sigma = np.sqrt(disagreement**2 + floor**2)
    above = centre - level > p.min_excess * np.maximum(level, 0.0) + sigma
    score = np.where(above, residual / sigma, 0.0).astype(np.float32)
    return Evidence(residual, sigma, level, score)


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


def find(
    frames: np.ndarray,
    confidence: np.ndarray | None = None,
    flow: np.ndarray | None = None,
    params: CandidateParams | None = None,
) -> tuple[Candidates, Evidence]:
    """Candidates in the centre frame of a window ``frames`` ``(T, H, W, C)`` float32.

    ``frames`` are aligned onto the centre (:func:`hotpixel.detect.motion.align`), or raw for a
    tolerance-only baseline. ``confidence`` ``(T, H, W)`` and ``flow`` ``(T, H, W, 2)`` from the
    alignment fill the candidates' motion features (1 and 0 when absent).
    """
    p = params or CandidateParams()
    t = len(frames) // 2
    centre = frames[t]
    neighbours = np.delete(frames, t, axis=0)
    conf = None if confidence is None else np.delete(confidence, t, axis=0)
    ev = evidence(centre, neighbours, p, conf)
    best = ev.score.argmax(axis=2)  # (H, W)
    score2d = np.take_along_axis(ev.score, best[..., None], axis=2)[..., 0]
    ys, xs = peaks(score2d, p.threshold, p.spacing)
    ch = best[ys, xs]
    value = centre[ys, xs, ch]
    level = ev.level[ys, xs, ch]
    n = len(ys)
    if conf is not None:
        at = conf[:, ys, xs]  # (K, N)
        low, mean = at.min(axis=0), at.mean(axis=0)
    else:
        low = mean = np.ones(n, np.float32)
    if flow is not None:
        motion = np.hypot(flow[:, ys, xs, 0], flow[:, ys, xs, 1]).max(axis=0)
    else:
        motion = np.zeros(n, np.float32)
    found = Candidates(
        y=ys,
        x=xs,
        channel=ch,
        score=score2d[ys, xs],
        residual=ev.residual[ys, xs, ch],
        sigma=ev.sigma[ys, xs, ch],
        level=level,
        value=value,
        contrast=value / np.maximum(level, 1e-6) - 1.0,
        confidence=low,
        mean_confidence=mean,
        motion=motion,
    )
    return found, ev


def cutouts(stack: np.ndarray, ys: np.ndarray, xs: np.ndarray, size: int = 15) -> np.ndarray:
    """Patches ``(N, T, size, size, C)`` centred on ``(ys, xs)`` from ``stack`` ``(T, H, W, C)``.

    ``size`` is odd; the picture is reflected at its borders. Works on the aligned window, the
    raw window, or confidence maps given as ``(T, H, W, 1)``.
    """
    if size % 2 != 1 or stack.ndim != 4:
        raise ValueError(f"size must be odd and stack (T, H, W, C); got {size}, {stack.shape}")
    r = size // 2
    padded = np.pad(stack, ((0, 0), (r, r), (r, r), (0, 0)), mode="reflect")
    offs = np.arange(size)
    rows = (np.asarray(ys)[:, None] + offs[None, :])[:, :, None]  # (N, size, 1)
    cols = (np.asarray(xs)[:, None] + offs[None, :])[:, None, :]  # (N, 1, size)
    patches = padded[:, rows, cols, :]  # (T, N, size, size, C)
    out: np.ndarray = np.ascontiguousarray(patches.transpose(1, 0, 2, 3, 4))
    return out
