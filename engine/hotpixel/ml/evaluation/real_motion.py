"""The real-motion evaluation set: held-out real video per motion class, generator defects.

Real clips (:data:`hotpixel.ml.realvideo.SPLITS` ``test``: whole clips that never enter
training) decoded to scene-linear, with camera moves added per motion class (``locked`` as shot,
``pan``, ``handheld``), and every frame carrying its own one-frame defects from the generator,
so neighbours carry other defects as a real plate would, and flow is computed on frames with
defects in them. Each detector sees the same windows, through the same matching as the
synthetic set (:func:`hotpixel.ml.evaluation.harness.score_detector`: a detection within 2 px of
a true centroid is a hit).

Segments are made and scored one at a time, so memory stays at one segment whatever the count.
False alerts are also given per 1080p-equivalent frame (per frame x 1920*1080 / frame area),
because the clips are SD.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from hotpixel.ml import realvideo
from hotpixel.ml.evaluation.harness import THRESHOLDS, Counts, Scored, metrics, score_detector
from hotpixel.ml.synth.windows import Sample

CLASSES = ("locked", "pan", "handheld")
HD = 1920 * 1080
SEGMENT = 26  # centre frames per segment (a clip gives several)
DEFECTS_PER_FRAME = 6


@dataclass(frozen=True)
class Segment:
    """Windows over one moved stretch of one clip; ``samples`` share the clip's frames."""

    clip: str
    motion: str
    samples: list[Sample]


def segments(
    motion: str, frames: int, seed: int, split: str = "test", defects: int = DEFECTS_PER_FRAME
) -> Iterator[Segment]:
    """Segments of ``split``'s clips, ``frames`` centre frames in all, shared evenly by clip."""
    for clip, count, rng in plan(motion, frames, seed, split):
        seg = realvideo.defected_clip(clip, motion, count, rng, defects)
        yield Segment(clip, motion, window_samples(seg))


def plan(
    motion: str, frames: int, seed: int, split: str = "test"
) -> Iterator[tuple[str, int, np.random.Generator]]:
    """``(clip, centre frames, rng)`` for each segment of :func:`segments`, in order; the one
    rng of the motion class is to be drawn from for each segment before the next is asked for."""
    rng = np.random.Generator(np.random.PCG64([seed, CLASSES.index(motion)]))
    clips = realvideo.SPLITS[split]
    per_clip = -(-frames // len(clips))
    for clip in clips:
        left = per_clip
        while left > 0:
            count = min(SEGMENT, left)
            yield clip, count, rng
            left -= count


def window_samples(seg: realvideo.DefectedClip) -> list[Sample]:
    """The 5-frame windows of a defected clip, one per centre frame that has two frames on
    each side; the windows are views sharing the clip's frames."""
    moved = seg.frames
    return [
        Sample(
            frames=moved[c - 2 : c + 3],
            target=seg.targets[c],
            hard=np.zeros(moved.shape[1:3], bool),
            defects=seg.defects[c],
        )
        for c in range(2, len(moved) - 2)
    ]


def merge(into: Scored, more: Scored) -> None:
    """Add ``more``'s counts to ``into``."""
    for t in THRESHOLDS:
        a, b = into.at[t], more.at[t]
        into.at[t] = Counts(
            a.detections + b.detections,
            a.hits + b.hits,
            a.false_on_hard + b.false_on_hard,
            a.found + b.found,
        )
    into.contrast.extend(more.contrast)
    into.snr.extend(more.snr)
    into.frames += more.frames
    into.pixels += more.pixels


def evaluate(
    detectors: dict[str, Callable[..., np.ndarray]],
    frames: int,
    seed: int,
    split: str = "test",
    log: Callable[[str], None] | None = None,
) -> dict[str, dict[str, Scored]]:
    """``{motion: {detector: Scored}}`` over ``frames`` centre frames per motion class."""
    out: dict[str, dict[str, Scored]] = {}
    for motion in CLASSES:
        out[motion] = {name: Scored() for name in detectors}
        for seg in segments(motion, frames, seed, split):
            for name, fn in detectors.items():
                merge(out[motion][name], score_detector(fn, seg.samples))
            if log:
                log(f"{motion}: {seg.clip} {len(seg.samples)} windows")
    return out


def row(sc: Scored, threshold: float) -> dict[str, float]:
    """Recall of clear (>= 2x local level) and all (>= 0.5x above) defects, false alerts per
    frame and per 1080p-equivalent frame, at ``threshold``."""
    m = metrics(sc, threshold)
    found = np.array(sc.at[m["threshold"]].found, bool)
    contrast = np.array(sc.contrast)
    clear, some = contrast >= 1.0, contrast >= 0.5
    scale = HD * sc.frames / max(sc.pixels, 1)
    return {
        "threshold": m["threshold"],
        "recall_clear": float(found[clear].mean()) if clear.any() else 1.0,
        "recall_all": float(found[some].mean()) if some.any() else 1.0,
        "false_alerts_per_frame": m["false_alerts_per_frame"],
        "false_alerts_per_1080p_frame": m["false_alerts_per_frame"] * scale,
        "f1": m["f1"],
    }


def table(
    scored: dict[str, dict[str, Scored]], thresholds: dict[str, float]
) -> dict[str, dict[str, dict[str, float]]]:
    """``{motion: {detector: row}}`` with each detector at its own operating threshold."""
    return {
        motion: {name: row(sc, thresholds[name]) for name, sc in runs.items()}
        for motion, runs in scored.items()
    }


def print_table(rows: dict[str, dict[str, dict[str, float]]], frames: int) -> None:
    """The per-motion-class table, one block per class."""
    heads = ("thr", "clear", ">=0.5x", "FA/frame", "FA/1080p", "F1")
    keys = (
        "threshold",
        "recall_clear",
        "recall_all",
        "false_alerts_per_frame",
        "false_alerts_per_1080p_frame",
        "f1",
    )
    print(
        f"real-motion set: {frames} frames per class from the held-out clips "
        f"({', '.join(realvideo.SPLITS['test'])}); recall of clear defects (>= 2x their local "
        "level) and of all >= 0.5x above it; false alerts per frame and per 1080p-equivalent"
    )
    for motion, by_name in rows.items():
        print(f"{motion:<34}" + "".join(f"{h:>10}" for h in heads))
        for name, r in by_name.items():
            print(f"  {name:<32}" + "".join(f"{r[k]:>10.4f}" for k in keys))


def reliability(sc: Scored) -> list[dict[str, float]]:
    """Calibration from the threshold sweep: per score band ``[t_i, t_i+1)``, the detections
    whose score falls in it and the share of them that are real defects.

    Bands are read off the counts at consecutive thresholds (detections at ``t_i`` less those
    at ``t_i+1``), so a group that splits or merges between two thresholds shifts a band by one.
    """
    out = []
    for lo, hi in itertools.pairwise((*THRESHOLDS, 1.0)):
        a = sc.at[lo]
        b = sc.at[hi] if hi in sc.at else Counts()
        count = a.detections - b.detections
        hits = a.hits - b.hits
        out.append(
            {
                "from": lo,
                "to": hi,
                "detections": count,
                "defects": hits / count if count > 0 else -1,
            }
        )
    return out
