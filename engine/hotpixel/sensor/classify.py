"""From a shot's statistics to defects: per-pixel tests, kinds, clusters.

Two kinds of evidence confirm a photosite as defective:

- **motion**: over the frames in which the camera had moved (the content under the photosite was
  new), it departs from its neighbourhood in the same direction in most of them, and the moved
  content does not explain it. Finds dead, stuck and persistent hot pixels; needs motion. A
  weak defect on texture, whose departures rarely cross the per-frame threshold, is confirmed
  instead by its *persistence score*: the signed sum of the departures the moved content
  cannot explain, in local noise sigmas (each frame clipped), over the square root of the
  evidence frames. A photosite fixed on the sensor adds the same sign in every frame and its
  score grows with the shot; content passing under it adds either sign.
- **footprint**: on a locked-off shot, a photosite that departs the same way in nearly every
  frame, alone (the photosites beside it hold far less of its excess than the optics' point
  spread would put there, :mod:`.optics`), with an excess over its neighbourhood that holds
  constant over the shot (no drift, no twinkle) while the level around it changes. No scene
  feature is sharper than the lens; a star or a small light that is, moves or twinkles.
- **invariance**: its value barely changes in time while its neighbours' values change (grain,
  light, motion), and it departs from them. Finds dead and stuck pixels even in a locked-off
  shot, as long as the neighbours carry grain; a persistent hot pixel follows the scene plus an
  offset, so only motion can tell it from a small static light.

Confirmed pixels are grouped 8-connected, together with adjacent pixels that depart in the same
way in most frames (so every photosite of a dead column segment is a member even where the
camera moved along it). Kinds: ``dead`` (black, or at most :attr:`SensorParams.dead_level` of its
neighbours' level), ``stuck`` (near-constant while the neighbourhood varies), ``hot`` (above its
neighbours, following the scene).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage
from scipy.stats import binom

from hotpixel.params import param_field
from hotpixel.sensor import optics as lens
from hotpixel.sensor.background import NOISE_FLOOR, median5
from hotpixel.sensor.stats import ShotStats

_EIGHT = np.ones((3, 3), dtype=bool)
BLACK = 2.0**-8  # linear level (~0.004) at or below which a photosite reads black
# tone units (~0.2 stop, 13% in gain): the least mean departure the persistence score confirms
PERSISTENT_FLOOR = 2.0 * NOISE_FLOOR
MIN_UNEXPLAINED = 2  # one unexplained departure is one frame of chance, not a fixed photosite
CHANCE = 1e-7  # the counting test's chance of a pixel's departures (about 1 in a 4K frame)
MIN_RATE = 0.03  # least chance rate of a same-way departure in an evidence frame
KIND_FLAT = 0.3  # kind only: a confirmed defect varying this little against its neighbours is stuck
CLIP_PIXELS = 16  # pixels that must share a channel's brightest value for it to be a clip level
PERSISTENT_FRAMES = 6  # evidence frames the persistence score needs (its clip caps one at 2.5)
# a persistence score must also stand this many times above the RMS score of the pixels 3 to 7 px
# around it (their local null): where the content's evidence frames are not independent (a pan
# going back and forth over the same few pixels, upscaled or soft footage, people walking) the
# scores of every pixel there spread wider, and the fixed --persistence alone would pass some
LOCAL_NULL = 6.0
NULL_CAP = 2.5  # a pixel's score counts at most this much in its neighbours' RMS (a defect there)
# a pixel that came within this share of a clip level (1/8 stop) is held by the ceiling: in
# display-referred video the top codes are compressed, and a highlight there barely varies
NEAR_CLIP = 2.0**-0.125
# the footprint test (a lone photosite sharper than the optics, with a constant offset)
FOOTPRINT_FRAMES = 8  # frames it needs
FOOTPRINT_SHARE = 0.9  # share of the frames in which it must depart the same way
SHARPER = 1.0 / 3.0  # its spill at most this share of a point source's through the optics
MAX_SPILL = 0.25  # and at most this, however soft the optics
STEADY_NOISE = 2.0  # its excess varies at most this many times its neighbours' excess does,
STEADY_SHARE = 0.15  # plus this share of the excess (dark current's own shot noise, twinkle)
DRIFT_SHARE = 0.25  # its excess drifts over the shot by at most this share (a star moving off)
# its excess follows the level around it at most this share of the way a scene light's would
# (an offset: 0; a light, which scales with the exposure: 1; stuck, a fixed value: -1)
FOLLOW_SHARE = 0.5
# a much brighter pixel within 3 px outshines it: a light's ringing (sharp resampling) or
# diffraction puts lobes beside it that are as sharp as a photosite
OUTSHONE = 4.0
_RING8 = np.array([[1, 1, 1], [1, 0, 1], [1, 1, 1]], dtype=bool)


@dataclass(frozen=True)
class SensorParams:
    """Everything that changes what ``hotpixel sensor`` finds. Stored in ``sensor.json``."""

    sigma: float = param_field(
        3.0,
        "A pixel departs from its neighbourhood in a frame when it differs by this many local "
        "noise sigmas (and by at least ~0.1 stop).",
        range=(1.0, 50.0),
    )
    min_evidence: int = param_field(
        4,
        "Frames with camera motion (or a changed picture) needed before a position can be "
        "confirmed by motion.",
        range=(2, 10000),
    )
    coverage: float = param_field(
        0.45,
        "Share of the evidence frames in which a defect must depart from its neighbours.",
        range=(0.0, 1.0),
    )
    consistency: float = param_field(
        0.9,
        "Share of its departures that must go the same way (all darker or all brighter).",
        range=(0.5, 1.0),
    )
    persistence: float = param_field(
        3.5,
        "Persistence score (signed sum of unexplained departures over the evidence frames, in "
        "local noise sigmas, over the square root of their count) at which a position is "
        "confirmed by motion even when it rarely crosses --sigma; 0 turns this test off.",
        range=(0.0, 1000.0),
    )
    stuck_ratio: float = param_field(
        0.2,
        "A photosite is invariant when its variation in time is at most this share of its "
        "neighbours', overall and in every channel whose neighbours vary (dead and stuck "
        "pixels).",
        range=(0.0, 1.0),
    )
    min_frames: int = param_field(
        4,
        "Frames needed before invariance (no variation in time) counts as evidence.",
        range=(2, 10000),
    )
    dead_level: float = param_field(
        0.1,
        "A defect at most this share of its neighbours' level (linear) is dead.",
        range=(0.0, 1.0),
    )
    max_cluster: int = param_field(
        16,
        "Largest cluster of adjacent defective photosites reported; one-pixel-wide column or "
        "row segments may be longer (up to max_segment).",
        range=(1, 10000),
    )
    max_segment: int = param_field(
        4096, "Longest dead column or row segment reported, in pixels.", range=(1, 100000)
    )


@dataclass
class PixelMaps:
    """Per-pixel decisions, all ``(H, W)``."""

    motion: np.ndarray  # bool: confirmed by motion
    invariant: np.ndarray  # bool: confirmed by invariance
    support: np.ndarray  # bool: departs the same way in most frames (cluster growth, candidates)
    sign: np.ndarray  # int8: +1 brighter, -1 darker than the neighbourhood
    confidence: np.ndarray  # float32 0..1
    kind: np.ndarray  # int8 index into KINDS
    response: np.ndarray  # float32: pixel level / neighbourhood level (linear, brightest channel)
    mean_rgb: np.ndarray  # (H, W, 3) float32 mean linear colour
    variation: np.ndarray  # float32: its variation in time / its neighbours' (mean of channels)
    footprint: np.ndarray  # bool: confirmed by its footprint (a lone photosite, constant offset)
    figures: Footprint  # the footprint test's per-pixel figures, for the reasons


@dataclass
class Footprint:
    """The footprint test's figures, ``(H, W)`` float32 each, and the picture's optics."""

    optics: lens.Optics
    bound: float | None  # the spill a defect may have (None: the optics could not be measured)
    spill: np.ndarray  # light beside it over its own excess (noise allowed for)
    excess: np.ndarray  # its mean linear excess over its neighbourhood
    wobble: np.ndarray  # its excess's variation in time over its neighbours' excess's
    drift: np.ndarray  # its excess's change from the first frame to the last, over the excess
    level_change: np.ndarray  # the neighbourhood's variation in time over its level
    follows: np.ndarray  # how far its excess follows that level: 0 an offset, 1 a scene light


KINDS = ("dead", "stuck", "hot")


def pixel_maps(stats: ShotStats, p: SensorParams) -> PixelMaps:
    """Decide every photosite from the accumulated statistics."""
    n = np.maximum(stats.n, 1)[..., None]
    mean_lin = stats.sum_lin / n
    # variation in linear: a hot photosite adds an offset and keeps its neighbours' variation,
    # a stuck or dead one loses it
    std = np.sqrt(np.maximum(stats.sum_lin2 / n - mean_lin * mean_lin, 0.0)).astype(np.float32)
    neigh_std = median5(std)
    mean_rgb = mean_lin.astype(np.float32)
    level = np.maximum(mean_rgb.max(axis=-1), 0.0)
    response = (level / np.maximum(median5(level), 1e-6)).astype(np.float32)

    motion, m_sign, m_conf = _motion_test(stats, p)
    invariant, i_conf = _invariance_test(stats, std, neigh_std, mean_lin, p)
    mean_r = (stats.sum_r / n).max(axis=-1), (stats.sum_r / n).min(axis=-1)
    r_sign = np.where(mean_r[0] >= -mean_r[1], 1, -1).astype(np.int8)
    support = _support(stats)
    footprint, f_conf, figures = _footprint_test(stats, r_sign, std, p)
    sign = np.where(motion, m_sign, r_sign).astype(np.int8)
    flat = std.mean(axis=-1) <= max(p.stuck_ratio, KIND_FLAT) * neigh_std.mean(axis=-1)
    enough = stats.n >= p.min_frames
    # black reads dead whatever its noise; a constant non-black value is stuck; a photosite far
    # below its neighbours that still follows the scene (low response) counts as dead too
    dead = (sign < 0) & (level <= BLACK) & (response <= 0.5)
    stuck = ~dead & (invariant | (flat & enough))
    dead |= ~stuck & (sign < 0) & (response <= p.dead_level)
    kind = np.where(dead, 0, np.where(stuck, 1, np.where(sign > 0, 2, 0))).astype(np.int8)
    confidence = np.maximum(m_conf * motion, i_conf * invariant)
    confidence = np.maximum(confidence, f_conf * footprint).astype(np.float32)
    variation = (std.mean(axis=-1) / np.maximum(neigh_std.mean(axis=-1), 1e-12)).astype(np.float32)
    return PixelMaps(
        motion,
        invariant,
        support,
        sign,
        confidence,
        kind,
        response,
        mean_rgb,
        variation,
        footprint,
        figures,
    )


def _footprint_test(
    stats: ShotStats, sign: np.ndarray, std: np.ndarray, p: SensorParams
) -> tuple[np.ndarray, np.ndarray, Footprint]:
    """A lone bright photosite sharper than the optics whose offset over its neighbourhood
    holds constant: confirmed without motion (a locked-off shot). ``sign`` ``(H, W)`` is the
    way it departs; ``std`` ``(H, W, 3)`` its variation in time."""
    n = np.maximum(stats.n, 1).astype(np.float64)
    t = _over_time(stats, n)
    size = np.maximum(t.excess, 1e-12)
    # the mean picture: light beside it, measured against its own neighbourhood's level
    grey = (stats.sum_lin / n[..., None]).mean(axis=-1).astype(np.float32)
    level = median5(grey)
    beside = ndimage.maximum_filter(grey, footprint=_RING8, mode="nearest") - level
    spill = (beside - 2.0 * t.noise / np.sqrt(n)) / size  # the mean's noise allowed for
    optics = lens.measure(grey)
    bound = None if optics.spill is None else min(MAX_SPILL, SHARPER * optics.spill)
    figures = Footprint(
        optics=optics,
        bound=bound,
        spill=spill.astype(np.float32),
        excess=t.excess.astype(np.float32),
        wobble=(t.wobble / t.noise).astype(np.float32),
        drift=(t.drift / size).astype(np.float32),
        level_change=(median5(std.mean(axis=-1)) / np.maximum(level, 1e-12)).astype(np.float32),
        follows=np.clip(t.gain / np.maximum(t.light, 1e-12), -9.0, 9.0).astype(np.float32),
    )
    if bound is None:
        return np.zeros(sign.shape, bool), np.zeros(sign.shape, np.float32), figures
    ok = (
        (stats.n >= max(p.min_frames, FOOTPRINT_FRAMES))
        & (stats.pos_all.max(axis=-1) >= FOOTPRINT_SHARE * stats.n)
        & (stats.neg_all.min(axis=-1) <= (1.0 - FOOTPRINT_SHARE) * stats.n)
        & (sign > 0)  # a hot or stuck-bright photosite: a lone dark dot is left to the others
        & (t.excess > 0)
        # enough to be seen, as for the other tests: ~0.2 stop (a still block a code off is not)
        & ((stats.sum_r / n[..., None]).max(axis=-1) >= PERSISTENT_FLOOR)
        & (spill <= bound)
        & (ndimage.maximum_filter(grey, size=7, mode="nearest") <= OUTSHONE * grey)
        & (t.wobble <= STEADY_NOISE * t.noise + STEADY_SHARE * size)
        & (np.abs(t.drift) <= DRIFT_SHARE * size + 3.0 * t.drift_noise)
        & (t.gain <= FOLLOW_SHARE * np.abs(t.light) + 3.0 * t.gain_noise)
        & ~clipped(stats)
    )
    sharp = np.clip(1.0 - spill / max(bound, 1e-6), 0.0, 1.0)
    conf = sharp * (1.0 - np.exp(-stats.n.astype(np.float32) / FOOTPRINT_FRAMES))
    return ok, conf.astype(np.float32), figures


@dataclass
class _Steady:
    """How each photosite's linear excess over its neighbourhood behaves over the shot, all
    ``(H, W)`` float64: its mean, its variation in time and its neighbours' (their noise), its
    drift from the first frame to the last, and its slope against the level around it
    (``gain``) beside a scene light's (``light``: excess over level), with the noise allowed
    on the drift and on that slope."""

    excess: np.ndarray
    wobble: np.ndarray
    noise: np.ndarray
    drift: np.ndarray
    drift_noise: np.ndarray
    gain: np.ndarray
    light: np.ndarray
    gain_noise: np.ndarray


def _over_time(stats: ShotStats, n: np.ndarray) -> _Steady:
    e = stats.sum_e / n
    var_e = np.maximum(stats.sum_e2 / n - e * e, 0.0)
    t_mean = stats.sum_t / n
    var_t = np.maximum(stats.sum_t2 / n - t_mean * t_mean, 1e-12)
    slope = (stats.sum_et / n - e * t_mean) / var_t
    span = np.sqrt(12.0 * var_t)  # first to last frame, for frames evenly spread
    # a scene light scales with the exposure (excess / level constant); dark charge does not
    b = stats.sum_b / n
    var_b = np.maximum(stats.sum_b2 / n - b * b, 1e-30)
    gain = (stats.sum_eb / n - e * b) / var_b
    wobble = np.sqrt(var_e)
    return _Steady(
        excess=e,
        wobble=wobble,
        noise=np.maximum(median5(wobble.astype(np.float32)), 1e-12).astype(np.float64),
        drift=slope * span,
        # the slopes' standard errors, the drift's over the span
        drift_noise=np.sqrt(np.maximum(var_e - slope * slope * var_t, 0.0) / (n * var_t)) * span,
        gain=gain,
        light=e / np.maximum(np.abs(b), 1e-12),
        gain_noise=np.sqrt(np.maximum(var_e - gain * gain * var_b, 0.0) / (n * var_b)),
    )


def _motion_test(stats: ShotStats, p: SensorParams) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Counting test (departures crossing ``sigma``) or persistence score, whichever passes."""
    passed, sign, conf = _counting_test(stats, p)
    if p.persistence <= 0:
        return passed, sign, conf
    s_pass, s_sign, s_conf = _persistence_test(stats, p)
    sign = np.where(passed, sign, s_sign).astype(np.int8)
    return passed | s_pass, sign, np.maximum(conf * passed, s_conf * s_pass).astype(np.float32)


def _persistence_test(
    stats: ShotStats, p: SensorParams
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    score = stats.sum_un / np.sqrt(np.maximum(stats.n_ev, 1).astype(np.float32))[..., None]
    # a departure must also be large enough to matter: on average at least PERSISTENT_FLOOR the
    # same way, or a photosite a few percent off in gain (fixed-pattern response, invisible in
    # a picture) would build a score over a long shot
    mean_r = stats.sum_r / np.maximum(stats.n, 1)[..., None]
    score = np.where(np.sign(score) * mean_r >= PERSISTENT_FLOOR, score, np.float32(0.0))
    high, low = score.max(axis=-1), -score.min(axis=-1)
    sign = np.where(high >= low, 1, -1).astype(np.int8)
    strength = np.maximum(high, low)
    # a photosite far off its neighbours moves their 5x5 median its way, so pixels within 2 px
    # depart slightly the other way in every frame: its shadow, not a defect. A pixel with an
    # opposite-signed neighbour at least twice as strong in that window is not confirmed.
    window = (5, 5)
    brighter = ndimage.maximum_filter(np.where(sign > 0, strength, 0.0), size=window)
    darker = ndimage.maximum_filter(np.where(sign < 0, strength, 0.0), size=window)
    opposite = np.where(sign > 0, darker, brighter)
    enough = stats.n_ev >= max(p.min_evidence, PERSISTENT_FRAMES)
    passed = (
        enough
        & (strength >= p.persistence)
        & (opposite < 2.0 * strength)
        & (strength >= LOCAL_NULL * _local_null(stats.sum_un, stats.n_ev, enough))
    )
    # 0.5 at the threshold, 0.75 at twice it
    conf = 1.0 - np.exp2(-strength / max(p.persistence, 1e-6))
    return passed, sign, conf.astype(np.float32)


def _local_null(sum_un: np.ndarray, n_ev: np.ndarray, enough: np.ndarray) -> np.ndarray:
    """RMS persistence score ``(H, W)`` of the pixels 3 to 7 px around each pixel that have
    enough evidence frames, each capped at :data:`NULL_CAP` (unsigned, unfloored, strongest
    channel).

    The fixed ``--persistence`` threshold assumes that content passing under a photosite adds
    either sign independently from frame to frame. Where it does not (a pan going back and forth
    over the same stretch of scene, footage softer than its pixels, people walking through) the
    scores of all pixels there spread wider, and this measures by how much."""
    score = sum_un / np.sqrt(np.maximum(n_ev, 1).astype(np.float32))[..., None]
    strongest = np.abs(score).max(axis=-1)
    weight = enough.astype(np.float32)
    sq = np.minimum(strongest * strongest, np.float32(NULL_CAP**2)) * weight
    total = _ring_sum(sq.astype(np.float32))
    count = _ring_sum(weight)
    out: np.ndarray = np.sqrt(np.maximum(total, 0.0) / np.maximum(count, 1.0))
    return out


def _ring_sum(a: np.ndarray) -> np.ndarray:
    """Sum over the ring between 5x5 and 15x15 around each pixel: a cluster and its shadow in the
    median stay out of it. ``(H, W)`` or ``(H, W, C)`` (per channel)."""
    size = (15, 15) + (1,) * (a.ndim - 2)
    inner = (5, 5) + (1,) * (a.ndim - 2)
    big = ndimage.uniform_filter(a, size=size) * np.float32(225.0)
    small = ndimage.uniform_filter(a, size=inner) * np.float32(25.0)
    out: np.ndarray = big - small
    return out


def _chance(stats: ShotStats, same: np.ndarray, unexplained: np.ndarray) -> np.ndarray:
    """Probability ``(H, W, 3)`` of at least ``unexplained`` same-way departures in a pixel's
    evidence frames by chance, at the rate the pixels 3 to 7 px around it depart that way in theirs.

    Real moving content (clothing, foliage, compression) departs often, and a photosite that
    only a few frames of moving content passed over can look consistent by luck; the rate is
    floored at :data:`MIN_RATE` so that flat ground never makes a chance coincidence look
    significant."""

    # the ring between 5x5 and 15x15: a cluster and its shadow in the median do not count
    rate = _ring_sum(same.astype(np.float32)) / np.maximum(
        _ring_sum(stats.n_ev.astype(np.float32)[..., None]), 1e-6
    )
    rate = np.clip(rate, MIN_RATE, 0.9)
    n = np.broadcast_to(stats.n_ev[..., None], same.shape)
    out: np.ndarray = binom.sf(unexplained - 1, n, rate)
    return out


def _counting_test(stats: ShotStats, p: SensorParams) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    ev = stats.n_ev[..., None].astype(np.float32)
    best = np.zeros(stats.n_ev.shape, np.float32)
    sign = np.zeros(stats.n_ev.shape, np.int8)
    for s, same, other, unexplained in (
        (1, stats.pos_ev, stats.neg_ev, stats.pos_un),
        (-1, stats.neg_ev, stats.pos_ev, stats.neg_un),
    ):
        ok = (
            (ev >= p.min_evidence)
            & (same >= p.coverage * ev)
            & (same >= p.consistency * (same + other))
            & (unexplained >= 0.5 * same)
            & (unexplained >= MIN_UNEXPLAINED)
        )
        if ok.any():
            ok &= _chance(stats, same, unexplained) <= CHANCE
        score = np.where(ok, unexplained / np.maximum(ev, 1.0), 0.0).max(axis=-1)
        better = score > best
        sign[better] = s
        best = np.maximum(best, score)
    passed = best > 0
    # 1 - exp(-k/3) over the unexplained evidence frames: 4 frames ~0.7, 10 frames ~0.96
    conf = best * (1.0 - np.exp(-stats.n_ev.astype(np.float32) * best / 3.0))
    return passed, sign, conf.astype(np.float32)


def _invariance_test(
    stats: ShotStats,
    std: np.ndarray,
    neigh_std: np.ndarray,
    mean_lin: np.ndarray,
    p: SensorParams,
) -> tuple[np.ndarray, np.ndarray]:
    """Invariant: varies at most ``stuck_ratio`` as much as its neighbours do, *and* as much as
    any pixel at its own level does in this shot (the shot's noise model). The second test keeps
    a static black dot of the scene, whose noise is low because its signal is, from passing."""
    own = std.mean(axis=-1)
    around = neigh_std.mean(axis=-1)
    level = mean_lin.mean(axis=-1)
    expected = noise_model(level, own)
    reference = np.minimum(around, expected)
    ratio = own / np.maximum(reference, 1e-9)
    # neighbours that barely vary (clipped, noise-free CG, quantised blacks) prove nothing
    floor = np.maximum(0.003 * np.abs(median5(level)), 1e-5)
    # and in every channel whose neighbours vary: compressed video holds some pixels of a static
    # scene still in one channel (quantised, copied blocks) while another follows the grain
    # a channel held at black while another is not (the blue of dark grass) is the picture's floor
    black = mean_lin <= BLACK
    judged = (neigh_std >= floor[..., None]) & (~black | black.all(axis=-1, keepdims=True))
    worst = np.where(judged, std / np.maximum(neigh_std, 1e-9), 0.0).max(axis=-1)
    n = stats.n.astype(np.float32)
    # and it departs from them enough to matter, as for the persistence score: in compressed
    # video a static block is copied from frame to frame, exactly still, a code or two off its
    # flickering neighbours; a stuck photosite that close to its surroundings is not visible
    # (in the channels judged: one held at black departs in tone by its quantisation alone)
    mean_r = np.abs(stats.sum_r / np.maximum(stats.n, 1)[..., None])
    mean_r = np.where(judged, mean_r, 0.0).max(axis=-1)
    ok = (
        (stats.n >= p.min_frames)
        & (mean_r >= PERSISTENT_FLOOR)
        & ~clipped(stats)
        & (reference >= floor)
        & (ratio <= p.stuck_ratio)
        & (worst <= p.stuck_ratio)
        & judged.any(axis=-1)
        & (stats.seen >= p.coverage * n)
    )
    conf = (1.0 - ratio / max(p.stuck_ratio, 1e-6)) * (1.0 - np.exp(-n / 4.0))
    return ok, np.clip(conf, 0.0, 1.0).astype(np.float32)


def clipped(stats: ShotStats) -> np.ndarray:
    """``(H, W)`` bool: pixels within 2 px of one that came within 1/8 stop of the shot's
    ceiling in some channel and frame.

    The ceiling is a channel's brightest value in the shot, when at least :data:`CLIP_PIXELS`
    pixels reach it (a clip level, such as 1.0 in display-referred video, not one glint). A
    clipped highlight does not vary either, but that is the picture, not a stuck photosite; a
    photosite stuck at the clip level is left to the motion test.
    """
    top = stats.max_lin.reshape(-1, 3).max(axis=0)  # (3,) per channel
    at_top = stats.max_lin >= np.float32(0.999) * top
    shared = at_top.reshape(-1, 3).sum(axis=0) >= CLIP_PIXELS
    # within 1/8 stop of it: display-referred video compresses its top codes, and a highlight
    # there holds still while the edge of the highlight beside it flickers
    near = stats.max_lin >= np.float32(NEAR_CLIP) * top
    # and the pixels beside it: resampling and blur hold them near the clip level as well
    out: np.ndarray = ndimage.binary_dilation((near & shared).any(axis=-1), _EIGHT, 2)
    return out


def noise_model(level: np.ndarray, std: np.ndarray, min_pixels: int = 64) -> np.ndarray:
    """Typical variation in time at each pixel's level: the median ``std`` of all pixels in its
    half-stop band of ``level`` (linear), interpolated between bands. ``(H, W)`` in and out."""
    stops = np.log2(np.maximum(level, 2.0**-14))
    band = np.floor(stops * 2.0).astype(np.int32).ravel()
    order = np.argsort(band, kind="stable")
    sorted_band = band[order]
    values = std.ravel()[order]
    edges = np.flatnonzero(np.diff(sorted_band)) + 1
    centres, medians = [], []
    for chunk_b, chunk_v in zip(np.split(sorted_band, edges), np.split(values, edges), strict=True):
        if chunk_v.size >= min_pixels:
            centres.append(chunk_b[0] / 2.0 + 0.25)
            medians.append(float(np.median(chunk_v)))
    if not centres:
        return np.full(level.shape, np.inf, np.float32)
    out: np.ndarray = np.interp(stops, centres, medians).astype(np.float32)
    return out


def _support(stats: ShotStats) -> np.ndarray:
    """Pixels departing the same way in at least 60% of their frames (any channel)."""
    n = np.maximum(stats.n, 1)[..., None]
    same = np.maximum(stats.pos_all, stats.neg_all)
    other = np.minimum(stats.pos_all, stats.neg_all)
    ok = (same >= 0.6 * n) & (other <= 0.1 * n)
    out: np.ndarray = ok.any(axis=-1) & (stats.n > 0)
    return out


@dataclass
class Cluster:
    """One defective position: a photosite or a group of adjacent ones."""

    pixels: np.ndarray  # (N, 2) int: column, row on the canvas
    kind: str
    confidence: float
    evidence: str  # "motion", "invariance", "footprint" or several joined by "+"
    response: float
    mean_rgb: tuple[float, float, float]


def clusters(maps: PixelMaps, p: SensorParams) -> tuple[list[Cluster], int]:
    """Group confirmed photosites; return the clusters and the count of oversized regions."""
    confirmed = maps.motion | maps.invariant | maps.footprint
    if not confirmed.any():
        return [], 0
    # a footprint photosite is confirmed because it is alone: it seeds no growth
    seeds = maps.motion | maps.invariant
    grown = ndimage.binary_propagation(seeds, structure=_EIGHT, mask=confirmed | maps.support)
    grown |= maps.footprint
    labels, _ = ndimage.label(grown, structure=_EIGHT)
    found: list[Cluster] = []
    oversized = 0
    for index, box in enumerate(ndimage.find_objects(labels), start=1):
        if box is None:
            continue
        sub = labels[box] == index
        rows, cols = np.nonzero(sub)
        rows, cols = rows + box[0].start, cols + box[1].start
        h, w = sub.shape
        segment = min(h, w) == 1 and max(h, w) <= p.max_segment
        if rows.size > p.max_cluster and not segment:
            oversized += 1
            continue
        found.append(_cluster(maps, confirmed, rows, cols))
    return found, oversized


def _cluster(maps: PixelMaps, confirmed: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> Cluster:
    core = confirmed[rows, cols]
    kinds = np.bincount(maps.kind[rows, cols][core], minlength=len(KINDS))
    kind = KINDS[int(np.argmax(kinds))]  # ties go to the first: dead, then stuck, then hot
    on = {
        "motion": bool(maps.motion[rows, cols].any()),
        "invariance": bool(maps.invariant[rows, cols].any()),
        "footprint": bool(maps.footprint[rows, cols].any()),
    }
    evidence = "+".join(e for e, yes in on.items() if yes)
    rgb = maps.mean_rgb[rows, cols].mean(axis=0)
    return Cluster(
        pixels=np.stack([cols, rows], axis=1),
        kind=kind,
        confidence=float(maps.confidence[rows, cols].max()),
        evidence=evidence,
        response=float(np.median(maps.response[rows, cols])),
        mean_rgb=(float(rgb[0]), float(rgb[1]), float(rgb[2])),
    )


def candidates(maps: PixelMaps, limit: int) -> tuple[list[tuple[int, int, int]], int]:
    """Unconfirmed positions: departing the same way in most frames, no motion or invariance.

    Returns up to ``limit`` ``(column, row, sign)``, those farthest from their neighbours'
    level first (a bright one before a faint one a list cut at ``limit`` would hide), and the
    total count.
    """
    unconfirmed = maps.support & ~(maps.motion | maps.invariant | maps.footprint)
    rows, cols = np.nonzero(unconfirmed)
    total = int(rows.size)
    off = np.abs(np.log(np.maximum(maps.response[rows, cols], 1e-6)))
    order = np.argsort(-off, kind="stable")[:limit]
    keep = [(int(cols[i]), int(rows[i]), int(maps.sign[rows[i], cols[i]])) for i in order]
    return keep, total


def unconfirmed_reason(evidence_frames: int, frames: int, variation: float, p: SensorParams) -> str:
    """Why a candidate (:func:`candidates`) is not confirmed, in words: the motion test and
    the invariance test, each with the figure that failed it."""
    moved = f"moving content passed over it in {evidence_frames} frame(s)"
    if evidence_frames < p.min_evidence:
        motion = f"{moved}, {p.min_evidence} needed (--min-evidence)"
    else:
        motion = (
            f"{moved}, and it did not depart consistently enough there "
            "(--coverage, --consistency, --persistence)"
        )
    if frames < p.min_frames:
        still = f"seen in {frames} frame(s), {p.min_frames} needed (--min-frames)"
    else:
        still = (
            f"it varies in time {variation:.2f}x as much as its neighbours, and invariance "
            f"needs at most {p.stuck_ratio}x (--stuck-ratio)"
        )
    return f"not confirmed by motion: {motion}; not invariant: {still}"
