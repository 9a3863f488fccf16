"""Held-out real clips and clip-level cross-validation: one detector scored per clip and motion.

The held-out clips (:data:`hotpixel.ml.realvideo.HELDOUT`) are never trained or selected on;
:func:`evaluate` scores a detector on them, per clip and per motion class (locked, pan,
handheld), and :func:`cross_validate` scores one detector per fold on that fold's validation
clips (:func:`hotpixel.ml.realvideo.folds`), pooling the folds. The material is what the
real-motion set uses (:func:`hotpixel.ml.realvideo.defected_clip`: a camera move, every frame
with its own one-frame generator defects) and the matching is the harness's
(:func:`hotpixel.ml.evaluation.harness.score_map`): a detection within 2 px of a true
centroid is a hit, each truth matched once, highest score first.

Figures per cell (:func:`row`): recall of all defects (contrast >= 0.5 over the local level)
and of clear ones (>= 1.0, i.e. at least 2x the local level), false alerts per frame and per
1080p-equivalent frame, and false alerts on small persistent lights: the lights a made clip
knows of plus those :func:`hotpixel.ml.realvideo.small_lights` finds in the clean frames, over
the 5 frames of the window. :func:`summarise` adds per-clip, per-motion and pooled rows and the
spread over clips (mean, lowest, highest, and which clip is worst), not only the mean.

A detector is anything called like ``hotpixel.detect.detectors.create(DetectParams(...))``
returns: ``detector(Window) -> (H, W)`` probabilities, with a ``default_threshold``.
Windows are numbered as the frames of their segment, so a detector that caches flow by frame
number (the cascade) reuses it across a segment's windows, as in a real run.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from hotpixel.detect.windows import Window
from hotpixel.ml import realvideo
from hotpixel.ml.evaluation import real_motion
from hotpixel.ml.evaluation.harness import Scored, score_map
from hotpixel.ml.synth.windows import Sample

CLASSES = real_motion.CLASSES
SEGMENT = real_motion.SEGMENT
DEFECTS_PER_FRAME = real_motion.DEFECTS_PER_FRAME
FRAMES = 52  # centre frames per clip and motion class: two segments from two places
SEED = 28

Detector = Callable[[Window], np.ndarray]
Cells = dict[tuple[str, str], Scored]  # (clip, motion) -> counts


def segments(
    clip: str,
    motion: str,
    frames: int,
    seed: int,
    defects: int = DEFECTS_PER_FRAME,
    particles: float = 0.0,
) -> Iterator[realvideo.DefectedClip]:
    """``frames`` centre frames of ``clip`` moved as ``motion``, in segments of up to
    :data:`SEGMENT` from random places, with light maps (and ``particles`` fast small bright
    things crossing the picture per frame, counted with the lights). The rng is seeded by
    ``(seed, clip, motion)``, so a clip's segments do not change when other clips are added."""
    key = zlib.crc32(clip.encode())
    rng = np.random.Generator(np.random.PCG64([seed, key, CLASSES.index(motion)]))
    left = frames
    while left > 0:
        count = min(SEGMENT, left)
        yield realvideo.defected_clip(
            clip, motion, count, rng, defects, with_lights=True, particles=particles
        )
        left -= count


def samples(
    seg: realvideo.DefectedClip, ends: bool = False
) -> Iterator[tuple[Sample, tuple[int, ...]]]:
    """``(sample, frame numbers)`` per centre frame of ``seg`` with two frames on each side;
    ``sample.hard`` is the union of the window's light maps (a light that blinks or a window
    that switches off at the centre still counts as a light there). ``ends``: every frame of
    ``seg`` is a centre, the first and last two with their windows mirrored as a run makes them
    at a sequence's ends (:func:`hotpixel.ml.realvideo.window_indices`)."""
    lights = seg.lights
    n = len(seg.frames)
    for c in range(n) if ends else range(2, n - 2):
        idx = realvideo.window_indices(c, n)
        if lights is None:
            hard = np.zeros(seg.frames.shape[1:3], bool)
        else:
            hard = np.logical_or.reduce([lights[j] for j in idx])
        sample = Sample(seg.frames[idx], seg.targets[c], hard, seg.defects[c])
        yield sample, tuple(idx)


def score_ends(
    detector: Detector,
    clips: Iterable[str] = realvideo.HELDOUT,
    frames: int = FRAMES,
    seed: int = SEED,
    motions: Iterable[str] = CLASSES,
) -> dict[str, Scored]:
    """``{"ends": ..., "middle": ...}``: ``detector`` over every frame of each segment of
    ``clips``, the first and last two frames of a segment (mirrored windows, as at a sequence's
    ends or beside a gap) counted apart from the frames between."""
    out = {"ends": Scored(), "middle": Scored()}
    for clip in clips:
        for motion in motions:
            base = 0
            for seg in segments(clip, motion, frames, seed):
                n = len(seg.frames)
                for sample, numbers in samples(seg, ends=True):
                    c = numbers[len(numbers) // 2]
                    window = Window(tuple(sample.frames), tuple(base + j for j in numbers), 2)
                    part = "middle" if 2 <= c < n - 2 else "ends"
                    score_map(detector(window), sample, out[part])
                base += 100_000
    return out


def score_clip(
    detector: Detector,
    clip: str,
    motion: str,
    frames: int,
    seed: int,
    defects: int = DEFECTS_PER_FRAME,
    particles: float = 0.0,
) -> Scored:
    """One cell: ``detector`` over ``frames`` centre frames of ``clip`` as ``motion``."""
    out = Scored()
    base = 0
    for seg in segments(clip, motion, frames, seed, defects, particles):
        for sample, numbers in samples(seg):
            window = Window(tuple(sample.frames), tuple(base + n for n in numbers), 2)
            score_map(detector(window), sample, out)
        base += 100_000  # another stretch: numbers never meet the last segment's
    return out


def evaluate(
    detector: Detector,
    clips: Iterable[str] = realvideo.HELDOUT,
    frames: int = FRAMES,
    seed: int = SEED,
    motions: Iterable[str] = CLASSES,
    defects: int = DEFECTS_PER_FRAME,
    log: Callable[[str], None] | None = None,
    particles: float = 0.0,
) -> Cells:
    """``{(clip, motion): Scored}`` for ``detector`` over ``clips`` (default: the held-out
    clips) and ``motions``, ``frames`` centre frames each (``particles``: see
    :func:`segments`)."""
    out: Cells = {}
    for clip in clips:
        for motion in motions:
            out[clip, motion] = score_clip(detector, clip, motion, frames, seed, defects, particles)
            if log:
                log(f"{clip} {motion}: {out[clip, motion].frames} frames")
    return out


def cross_validate(
    detector_for: Callable[[realvideo.Fold], Detector],
    k: int = realvideo.DEFAULT_FOLDS,
    frames: int = FRAMES,
    seed: int = SEED,
    motions: Iterable[str] = CLASSES,
    log: Callable[[str], None] | None = None,
) -> dict[int, Cells]:
    """``{fold: cells}``: each fold's detector (``detector_for(fold)``, trained on
    ``fold.train``) scored on ``fold.validation``. Pool the folds with :func:`pool_folds`.
    The held-out clips are in no fold, so nothing here ever sees them."""
    out: dict[int, Cells] = {}
    for fold in realvideo.folds(k):
        detector = detector_for(fold)
        out[fold.index] = evaluate(detector, fold.validation, frames, seed, motions, log=log)
    return out


def pool_folds(by_fold: dict[int, Cells]) -> Cells:
    """The folds' cells side by side (every pooled clip validates in exactly one fold)."""
    return {cell: sc for cells in by_fold.values() for cell, sc in cells.items()}


def pooled(cells: Iterable[Scored]) -> Scored:
    """One :class:`Scored` holding the counts of all of ``cells``."""
    out = Scored()
    for sc in cells:
        real_motion.merge(out, sc)
    return out


def row(sc: Scored, threshold: float) -> dict[str, float]:
    """:func:`real_motion.row` (recall of clear and all defects, false alerts per frame and
    per 1080p-equivalent frame at the nearest swept threshold) plus false alerts on small
    lights (count and per frame), frames and the clear and all defects counted."""
    out = real_motion.row(sc, threshold)
    counts = sc.at[out["threshold"]]
    contrast = np.array(sc.contrast)
    out["false_alerts_on_lights"] = float(counts.false_on_hard)
    out["false_alerts_on_lights_per_frame"] = counts.false_on_hard / max(sc.frames, 1)
    out["frames"] = float(sc.frames)
    out["defects_clear"] = float((contrast >= 1.0).sum())
    out["defects_all"] = float((contrast >= 0.5).sum())
    return out


SPREAD_KEYS = ("recall_all", "recall_clear", "false_alerts_per_1080p_frame")


@dataclass(frozen=True)
class Summary:
    """Rows at one threshold: per cell, per clip, per motion class, pooled, and the spread of
    the per-clip rows (``{metric: {"mean", "min", "max", "worst"}}``; worst: the clip with the
    lowest recall or the most false alerts)."""

    threshold: float
    cells: dict[str, dict[str, float]]  # "clip/motion"
    clips: dict[str, dict[str, float]]
    motions: dict[str, dict[str, float]]
    pooled: dict[str, float]
    spread: dict[str, dict[str, Any]]

    def as_dict(self) -> dict[str, Any]:
        return {
            "threshold": self.threshold,
            "cells": self.cells,
            "clips": self.clips,
            "motions": self.motions,
            "pooled": self.pooled,
            "spread": self.spread,
        }


def summarise(cells: Cells, threshold: float) -> Summary:
    """Per-clip, per-motion and pooled rows of ``cells`` at ``threshold``, with the spread."""
    clips = list(dict.fromkeys(c for c, _ in cells))
    motions = list(dict.fromkeys(m for _, m in cells))
    per_clip = {
        c: row(pooled(sc for (k, _), sc in cells.items() if k == c), threshold) for c in clips
    }
    spread: dict[str, dict[str, Any]] = {}
    for key in SPREAD_KEYS:
        values = {c: r[key] for c, r in per_clip.items()}
        worst = max if key.startswith("false") else min
        spread[key] = {
            "mean": float(np.mean(list(values.values()))),
            "min": min(values.values()),
            "max": max(values.values()),
            "worst": worst(values, key=lambda c: values[c]),
        }
    return Summary(
        threshold=per_clip[clips[0]]["threshold"] if clips else threshold,
        cells={f"{c}/{m}": row(sc, threshold) for (c, m), sc in cells.items()},
        clips=per_clip,
        motions={
            m: row(pooled(sc for (_, k), sc in cells.items() if k == m), threshold) for m in motions
        },
        pooled=row(pooled(cells.values()), threshold),
        spread=spread,
    )


HEADS = ("frames", "clear", "all", "FA/frame", "FA/1080p", "on lights")
KEYS = (
    "frames",
    "recall_clear",
    "recall_all",
    "false_alerts_per_frame",
    "false_alerts_per_1080p_frame",
    "false_alerts_on_lights",
)


def format_summary(summary: Summary, title: str) -> str:
    """The table as text: per clip and motion, per clip, per motion, pooled, then the spread."""
    lines = [title, f"{'':<30}" + "".join(f"{h:>10}" for h in HEADS)]

    def block(name: str, rows: dict[str, dict[str, float]]) -> None:
        lines.append(name)
        for label, r in rows.items():
            cells = (
                f"{int(r[k]):>10d}"
                if k in ("frames", "false_alerts_on_lights")
                else f"{r[k]:>10.3f}"
                for k in KEYS
            )
            lines.append(f"  {label:<28}" + "".join(cells))

    block("per clip and motion", summary.cells)
    block("per clip", summary.clips)
    block("per motion", summary.motions)
    block("pooled", {"all": summary.pooled})
    lines.append("spread over clips (mean / lowest / highest, worst clip):")
    for key, s in summary.spread.items():
        lines.append(f"  {key:<28} {s['mean']:.3f} / {s['min']:.3f} / {s['max']:.3f}, {s['worst']}")
    return "\n".join(lines)
