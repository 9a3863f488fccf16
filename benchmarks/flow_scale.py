"""Cascade accuracy and speed with its DIS flow computed at reduced resolution, on large frames.

The real-motion set (:mod:`hotpixel.ml.evaluation.real_motion`: held-out real clips, camera
moves per motion class, generator defects in every frame), made at film-like sizes: each decoded
frame is upscaled by ``--upscale`` (bicubic, clipped at 0) *before* the camera move and the
defect injection, and the camera path's shifts are multiplied by the same factor, so a pan or a
shake moves ``--upscale`` times as many pixels per frame as on the SD clip (the same content
motion). Defects are then injected at the upscaled size exactly as
:func:`hotpixel.ml.realvideo.defected_clip` does (same generator, heatmap, count, contrast
range). With ``--upscale 1`` the segments are those of the real-motion set for the same seed.

One :class:`CascadeDetector` per flow scale (``flow_scale=FlowScale(s)``: DIS on frames shrunk
by ``s``, the flow scaled back up; the table says which scale the cache really ran at) scores
exactly the same windows, at the classifier's default threshold, through
:func:`hotpixel.ml.evaluation.harness.score_detector` (a detection within 2 px of a true
centroid is a hit). Printed per motion class and flow scale: recall of
clear defects (contrast >= 1, peak >= 2x the local level) and of all >= 0.5x, false alerts per
frame and per 1080p-equivalent frame, F1, and against scale 1 (when measured) the defects found
at scale 1 but not at this scale and the reverse; then seconds per window per scale (the
detector's call only, all 8 flows of a window included: the harness numbers every window
1..5, so no flow is shared between windows) with the detector's own split into its stages
(``det.seconds``: align, candidates, classifier) and the flow cache's DIS thread time.

Segments are made and scored one at a time (memory: one segment). Run from the repository
root:

    PYTHONPATH=engine .venv/bin/python benchmarks/flow_scale.py --frames 26 --upscale 2.5
    PYTHONPATH=engine .venv/bin/python benchmarks/flow_scale.py --frames 13 --upscale 5 \\
        --scales 1,0.25 --json flow_scale_4k.json
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np

from hotpixel.detect.cascade.detector import CascadeDetector
from hotpixel.detect.motion import FlowScale
from hotpixel.detect.windows import Window
from hotpixel.errors import InputError
from hotpixel.ml import realvideo
from hotpixel.ml.evaluation import real_motion
from hotpixel.ml.evaluation.harness import Scored, score_detector
from hotpixel.ml.synth.defects import inject, placement_heatmap
from hotpixel.ml.synth.windows import Sample

CLASSES = real_motion.CLASSES


def upscale(frames: np.ndarray, factor: float) -> np.ndarray:
    """``(N, H, W, C)`` float32 frames resized by ``factor`` (bicubic), clipped at 0."""
    if factor == 1.0:
        return frames
    h, w = frames.shape[1:3]
    size = (round(w * factor), round(h * factor))
    out = np.empty((len(frames), size[1], size[0], frames.shape[3]), np.float32)
    for i, f in enumerate(frames):
        out[i] = cv2.resize(f, size, interpolation=cv2.INTER_CUBIC)
    np.maximum(out, 0.0, out=out)
    return out


def scaled_path(path: realvideo.CameraPath, factor: float) -> realvideo.CameraPath:
    """``path`` with its per-frame shifts (pixels) multiplied by ``factor``; zoom unchanged.

    :class:`realvideo.CameraPath` holds the pose as a pixel shift per frame, so content moves
    ``factor`` times as many pixels per frame (``speed`` scales by ``factor``) and the crop
    margin (:func:`realvideo.margin`) grows with it.
    """
    return realvideo.CameraPath((path.shift * np.float32(factor)).astype(np.float32), path.scale)


def defected_clip(
    clip: str,
    motion: str,
    centres: int,
    rng: np.random.Generator,
    defects: int,
    factor: float,
) -> tuple[realvideo.DefectedClip, float]:
    """:func:`realvideo.defected_clip` with the decoded frames upscaled by ``factor`` before
    the camera move (its shifts scaled by ``factor`` too) and the defects. Draws from ``rng``
    in the same order, so ``factor=1`` gives the same clip. Also returns the path's fastest
    speed in px/frame at the upscaled size (0 when locked)."""
    length = centres + 4
    total = realvideo.frame_count(clip)
    start = int(rng.integers(0, max(total - length, 0) + 1))
    try:
        raw = realvideo.load(clip, start, length)
    except InputError:  # a container's frame count can overstate what decodes
        raw = realvideo.load(clip, 0, length)
    path = realvideo.camera_path(motion, len(raw), rng) if motion != "locked" else None
    big = upscale(raw, factor)
    del raw
    if path is not None:
        path = scaled_path(path, factor)
        moved = realvideo.moved_clip(big, path)
        speed = float(path.speed.max()) if len(path.speed) else 0.0
    else:
        moved = big
        speed = 0.0
    del big
    clean = moved.copy()
    targets, placed = [], []
    for i in range(len(moved)):
        idx = realvideo.window_indices(i, len(moved))
        heat = placement_heatmap([clean[j] for j in idx], 0.3)
        target = np.zeros(moved.shape[1:3], np.float32)
        placed.append(inject(moved[i], i, heat, defects, rng, (0.5, 50.0), target, 0.25))
        targets.append(target)
    return realvideo.DefectedClip(moved, targets, placed), speed


@dataclass
class Segment:
    clip: str
    motion: str
    samples: list[Sample]
    size: tuple[int, int]  # (h, w) after the camera move's crop
    speed: float  # fastest camera move, px/frame at this size


def segments(
    motion: str, frames: int, seed: int, factor: float, defects: int, split: str = "test"
) -> Iterator[Segment]:
    """As :func:`real_motion.segments` (same rng per class, same split of frames by clip)."""
    for clip, count, rng in real_motion.plan(motion, frames, seed, split):
        seg, speed = defected_clip(clip, motion, count, rng, defects, factor)
        size = (seg.frames.shape[1], seg.frames.shape[2])
        yield Segment(clip, motion, real_motion.window_samples(seg), size, speed)


@dataclass
class Timing:
    """Per flow scale: the detector's wall time per window and its stage split."""

    windows: list[float] = field(default_factory=list)
    stages: dict[str, float] = field(default_factory=dict)  # summed, from det.seconds
    threads: dict[str, float] = field(default_factory=dict)  # MotionCache thread time
    dis_runs: int = 0
    ran_at: set[float] = field(default_factory=set)  # the cache's scale after each segment


def timed(det: CascadeDetector, into: list[float]) -> Callable[[Window], np.ndarray]:
    def call(window: Window) -> np.ndarray:
        t0 = time.perf_counter()
        out = det(window)
        into.append(time.perf_counter() - t0)
        return out

    return call


def parse_scales(text: str) -> list[float]:
    scales = [float(s) for s in text.split(",") if s.strip()]
    if not scales or any(not 0.0 < s <= 1.0 for s in scales):
        raise argparse.ArgumentTypeError(f"scales must be in (0, 1]; got {text!r}")
    return scales


def changes(base: Scored, other: Scored, threshold: float) -> dict[str, int]:
    """Defects found by ``base`` and not ``other`` (lost) and the reverse (gained), clear and
    all >= 0.5x, at ``threshold`` (same windows, so truths line up one to one)."""
    a = np.array(base.at[threshold].found, bool)
    b = np.array(other.at[threshold].found, bool)
    contrast = np.array(base.contrast)
    clear, some = contrast >= 1.0, contrast >= 0.5
    return {
        "lost_clear": int((a & ~b & clear).sum()),
        "gained_clear": int((~a & b & clear).sum()),
        "lost_all": int((a & ~b & some).sum()),
        "gained_all": int((~a & b & some).sum()),
    }


def main(argv: list[str] | None = None) -> int:
    """Print the per-class, per-flow-scale table and the timing (see the module's doc)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=26, help="centre frames per motion class")
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--upscale", type=float, default=2.5, help="frame (and motion) upscale")
    ap.add_argument("--scales", type=parse_scales, default=[1.0, 0.5, 0.25], help="flow scales")
    ap.add_argument("--defects", type=int, default=real_motion.DEFECTS_PER_FRAME)
    ap.add_argument("--split", default="test", choices=list(realvideo.SPLITS))
    ap.add_argument("--json", default="", help="also write the results to this file")
    args = ap.parse_args(argv)
    if args.upscale <= 0:
        ap.error("--upscale must be > 0")
    scales: list[float] = args.scales
    detectors: dict[float, CascadeDetector] = {}
    for s in scales:
        detectors[s] = CascadeDetector(flow_scale=FlowScale(s))
    first = detectors[scales[0]]
    threshold = first.default_threshold
    scored = {m: {s: Scored() for s in scales} for m in CLASSES}
    timing = {s: Timing() for s in scales}
    seen: list[dict[str, Any]] = []
    started = time.perf_counter()
    for motion in CLASSES:
        for seg in segments(motion, args.frames, args.seed, args.upscale, args.defects, args.split):
            h, w = seg.size
            seen.append(
                {
                    "class": motion,
                    "clip": seg.clip,
                    "windows": len(seg.samples),
                    "height": h,
                    "width": w,
                    "fastest_px_per_frame": seg.speed,
                }
            )
            for s, det in detectors.items():
                det.cache.clear()
                real_motion.merge(
                    scored[motion][s], score_detector(timed(det, timing[s].windows), seg.samples)
                )
                timing[s].ran_at.add(det.cache.scale)
            print(
                f"{motion}: {seg.clip} {w}x{h}, {len(seg.samples)} windows, fastest move "
                f"{seg.speed:.1f} px/frame ({time.perf_counter() - started:.0f} s so far)",
                file=sys.stderr,
                flush=True,
            )
            del seg
    for s, det in detectors.items():
        timing[s].stages = dict(det.seconds)
        timing[s].threads = dict(det.cache.seconds)
        timing[s].dis_runs = det.cache.computed

    everything = {s: Scored() for s in scales}
    for motion in CLASSES:
        for s in scales:
            real_motion.merge(everything[s], scored[motion][s])
    blocks = {**scored, "all": everything}
    rows = {
        block: {s: real_motion.row(sc, threshold) for s, sc in by_scale.items()}
        for block, by_scale in blocks.items()
    }
    diffs: dict[str, dict[float, dict[str, int]]] = {}
    if 1.0 in scales:
        t = rows["all"][1.0]["threshold"]
        diffs = {
            block: {s: changes(by_scale[1.0], sc, t) for s, sc in by_scale.items() if s != 1.0}
            for block, by_scale in blocks.items()
        }
    _print(args, scales, seen, blocks, rows, diffs, threshold, first.cache.preset)
    _print_timing(scales, timing)
    if args.json:
        out = {
            "args": {k: v for k, v in vars(args).items() if k != "json"},
            "threshold": threshold,
            "preset": first.cache.preset,
            "segments": seen,
            "rows": {b: {str(s): r for s, r in by.items()} for b, by in rows.items()},
            "truths": {
                b: {
                    "clear": int((np.array(by[scales[0]].contrast) >= 1.0).sum()),
                    "all": int((np.array(by[scales[0]].contrast) >= 0.5).sum()),
                }
                for b, by in blocks.items()
            },
            "changes_vs_scale_1": {
                b: {str(s): d for s, d in by.items()} for b, by in diffs.items()
            },
            "timing": {
                str(s): {
                    "windows": len(t.windows),
                    "seconds_per_window_median": float(np.median(t.windows)),
                    "seconds_per_window_mean": float(np.mean(t.windows)),
                    "stage_seconds_per_window": {
                        k: v / max(len(t.windows), 1) for k, v in t.stages.items()
                    },
                    "flow_thread_seconds_per_window": {
                        k: v / max(len(t.windows), 1) for k, v in t.threads.items()
                    },
                    "dis_runs": t.dis_runs,
                    "cache_scale_seen": sorted(t.ran_at),
                }
                for s, t in timing.items()
            },
        }
        with open(args.json, "w") as f:
            json.dump(out, f, indent=2)
        print(f"results written to {args.json}")
    return 0


def _print(
    args: argparse.Namespace,
    scales: list[float],
    seen: list[dict[str, Any]],
    blocks: dict[str, dict[float, Scored]],
    rows: dict[str, dict[float, dict[str, float]]],
    diffs: dict[str, dict[float, dict[str, int]]],
    threshold: float,
    preset: str,
) -> None:
    sizes = sorted({(d["clip"], d["width"], d["height"]) for d in seen})
    print(
        f"cascade with DIS ({preset}) at flow scales {', '.join(f'{s:g}' for s in scales)}: "
        f"clips {', '.join(realvideo.SPLITS[args.split])} ({args.split} split) upscaled "
        f"x{args.upscale:g} (camera moves x{args.upscale:g}), {args.frames} centre frames per "
        f"class, seed {args.seed}, {args.defects} defects/frame, threshold {threshold:g}"
    )
    print(
        "frame sizes after the camera-move crop: "
        + ", ".join(f"{c} {w}x{h}" for c, w, h in sizes)
        + "; fastest move per class (px/frame): "
        + ", ".join(
            f"{m} {max(d['fastest_px_per_frame'] for d in seen if d['class'] == m):.1f}"
            for m in CLASSES
        )
    )
    heads = ("windows", "clear", ">=0.5x", "FA/frame", "FA/1080p", "F1")
    extra = ("lost clr", "gain clr", "lost all", "gain all") if diffs else ()
    print(f"{'class / flow scale':<22}" + "".join(f"{h:>10}" for h in (*heads, *extra)))
    for block, by_scale in rows.items():
        contrast = np.array(blocks[block][scales[0]].contrast)
        print(
            f"{block} ({int((contrast >= 1.0).sum())} clear, "
            f"{int((contrast >= 0.5).sum())} >=0.5x defects)"
        )
        for s, r in by_scale.items():
            line = f"  scale {s:<14g}{blocks[block][s].frames:>10d}"
            line += "".join(
                f"{r[k]:>10.4f}"
                for k in (
                    "recall_clear",
                    "recall_all",
                    "false_alerts_per_frame",
                    "false_alerts_per_1080p_frame",
                    "f1",
                )
            )
            if diffs and s in diffs[block]:
                d = diffs[block][s]
                line += "".join(
                    f"{d[k]:>10d}" for k in ("lost_clear", "gained_clear", "lost_all", "gained_all")
                )
            print(line)


def _print_timing(scales: list[float], timing: dict[float, Timing]) -> None:
    print(
        "seconds per window (detector call, wall; 8 DIS runs per window, none shared), "
        "and the detector's stages per window:"
    )
    print(
        f"{'flow scale':<12}{'windows':>8}{'median':>9}{'mean':>9}{'align':>9}"
        f"{'cands':>9}{'classif':>9}{'DIS thr':>9}{'DIS runs':>9}  ran at"
    )
    for s in scales:
        t = timing[s]
        n = max(len(t.windows), 1)
        print(
            f"{s:<12g}{len(t.windows):>8d}{np.median(t.windows):>9.3f}{np.mean(t.windows):>9.3f}"
            f"{t.stages.get('align', 0.0) / n:>9.3f}{t.stages.get('candidates', 0.0) / n:>9.3f}"
            f"{t.stages.get('classifier', 0.0) / n:>9.3f}{t.threads.get('flow', 0.0) / n:>9.3f}"
            f"{t.dis_runs:>9d}  {','.join(f'{r:g}' for r in sorted(t.ran_at))}"
        )
    print(
        "(DIS thr: DIS thread-seconds per window, summed over the flow threads; ran at: the "
        "flow cache's scale after each segment, which should be the row's scale)"
    )


if __name__ == "__main__":
    sys.exit(main())
