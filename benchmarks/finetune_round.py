"""One full review + fine-tune round on footage the model was not trained on.

Shots are built from a bundled photograph held out of training (night: real stars and street
lights, i.e. real glints), put in camera motion with grain, with hot pixels injected: the first
shot is reviewed, the others are held out for the before/after figures. A simulated reviewer
labels every detection on the first (accept when it lies within 2 px of an injected defect in
that frame, reject otherwise) through the same labels.json the review app writes; `hotpixel
finetune` trains a new model from those labels; both models then run on every shot at each of
``--thresholds`` and at their operating thresholds. The reviewed shot is detected (and so
reviewed) at ``--review-threshold`` (default: the base model's), which `hotpixel finetune`
stores as the new model's operating threshold. Prints recall and false alerts per frame,
pooled over the held-out shots, before and after; writes OUT/round.json.

    .venv/bin/python benchmarks/finetune_round.py --out bench_out/finetune
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np

from hotpixel import demo
from hotpixel.detect.model_file import default_model_path, load_session
from hotpixel.ml.synth.defects import Defect
from hotpixel.ml.training.finetune import FinetuneConfig, finetune
from hotpixel.outputs import labels
from hotpixel.params import DetectParams
from hotpixel.run.detect import run_detect
from hotpixel.run.job import DetectJob


def detect(pattern: str, out: str, model: str, threshold: float | None = None) -> dict:
    params = DetectParams(model=model, threshold=threshold)
    return run_detect(DetectJob(pattern, out, params=params, force=True)).report


def score(truth: list[Defect], report: dict, frames: int) -> dict:
    hot = [d for d in report["detections"] if d["kind"] == "hot"]
    hits, false_alerts = demo.score(truth, hot)
    return {
        "defects": len(truth),
        "found": hits,
        "recall": hits / max(len(truth), 1),
        "false_alerts": false_alerts,
        "false_alerts_per_frame": false_alerts / frames,
    }


def review(report: dict, truth: list[Defect], out_dir: str) -> tuple[int, int]:
    """Label every detection as a careful reviewer would; return (accepted, rejected)."""
    found = labels.new_labels(report)
    dets = report["detections"]
    accepted = rejected = 0
    for det_id, d in zip(labels.detection_ids(dets), dets, strict=True):
        real = any(
            t.frame == d["frame"] and abs(t.x - d["x"]) <= 2 and abs(t.y - d["y"]) <= 2
            for t in truth
        )
        labels.set_label(found, det_id, d, "accept" if real else "reject")
        accepted += real
        rejected += not real
    labels.save_labels(out_dir, found)
    return accepted, rejected


def pooled(rows: list[dict], frames: int) -> dict:
    """Figures over several shots: defects and false alerts summed."""
    defects = sum(r["defects"] for r in rows)
    found = sum(r["found"] for r in rows)
    false_alerts = sum(r["false_alerts"] for r in rows)
    return {
        "defects": defects,
        "found": found,
        "recall": found / max(defects, 1),
        "false_alerts": false_alerts,
        "false_alerts_per_frame": false_alerts / max(frames * len(rows), 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="bench_out/finetune")
    parser.add_argument("--frames", type=int, default=24)
    parser.add_argument("--steps", type=int, default=400)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--shot-seeds",
        default="101,202,303,404,505",
        help="material seeds: the first shot is reviewed, the others are held out",
    )
    parser.add_argument(
        "--thresholds",
        default="0.5,0.6,0.7,0.8,0.9",
        help="thresholds at which both models run on the held-out shots",
    )
    parser.add_argument(
        "--review-threshold",
        type=float,
        help="threshold the reviewed shot is detected (and so reviewed) at; the fine-tuned model "
        "operates there (default: the base model's)",
    )
    args = parser.parse_args()
    t0 = time.perf_counter()
    base = default_model_path()
    seeds = [int(v) for v in args.shot_seeds.split(",")]
    if len(seeds) < 2:
        parser.error("--shot-seeds needs a reviewed shot and at least one held-out shot")
    shots = []
    for seed in seeds:
        folder = os.path.join(args.out, f"shot_{seed}")
        truth = demo.make_plate(folder, np.random.default_rng(seed), args.frames, nan=False)
        shots.append((os.path.join(folder, "plate", "night.####.exr"), truth, folder))
    pattern_a, truth_a, folder_a = shots[0]
    before_a = detect(pattern_a, os.path.join(folder_a, "qc"), base, args.review_threshold)
    accepted, rejected = review(before_a, truth_a, os.path.join(folder_a, "qc"))
    print(f"reviewed shot {seeds[0]}: {accepted} accepted, {rejected} rejected", flush=True)
    new_model = os.path.join(args.out, "hotpixel-temporal-ft.onnx")
    cfg = FinetuneConfig(steps=args.steps, seed=args.seed)
    finetune([os.path.join(folder_a, "qc", "labels.json")], base, new_model, "temporal-ft", cfg)
    base_t = load_session(base, "cpu")[1].threshold
    new_t = load_session(new_model, "cpu")[1].threshold
    thresholds = sorted({float(v) for v in args.thresholds.split(",")} | {base_t, new_t})
    results: dict = {
        "labels": {"accepted": accepted, "rejected": rejected},
        "reviewed_seed": seeds[0],
        "held_out_seeds": seeds[1:],
        "frames_per_shot": args.frames,
        "review_threshold": args.review_threshold or base_t,
        "operating_threshold": {"before": base_t, "after": new_t},
        "runs": [],
    }
    for label, model in (("before", base), ("after", new_model)):
        for t in thresholds:
            rows = []
            for pattern, truth, folder in shots:
                report = detect(pattern, os.path.join(folder, f"qc_{label}_{t:g}"), model, t)
                rows.append(score(truth, report, args.frames))
            results["runs"].append(
                {
                    "model": label,
                    "threshold": t,
                    "reviewed": rows[0],
                    "held_out": pooled(rows[1:], args.frames),
                    "held_out_shots": rows[1:],
                }
            )
    results["seconds"] = round(time.perf_counter() - t0)
    with open(os.path.join(args.out, "round.json"), "w", encoding="utf-8") as fh:
        json.dump(results, fh, indent=1)
    print(
        f"\n{'model':<8}{'threshold':>10}{'held-out recall':>18}{'false/frame':>13}"
        f"{'reviewed recall':>18}{'false/frame':>13}"
    )
    for r in results["runs"]:
        cells = "".join(
            f"{g['recall']:>9.3f} {g['found']:>3}/{g['defects']:<4}"
            f"{g['false_alerts_per_frame']:>13.2f}"
            for g in (r["held_out"], r["reviewed"])
        )
        print(f"{r['model']:<8}{r['threshold']:>10g}{cells}")
    at = {(r["model"], r["threshold"]): r["held_out"] for r in results["runs"]}
    b0, b1 = at[("before", base_t)], at[("after", new_t)]
    print(
        f"\nheld out ({len(seeds) - 1} shots, {b0['defects']} defects), each model at its "
        f"operating threshold ({base_t:g} before, {new_t:g} after): recall "
        f"{b0['recall']:.3f} -> {b1['recall']:.3f}, false alerts per frame "
        f"{b0['false_alerts_per_frame']:.2f} -> {b1['false_alerts_per_frame']:.2f}; halved: "
        f"{b1['false_alerts_per_frame'] <= b0['false_alerts_per_frame'] / 2}; "
        f"recall >= 0.99: {b1['recall'] >= 0.99}"
    )
    print(f"({results['seconds']} s; model {new_model})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
