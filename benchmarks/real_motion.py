"""Candidate recall on real video in motion: DIS-aligned per-channel candidates against baselines.

Real test clips (``hotpixel.ml.realvideo.SPLITS["test"]``), with camera moves added per motion
class (locked, pan, handheld), every frame carrying its own one-frame defects from the project's
generator (so neighbours carry other defects, as in a real plate, and flow is computed on frames
with defects). Reported per motion class:

Contrast is what a defect visibly adds over the clean frame's local level per channel
(:func:`visible_contrast`), not the generator's nominal draw.

- the candidate stage (DIS flow, +-1 px max, per channel, noise from neighbour disagreement):
  recall of clear defects (peak >= 2x local level, i.e. contrast >= 1), of all defects
  (contrast >= 0.5), candidates per frame, per 1080p-equivalent frame, false candidates;
- the same stage without flow, with a +-3 px max tolerance instead;
- the shipped dense model (temporal-v2) at threshold 0.8 on the raw windows: recall and false
  alerts (connected components touching no defect) per frame.

A defect counts as found when a candidate (or an alert component) lies on its labelled footprint
grown by 2 px. Thresholds are swept at no cost (candidates at the lowest threshold carry their
score). Run from the repository root:

    PYTHONPATH=engine python benchmarks/real_motion.py --frames 104 --seed 16
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np
from scipy import ndimage

from hotpixel.detect.cascade import candidates as cand
from hotpixel.detect.cascade.stage import find_candidates
from hotpixel.detect.motion import MotionCache
from hotpixel.ml import realvideo
from hotpixel.ml.synth.defects import Defect, inject, placement_heatmap

CLASSES = ("locked", "pan", "handheld")
HD = 1920 * 1080
SWEEP = (3.0, 4.0, 5.0, 6.0, 8.0)


@dataclass
class Tally:
    """Counts for one method over one motion class."""

    frames: int = 0
    pixels: int = 0  # summed over frames, for the 1080p-equivalent rate
    clear: int = 0
    clear_found: int = 0
    all_: int = 0
    all_found: int = 0
    candidates: int = 0
    false: int = 0
    seconds: float = 0.0
    missed: list[dict[str, object]] = field(default_factory=list)

    def add(self, hits: np.ndarray, contrast: np.ndarray, count: int, false: int) -> None:
        self.clear += int((contrast >= 1.0).sum())
        self.clear_found += int((hits & (contrast >= 1.0)).sum())
        self.all_ += int((contrast >= 0.5).sum())
        self.all_found += int((hits & (contrast >= 0.5)).sum())
        self.candidates += count
        self.false += false

    def row(self) -> tuple[float, float, float, float, float]:
        per = max(self.frames, 1)
        scale = HD * self.frames / max(self.pixels, 1)
        return (
            self.clear_found / max(self.clear, 1),
            self.all_found / max(self.all_, 1),
            self.candidates / per,
            self.candidates / per * scale,
            self.false / per * scale,
        )


def footprints(label: np.ndarray, defects: list[Defect]) -> tuple[np.ndarray, np.ndarray]:
    """``(H, W)`` int map of each defect's labelled footprint (grown 2 px), 0 elsewhere.

    Returns the map and each defect's region id (``(D,)``; several defects may share one).
    """
    regions, count = ndimage.label(label > 0, np.ones((3, 3), int))
    ids = np.zeros(len(defects), int)
    if count:
        _, (iy, ix) = ndimage.distance_transform_edt(regions == 0, return_indices=True)
        h, w = label.shape
        for i, d in enumerate(defects):
            y, x = min(max(int(d.y), 0), h - 1), min(max(int(d.x), 0), w - 1)
            ids[i] = regions[iy[y, x], ix[y, x]]
    grown = ndimage.grey_dilation(regions, size=(5, 5))
    return grown, ids


def visible_contrast(
    clean: np.ndarray, painted: np.ndarray, label: np.ndarray, ids: np.ndarray
) -> np.ndarray:
    """``(D,)`` how far each defect really lifts its footprint above the local level.

    The generator paints ``max(pixel, defect)``, so a defect beside something brighter may
    change nothing; its nominal contrast is relative to a 7x7 median that may not be the
    pixel's surroundings. This measures, per defect region, the largest ``(painted - clean) /
    level`` over its pixels and channels, with ``level`` the clean frame's local level
    (:func:`hotpixel.detect.cascade.candidates.local_level`) floored at 0.02 as the generator does.
    """
    regions, _ = ndimage.label(label > 0, np.ones((3, 3), int))
    level = np.maximum(cand.local_level(clean), 0.02)
    ratio = ((painted - clean) / level).max(axis=2)  # (H, W)
    if not len(ids):
        return np.zeros(0)
    per_region = ndimage.maximum(ratio, regions, index=np.arange(regions.max() + 1))
    out: np.ndarray = np.asarray(per_region)[ids]
    return out


def score_points(
    tally: dict[float, Tally],
    ys: np.ndarray,
    xs: np.ndarray,
    scores: np.ndarray,
    grown: np.ndarray,
    ids: np.ndarray,
    contrast: np.ndarray,
) -> None:
    on = grown[ys, xs]  # (N,) region id under each candidate, 0 = none
    for thr, t in tally.items():
        keep = scores >= thr
        hit_regions = set(on[keep].tolist()) - {0}
        hits = np.isin(ids, list(hit_regions))
        t.add(hits, contrast, int(keep.sum()), int((keep & (on == 0)).sum()))


def neural_alerts(
    prob: np.ndarray,
    grown: np.ndarray,
    ids: np.ndarray,
    contrast: np.ndarray,
    t: Tally,
    threshold: float = 0.8,
) -> None:
    comps, count = ndimage.label(prob >= threshold, np.ones((3, 3), int))
    if count == 0:
        t.add(np.zeros(len(ids), bool), contrast, 0, 0)
        return
    pairs = np.stack([comps.ravel(), grown.ravel()], 1)
    pairs = np.unique(pairs[(pairs[:, 0] > 0)], axis=0)
    touching = set(pairs[pairs[:, 1] > 0, 0].tolist())
    hit_regions = set(pairs[pairs[:, 1] > 0, 1].tolist())
    t.add(np.isin(ids, list(hit_regions)), contrast, count, count - len(touching))


def segment(
    clip: str,
    motion: str,
    centres: int,
    rng: np.random.Generator,
    defects: int,
    uniform_share: float,
) -> tuple[np.ndarray, np.ndarray, list[np.ndarray], list[list[Defect]]]:
    """A moved segment ``(centres + 4, h, w, 3)`` with defects, its clean copy, labels, defects."""
    total = realvideo.count_frames(realvideo.clip_path(clip))
    length = centres + 4
    start = int(rng.integers(0, max(total - length, 0) + 1))
    frames = realvideo.load(clip, start, length)
    path = realvideo.camera_path(motion, len(frames), rng) if motion != "locked" else None
    moved = realvideo.moved_clip(frames, path) if path is not None else frames.copy()
    clean = moved.copy()
    labels: list[np.ndarray] = []
    placed: list[list[Defect]] = []
    for i in range(len(moved)):
        idx = realvideo.window_indices(i, len(moved))
        heat = placement_heatmap([clean[j] for j in idx], uniform_share)
        label = np.zeros(moved.shape[1:3], np.float32)
        placed.append(inject(moved[i], i, heat, defects, rng, (0.5, 50.0), label, 0.25))
        labels.append(label)
    return moved, clean, labels, placed


@dataclass
class Run:
    """Everything one benchmark run accumulates."""

    sweep: list[float]
    results: dict[str, dict[float, Tally]] = field(default_factory=dict)  # flow, by class
    baseline: dict[str, dict[float, Tally]] = field(default_factory=dict)  # +-3 px, by class
    dense: dict[str, Tally] = field(default_factory=dict)  # temporal-v2, by class
    per_clip: dict[str, Tally] = field(default_factory=dict)  # flow at --threshold
    sizes: dict[str, tuple[int, int]] = field(default_factory=dict)
    timing: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    dump: dict[str, list[np.ndarray]] = field(default_factory=lambda: defaultdict(list))


def evaluate_window(
    run: Run,
    args: argparse.Namespace,
    key: tuple[str, str],
    moved: np.ndarray,
    clean: np.ndarray,
    label: np.ndarray,
    defects: list[Defect],
    centre: int,
    cache: MotionCache,
    neural: Any,
) -> None:
    """Score the window centred on ``centre`` of ``moved`` for every method."""
    clip, motion = key
    idx = list(range(centre - 2, centre + 3))
    window = moved[idx]
    grown, ids = footprints(label, defects)
    contrast = visible_contrast(clean[centre], moved[centre], label, ids)
    t0 = time.perf_counter()
    low = min(run.sweep)
    done = find_candidates(
        list(window), idx, cache, cand.CandidateParams(threshold=low), cache.workers
    )
    found = done.found
    t1 = t0 + done.flow_seconds  # warps are made band by band with the candidates
    run.timing["flow"].append(t1 - t0)
    run.timing["candidates"].append(time.perf_counter() - t1)
    score_points(run.results[motion], found.y, found.x, found.score, grown, ids, contrast)
    score_points(
        {args.threshold: run.per_clip[f"{clip}/{motion}"]},
        found.y,
        found.x,
        found.score,
        grown,
        ids,
        contrast,
    )
    raw, _ = cand.find(window, params=cand.CandidateParams(threshold=low, tolerance=3))
    score_points(run.baseline[motion], raw.y, raw.x, raw.score, grown, ids, contrast)
    if neural is not None:
        from hotpixel.detect.windows import Window

        t2 = time.perf_counter()
        prob = neural(Window(tuple(window), tuple(idx), 2))
        run.timing["neural"].append(time.perf_counter() - t2)
        neural_alerts(prob, grown, ids, contrast, run.dense[motion])
    for table in (
        *run.results[motion].values(),
        *run.baseline[motion].values(),
        run.dense[motion],
        run.per_clip[f"{clip}/{motion}"],
    ):
        table.frames += 1
        table.pixels += window.shape[1] * window.shape[2]
    if args.dump:
        keep = found.score >= args.threshold
        chosen = dataclasses.replace(done, found=found.select(keep))
        features, _ = chosen.found.features()
        run.dump["features"].append(features)
        run.dump["real"].append(grown[chosen.found.y, chosen.found.x] > 0)  # on a defect
        run.dump["aligned"].append(chosen.aligned_cutouts(15).astype(np.float16))
        run.dump["raw"].append(
            cand.cutouts(window, chosen.found.y, chosen.found.x).astype(np.float16)
        )
        run.dump["confidence"].append(chosen.confidence_cutouts(15).astype(np.float16))


def main(argv: list[str] | None = None) -> int:
    """Print the per-motion-class candidate table (see the module's doc)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=104, help="centre frames per motion class")
    ap.add_argument("--seed", type=int, default=16)
    ap.add_argument("--defects", type=int, default=6, help="defects injected per frame")
    ap.add_argument(
        "--uniform-share",
        type=float,
        default=0.3,
        help="share of defects placed uniformly, not favouring dark static areas",
    )
    ap.add_argument("--preset", default="medium", choices=["ultrafast", "fast", "medium"])
    ap.add_argument("--threshold", type=float, default=5.0, help="candidate threshold (sigmas)")
    ap.add_argument("--split", default="test", choices=list(realvideo.SPLITS))
    ap.add_argument("--no-neural", action="store_true", help="skip temporal-v2")
    ap.add_argument("--timing-1080p", type=int, default=4, help="windows timed at 1920x1080")
    ap.add_argument(
        "--dump",
        default="",
        help="write the candidates' cutouts, features and "
        "labels (on a defect or not) at --threshold to this .npz, for a classifier",
    )
    args = ap.parse_args(argv)
    rng = np.random.Generator(np.random.PCG64(args.seed))
    clips = realvideo.SPLITS[args.split]
    run = Run(sorted({*SWEEP, args.threshold}))
    neural = None
    if not args.no_neural:
        from hotpixel.detect.detectors.neural import NeuralDetector
        from hotpixel.detect.model_file import default_model_path

        neural = NeuralDetector(default_model_path(), "cpu")
    for motion in CLASSES:
        run.results[motion] = {t: Tally() for t in run.sweep}
        run.baseline[motion] = {t: Tally() for t in run.sweep}
        run.dense[motion] = Tally()
        per_clip = -(-args.frames // len(clips))
        for clip in clips:
            moved, clean, labels, placed = segment(
                clip, motion, per_clip, rng, args.defects, args.uniform_share
            )
            run.sizes[f"{clip}/{motion}"] = moved.shape[1:3]
            run.per_clip[f"{clip}/{motion}"] = Tally()
            cache = MotionCache(args.preset)
            for centre in range(2, len(moved) - 2):
                evaluate_window(
                    run,
                    args,
                    (clip, motion),
                    moved,
                    clean,
                    labels[centre],
                    placed[centre],
                    centre,
                    cache,
                    neural,
                )
        print(f"{motion}: done", file=sys.stderr, flush=True)
    _print(args, clips, run, neural is not None)
    _print_timing(run.timing, args)
    if args.dump:
        arrays = {k: np.concatenate(v) for k, v in run.dump.items()}
        np.savez_compressed(args.dump, **arrays)  # type: ignore[arg-type]
        print(f"candidates written to {args.dump}")
    return 0


def _print(args: argparse.Namespace, clips: tuple[str, ...], run: Run, neural: bool) -> None:
    print(
        f"real-motion candidates: clips {', '.join(clips)} ({args.split} split), seed "
        f"{args.seed}, {args.defects} defects/frame, DIS preset {args.preset}"
    )
    head = (
        f"{'method':<28}{'class':<10}{'frames':>7}{'clear':>8}{'>=0.5x':>8}"
        f"{'cand/fr':>9}{'cand/HD':>9}{'false/HD':>9}"
    )
    print(head)
    print("-" * len(head))
    for name, table in (("flow +-1px, z>={}", run.results), ("no flow +-3px, z>={}", run.baseline)):
        for thr in run.sweep:
            for motion in CLASSES:
                _row(name.format(thr), motion, table[motion][thr])
    if neural:
        for motion in CLASSES:
            _row("temporal-v2 @0.8 (alerts)", motion, run.dense[motion], 2)
    print(f"per clip, flow +-1px, z>={args.threshold} (size h x w after the camera move's crop):")
    for key, t in run.per_clip.items():
        h, w = run.sizes[key]
        _row(f"  {key} {h}x{w}", "", t)
    print(
        "defects counted, clear (visible contrast >= 1: peak >= 2x level) / all (>= 0.5): "
        + ", ".join(
            f"{m} {run.results[m][run.sweep[0]].clear}/{run.results[m][run.sweep[0]].all_}"
            for m in CLASSES
        )
    )


def _row(name: str, motion: str, t: Tally, digits: int = 1) -> None:
    r = t.row()
    print(
        f"{name:<28}{motion:<10}{t.frames:>7}{r[0]:>8.4f}{r[1]:>8.4f}"
        f"{r[2]:>9.{digits}f}{r[3]:>9.{digits}f}{r[4]:>9.{digits}f}"
    )


def _print_timing(timing: dict[str, list[float]], args: argparse.Namespace) -> None:
    for k, v in timing.items():
        print(
            f"time per frame at clip size, {k}: median {np.median(v):.3f} s "
            f"(mean {np.mean(v):.3f} s, flow amortised over the windows sharing it)"
        )
    if args.timing_1080p <= 0:
        return
    frames = realvideo.load(realvideo.SPLITS[args.split][0], 0, args.timing_1080p + 4)
    hd = np.stack([cv2.resize(f, (1920, 1080), interpolation=cv2.INTER_LINEAR) for f in frames])
    cache = MotionCache(args.preset)
    flow_s, cand_s = [], []
    for centre in range(2, len(hd) - 2):
        idx = list(range(centre - 2, centre + 3))
        t0 = time.perf_counter()
        done = find_candidates(list(hd[idx]), idx, cache, cand.CandidateParams(), cache.workers)
        t1 = t0 + done.flow_seconds
        cand_s.append(time.perf_counter() - t1)
        flow_s.append(t1 - t0)
    print(
        f"time per frame at 1920x1080 ({len(flow_s)} windows, steady state = the last): "
        f"flow {flow_s[-1]:.3f} s (first window {flow_s[0]:.3f} s), "
        f"candidates median {np.median(cand_s):.3f} s"
    )


if __name__ == "__main__":
    sys.exit(main())
