"""One review + fine-tune round with the default detector on real clips the model never saw.

Shots are stretches of real clips (:mod:`hotpixel.ml.realvideo`) with a camera move and
generator defects in every frame, written as EXR plates. The first ``--review`` clips are
detected at ``--review-threshold`` and a simulated reviewer judges every detection (accept when
it lies within 2 px of a defect injected in that frame, reject otherwise) through the same
labels.json the review app writes; ``hotpixel finetune`` makes a new classifier from those
labels; both classifiers then run, each at its own operating threshold, on the ``--score`` clips,
which no review and no training saw. Printed: recall of clear (>= 2x the local level) and all
(>= 0.5x over it) defects and false alerts per 1080p-equivalent frame, before and after, on the
scored and the reviewed clips; OUT/round.json holds them. By default the reviewed and the scored
clips are the held-out clips (:data:`hotpixel.ml.realvideo.HELDOUT`), the only ones the shipped
classifier never trained on: one is reviewed, the others are scored. The fine-tuned classifier is
not shipped, so this does not touch the shipped model's own held-out figures, and its threshold
is chosen on the training pool's clips, never on the scored ones.

    PYTHONPATH=engine .venv/bin/python benchmarks/finetune_round.py --out bench_out/finetune
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import time
import zlib
from typing import Any

import numpy as np

from hotpixel.detect.cascade.detector import default_classifier_path
from hotpixel.detect.model_file import load_classifier
from hotpixel.io.exr_writer import write_exr
from hotpixel.io.geometry import Geometry
from hotpixel.ml import realvideo
from hotpixel.ml.synth.defects import Defect
from hotpixel.ml.training.cascade_finetune import ClassifierFinetune, finetune_classifier
from hotpixel.outputs import labels
from hotpixel.params import DetectParams
from hotpixel.run.detect import run_detect
from hotpixel.run.job import DetectJob

HD = 1920 * 1080
FIRST = 1001


def make_shot(
    clip: str, motion: str, frames: int, seed: int, folder: str
) -> tuple[str, list[Defect], int]:
    """An EXR plate of ``frames`` centre frames of ``clip`` (plus two on each side) with
    generator defects; returns its pattern, the defects (frame numbers as written) and its
    picture size in pixels."""
    rng = np.random.Generator(np.random.PCG64([seed, zlib.crc32(clip.encode())]))
    seg = realvideo.defected_clip(clip, motion, frames, rng, defects=6)
    os.makedirs(folder, exist_ok=True)
    h, w = seg.frames.shape[1:3]
    geometry = Geometry.simple(w, h)
    for i, frame in enumerate(seg.frames):
        path = os.path.join(folder, f"shot.{FIRST + i:04d}.exr")
        write_exr(path, frame, ["R", "G", "B"], geometry, ["half"] * 3, {"compression": "zip"})
    truth = [
        dataclasses.replace(d, frame=FIRST + i)
        for i, placed in enumerate(seg.defects)
        for d in placed
    ]
    return os.path.join(folder, "shot.####.exr"), truth, h * w


def detect(pattern: str, out: str, model: str, threshold: float | None) -> dict[str, Any]:
    params = DetectParams(model=model, threshold=threshold)
    return run_detect(DetectJob(pattern, out, params=params, force=True)).report


def matches(d: dict[str, Any], truth: list[Defect]) -> Defect | None:
    for t in truth:
        if t.frame == d["frame"] and abs(t.x - d["x"]) <= 2 and abs(t.y - d["y"]) <= 2:
            return t
    return None


def score(truth: list[Defect], report: dict[str, Any], pixels: int) -> dict[str, float]:
    """Counts over one shot: defects (clear, all), found, false alerts, frames, pixels."""
    hot = [d for d in report["detections"] if d["kind"] == "hot"]
    found: set[int] = set()
    false_alerts = 0
    for d in hot:
        t = matches(d, truth)
        if t is None:
            false_alerts += 1
        else:
            found.add(id(t))
    clear = [t for t in truth if t.contrast >= 1.0]
    some = [t for t in truth if t.contrast >= 0.5]
    frames = len(report["frames"]) if "frames" in report else 0
    return {
        "clear": len(clear),
        "clear_found": sum(id(t) in found for t in clear),
        "all": len(some),
        "all_found": sum(id(t) in found for t in some),
        "false_alerts": false_alerts,
        "frames": frames,
        "pixels": pixels * frames,
    }


def pooled(rows: list[dict[str, float]]) -> dict[str, float]:
    total = {k: sum(r[k] for r in rows) for k in rows[0]}
    return {
        **total,
        "recall_clear": total["clear_found"] / max(total["clear"], 1),
        "recall_all": total["all_found"] / max(total["all"], 1),
        "false_alerts_per_1080p_frame": total["false_alerts"] * HD / max(total["pixels"], 1),
    }


def review(report: dict[str, Any], truth: list[Defect], out_dir: str) -> tuple[int, int]:
    """Label every detection as a careful reviewer would; return (accepted, rejected)."""
    found = labels.new_labels(report)
    dets = report["detections"]
    accepted = rejected = 0
    for det_id, d in zip(labels.detection_ids(dets), dets, strict=True):
        real = matches(d, truth) is not None
        labels.set_label(found, det_id, d, "accept" if real else "reject")
        accepted += real
        rejected += not real
    labels.save_labels(out_dir, found)
    return accepted, rejected


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="bench_out/finetune")
    ap.add_argument("--review", default="people_table", help="clips the reviewer judges")
    ap.add_argument(
        "--score", default="motorway_evening,night_field", help="clips scored before and after"
    )
    ap.add_argument("--motions", default="locked,handheld")
    ap.add_argument("--frames", type=int, default=20, help="centre frames per clip and motion")
    ap.add_argument("--review-threshold", type=float, default=0.5)
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--base", default="", help="classifier to start from (default: shipped)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    base = args.base or default_classifier_path()
    reviewed, scored = args.review.split(","), args.score.split(",")
    motions = args.motions.split(",")
    both = set(reviewed) & set(scored)
    if both:
        ap.error(f"{', '.join(sorted(both))} would be reviewed and scored; keep them apart")
    shots: dict[str, list[tuple[str, list[Defect], int, str]]] = {"review": [], "score": []}
    for part, clips in (("review", reviewed), ("score", scored)):
        for clip in clips:
            for motion in motions:
                folder = os.path.join(args.out, f"{clip}_{motion}")
                pattern, truth, pixels = make_shot(
                    clip, motion, args.frames, args.seed, os.path.join(folder, "plate")
                )
                shots[part].append((pattern, truth, pixels, folder))
    label_files, accepted, rejected = [], 0, 0
    for pattern, truth, _, folder in shots["review"]:
        qc = os.path.join(folder, "review")
        report = detect(pattern, qc, base, args.review_threshold)
        a, r = review(report, truth, qc)
        accepted, rejected = accepted + a, rejected + r
        label_files.append(os.path.join(qc, "labels.json"))
    print(f"reviewed {', '.join(reviewed)}: {accepted} accepted, {rejected} rejected", flush=True)
    new = os.path.join(args.out, "hotpixel-cascade-ft.onnx")
    finetune_classifier(
        label_files, base, new, "cascade-ft", ClassifierFinetune(epochs=args.epochs, seed=args.seed)
    )
    results: dict[str, Any] = {
        "reviewed": reviewed,
        "scored": scored,
        "motions": motions,
        "frames": args.frames,
        "labels": {"accepted": accepted, "rejected": rejected},
        "operating_threshold": {
            "before": load_classifier(base, "cpu")[1].threshold,
            "after": load_classifier(new, "cpu")[1].threshold,
        },
    }
    for name, model in (("before", base), ("after", new)):
        for part in ("score", "review"):
            rows = [
                score(truth, detect(p, os.path.join(f, f"qc_{name}"), model, None), px)
                for p, truth, px, f in shots[part]
            ]
            results[f"{name}_{part}"] = pooled(rows)
    results["seconds"] = round(time.perf_counter() - t0)
    with open(os.path.join(args.out, "round.json"), "w", encoding="utf-8") as fh:
        json.dump(results, fh, indent=1)
    print(f"\n{'':<22}{'clear':>8}{'all':>8}{'FA/1080p':>10}")
    for name in ("before", "after"):
        for part in ("score", "review"):
            r = results[f"{name}_{part}"]
            print(
                f"{name + ', ' + ('scored' if part == 'score' else 'reviewed'):<22}"
                f"{r['recall_clear']:>8.3f}{r['recall_all']:>8.3f}"
                f"{r['false_alerts_per_1080p_frame']:>10.3f}"
            )
    b, a = results["before_score"], results["after_score"]
    before_fa, after_fa = b["false_alerts_per_1080p_frame"], a["false_alerts_per_1080p_frame"]
    if after_fa == 0:
        cut = f"{before_fa:.3f} -> 0 (no false alert after)"
    elif after_fa <= before_fa:
        cut = f"cut {before_fa / after_fa:.1f}x"
    else:  # a cut below 1x reads as a gain
        cut = f"raised {after_fa / before_fa:.1f}x ({before_fa:.3f} -> {after_fa:.3f})"
    print(
        f"\nscored clips ({', '.join(scored)}), each classifier at its operating threshold "
        f"({results['operating_threshold']['before']:g} -> "
        f"{results['operating_threshold']['after']:g}): false alerts {cut}, clear "
        f"recall {b['recall_clear']:.3f} -> {a['recall_clear']:.3f} ({results['seconds']} s)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
