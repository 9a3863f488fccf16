"""The cascade classifier's training data: candidates from real video and stills, labelled.

The candidate stage runs on each window exactly as in detection
(:func:`~hotpixel.detect.cascade.stage.find_candidates`,
:func:`~hotpixel.detect.cascade.encoding.encode_window`); a candidate is positive when it lies
on an injected defect's footprint (grown 1 px), negative otherwise: real scene content that got
past the candidate stage (glints, edges, motion the flow missed), which is what the classifier
must learn to reject. Each candidate also carries the detector's second opinion
(:func:`~hotpixel.detect.cascade.spot.opinions`), so that rates and thresholds are those of the
whole decision. :func:`rates` and :func:`choose_threshold` score a classifier's probabilities on
a :class:`Batch` as the evaluation does: a defect is found when a kept candidate lies on its
footprint.
"""

from __future__ import annotations

import functools
import itertools
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from hotpixel.detect.cascade import candidates as cand
from hotpixel.detect.cascade.encoding import CHANNELS, PATCH, SCALARS, Encoded, encode_window
from hotpixel.detect.cascade.spot import opinions, overrule
from hotpixel.detect.cascade.stage import find_candidates
from hotpixel.detect.motion import MotionCache
from hotpixel.ml import realvideo
from hotpixel.ml.evaluation.harness import THRESHOLDS
from hotpixel.ml.synth.defects import Defect
from hotpixel.ml.synth.plates import load_plate, training_plate_names
from hotpixel.ml.synth.windows import WindowConfig, make_window

HD = 1920 * 1080
PARTICLES = 2.0  # sparks, rain, dust born a frame in the segments of PARTICLE_MOTIONS
PARTICLE_MOTIONS = ("locked", "handheld")
CANDIDATE_THRESHOLD = 4.0  # sigmas: the classifier sees borderline candidates too


@dataclass
class Batch:
    """Encoded candidates with labels: ``label`` 1 on defects; ``contrast`` of the defect hit
    (0 on negatives); ``pixels`` of the frame they came from, for per-frame rates."""

    encoded: Encoded
    label: np.ndarray  # (N,) float32
    contrast: np.ndarray  # (N,) float32
    frames: int
    pixels: int
    defects: int  # injected defects (the recall denominator)
    defects_contrast: np.ndarray  # (D,) contrast of every injected defect
    region: np.ndarray  # (N,) int64 the defect footprint a candidate lies on (0: none)
    defect_region: np.ndarray  # (D,) int64 each defect's footprint id (unique over the batch)
    opinion: np.ndarray  # (N,) int8: the detector's second opinion (spot.opinions)


def _label(
    found: cand.Candidates, target: np.ndarray, defects: list[Defect]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per candidate: on a defect (label), that defect's contrast, the footprint's id; per
    defect: its footprint's id (footprints grown 1 px; several defects may share one)."""
    regions, _ = ndimage.label(target > 0, np.ones((3, 3), int))
    grown = ndimage.grey_dilation(regions, size=(3, 3))
    on = grown[found.y, found.x]
    label = (on > 0).astype(np.float32)
    region_contrast: dict[int, float] = {}
    h, w = target.shape
    for d in defects:
        y, x = min(max(int(d.y), 0), h - 1), min(max(int(d.x), 0), w - 1)
        rid = int(grown[y, x])
        if rid:
            region_contrast[rid] = max(region_contrast.get(rid, 0.0), d.contrast)
    contrast = np.array([region_contrast.get(int(r), 0.0) for r in on], np.float32)
    ids = np.array(
        [grown[min(max(int(d.y), 0), h - 1), min(max(int(d.x), 0), w - 1)] for d in defects],
        np.int64,
    )
    return label, contrast, on.astype(np.int64), ids


def video_windows(
    split: str, motions: tuple[str, ...], frames: int, rng: np.random.Generator, defects: int = 6
) -> Iterator[tuple[np.ndarray, list[int], np.ndarray, list[Defect]]]:
    """:func:`clip_windows` of every clip of ``realvideo.SPLITS[split]``, one rng for all."""
    for clip in realvideo.SPLITS[split]:
        yield from clip_windows(clip, motions, frames, rng, defects)


def clip_windows(
    clip: str, motions: tuple[str, ...], frames: int, rng: np.random.Generator, defects: int = 6
) -> Iterator[tuple[np.ndarray, list[int], np.ndarray, list[Defect]]]:
    """``(window (5, H, W, 3), numbers, centre target (H, W), centre defects)`` from a real
    clip: ``frames`` centre frames per motion; each frame has its own defects, and the
    segments of :data:`PARTICLE_MOTIONS` fast small bright things crossing the picture
    (:data:`PARTICLES` born a frame) as hard negatives. The segment's first and last two
    frames come too, their windows mirrored as a run makes them at a sequence's ends and beside
    a gap (:func:`hotpixel.ml.realvideo.window_indices`)."""
    for motion in motions:
        crossing = PARTICLES if motion in PARTICLE_MOTIONS else 0.0
        seg = realvideo.defected_clip(clip, motion, frames, rng, defects, particles=crossing)
        for c in range(len(seg.frames)):
            idx = realvideo.window_indices(c, len(seg.frames))
            yield seg.frames[idx], idx, seg.targets[c], seg.defects[c]


def still_windows(
    count: int, rng: np.random.Generator, size: tuple[int, int] = (256, 192), points: int = 10
) -> Iterator[tuple[np.ndarray, list[int], np.ndarray, list[Defect]]]:
    """Generator windows over the bundled training stills, hard negatives included: up to
    ``points`` persistent lights per window (still, moving with the scene or on their own)."""
    plates = [load_plate(n) for n in training_plate_names()]
    config = WindowConfig(size=size, defects=(2, 8), points=(2, points), speed=(0.0, 8.0))
    for _ in range(count):
        s = make_window(plates, rng, config)
        yield s.frames, [0, 1, 2, 3, 4], s.target, s.defects


def collect(
    windows: Iterator[tuple[np.ndarray, list[int], np.ndarray, list[Defect]]],
    params: cand.CandidateParams,
    preset: str = "medium",
) -> Batch:
    """Run the candidate stage on every window; encode and label the candidates."""
    enc_p: list[np.ndarray] = []
    enc_s: list[np.ndarray] = []
    labels: list[np.ndarray] = []
    contrasts: list[np.ndarray] = []
    all_contrast: list[float] = []
    regions: list[np.ndarray] = []
    defect_regions: list[np.ndarray] = []
    said: list[np.ndarray] = []
    frames = pixels = defects = 0
    cache = MotionCache(preset)
    last: list[int] | None = None
    for window, numbers, target, placed in windows:
        t = len(numbers) // 2
        if last is None or numbers[t] != last[t] + 1:
            cache = MotionCache(preset)  # a new segment: frame numbers start again
        last = numbers
        done = find_candidates(list(window), numbers, cache, params, cache.workers)
        found = done.found
        e = encode_window(done, PATCH)
        said.append(opinions(done))
        label, contrast, on, ids = _label(found, target, placed)
        offset = (frames + 1) << 20  # footprint ids unique over the batch; 0 stays "none"
        regions.append(np.where(on > 0, on + offset, 0))
        defect_regions.append(np.where(ids > 0, ids + offset, -1 - np.arange(len(ids))))
        enc_p.append(e.patches)
        enc_s.append(e.scalars)
        labels.append(label)
        contrasts.append(contrast)
        all_contrast.extend(d.contrast for d in placed)
        frames += 1
        pixels += window.shape[1] * window.shape[2]
        defects += len(placed)
    if not enc_p:  # no windows: an empty batch
        enc_p, enc_s = [np.zeros((0, CHANNELS, PATCH, PATCH), np.float32)], [_no_scalars()]
        labels = contrasts = regions = defect_regions = [np.zeros(0, np.float32)]
        said = [np.zeros(0, np.int8)]
    return Batch(
        Encoded(np.concatenate(enc_p), np.concatenate(enc_s)),
        np.concatenate(labels),
        np.concatenate(contrasts),
        frames,
        pixels,
        defects,
        np.asarray(all_contrast, np.float32),
        np.concatenate(regions),
        np.concatenate(defect_regions),
        np.concatenate(said),
    )


def _no_scalars() -> np.ndarray:
    return np.zeros((0, len(SCALARS)), np.float32)


def join(a: Batch, b: Batch) -> Batch:
    """Two batches as one (footprint ids of ``b`` moved past ``a``'s)."""
    shift = int(max(a.region.max(initial=0), a.defect_region.max(initial=0))) + 1
    return Batch(
        Encoded(
            np.concatenate([a.encoded.patches, b.encoded.patches]),
            np.concatenate([a.encoded.scalars, b.encoded.scalars]),
        ),
        np.concatenate([a.label, b.label]),
        np.concatenate([a.contrast, b.contrast]),
        a.frames + b.frames,
        a.pixels + b.pixels,
        a.defects + b.defects,
        np.concatenate([a.defects_contrast, b.defects_contrast]),
        np.concatenate([a.region, np.where(b.region > 0, b.region + shift, 0)]),
        np.concatenate(
            [
                a.defect_region,
                np.where(b.defect_region > 0, b.defect_region + shift, b.defect_region),
            ]
        ),
        np.concatenate([a.opinion, b.opinion]),
    )


def join_all(batches: list[Batch]) -> Batch:
    """Several batches as one (:func:`join` in turn)."""
    return functools.reduce(join, batches)


def clip_batch(
    clip: str,
    motions: tuple[str, ...],
    frames: int,
    seed: int,
    params: cand.CandidateParams,
    preset: str = "medium",
) -> Batch:
    """The labelled candidates of one clip: ``frames`` centre frames per camera move, the rng
    seeded by ``(seed, clip)`` so a clip's data does not change when others are added."""
    rng = np.random.Generator(np.random.PCG64([seed, zlib.crc32(clip.encode())]))
    return collect(clip_windows(clip, motions, frames, rng), params, preset)


def rates(prob: np.ndarray, data: Batch, threshold: float) -> dict[str, float]:
    """Recall of defects (clear: contrast >= 1, i.e. at least 2x the local level; all: >= 0.5)
    and false alerts per 1080p-equivalent frame, at ``threshold``.

    A candidate is kept when its probability, with the second opinion applied as in detection
    (:func:`~hotpixel.detect.cascade.spot.overrule`), reaches ``threshold``. A defect is found
    when a kept candidate lies on its footprint; a false alert is a kept candidate on no
    footprint.
    """
    keep = overrule(prob, data.opinion) >= threshold
    hit = np.isin(data.defect_region, data.region[keep & (data.region > 0)])
    clear = data.defects_contrast >= 1.0
    some = data.defects_contrast >= 0.5
    scale = HD * data.frames / max(data.pixels, 1)
    return {
        "recall_clear": float(hit[clear].mean()) if clear.any() else 1.0,
        "recall_all": float(hit[some].mean()) if some.any() else 1.0,
        "false_alerts_per_frame": float((keep & (data.label == 0)).sum())
        / max(data.frames, 1)
        * scale,
    }


def reliability(prob: np.ndarray, label: np.ndarray, bins: int = 10) -> list[dict[str, float]]:
    """Calibration: per probability bin, the candidates in it and the share that are defects."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    out = []
    for lo, hi in itertools.pairwise(edges):
        inside = (prob >= lo) & ((prob < hi) | (hi == 1.0))
        share = float(label[inside].mean()) if inside.any() else float("nan")
        out.append(
            {"from": float(lo), "to": float(hi), "count": int(inside.sum()), "defects": share}
        )
    return out


def choose_threshold(prob: np.ndarray, data: Batch, recall: float, floor: float = 0.5) -> float:
    """The highest threshold (``floor`` at least) that keeps ``recall`` of the clear defects;
    ``floor`` where none does."""
    best = floor
    for t in THRESHOLDS:  # the evaluation's grid, so the operating point is one it reports
        if t >= floor and rates(prob, data, t)["recall_clear"] >= recall:
            best = t
    return best
