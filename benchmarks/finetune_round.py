"""One full review + fine-tune round on footage the model was not trained on.

Two shots are built from a bundled photograph held out of training (night: real stars and
street lights, i.e. real glints), put in camera motion with grain, with hot pixels injected:
shot A is reviewed, shot B is kept for the before/after figures. A simulated reviewer labels
every detection on A (accept when it lies within 2 px of an injected defect in that frame,
reject otherwise) through the same labels.json the review app writes; `hotpixel finetune`
trains a new model from those labels; both models then run on B (and A) at the same
threshold. Prints recall and false alerts per frame before and after; writes OUT/round.json.

    .venv/bin/python benchmarks/finetune_round.py --out bench_out/finetune
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np

from hotpixel import demo, labels
from hotpixel.model_file import default_model_path
from hotpixel.params import DetectParams
from hotpixel.pipeline import DetectJob, run_detect
from hotpixel.synth.defects import Defect
from hotpixel.training.finetune import FinetuneConfig, finetune


def detect(pattern: str, out: str, model: str) -> dict:
    params = DetectParams(model=model)
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="bench_out/finetune")
    parser.add_argument("--frames", type=int, default=24)
    parser.add_argument("--steps", type=int, default=400)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--shot-seeds", default="101,202", help="material seeds of shots A,B")
    args = parser.parse_args()
    t0 = time.perf_counter()
    base = default_model_path()
    shots = {}
    seed_a, seed_b = (int(v) for v in args.shot_seeds.split(","))
    for name, seed in (("A", seed_a), ("B", seed_b)):
        folder = os.path.join(args.out, f"shot_{name}")
        truth = demo.make_plate(folder, np.random.default_rng(seed), args.frames, nan=False)
        shots[name] = (os.path.join(folder, "plate", "night.####.exr"), truth, folder)
    pattern_a, truth_a, folder_a = shots["A"]
    before_a = detect(pattern_a, os.path.join(folder_a, "qc"), base)
    accepted, rejected = review(before_a, truth_a, os.path.join(folder_a, "qc"))
    print(f"reviewed shot A: {accepted} accepted, {rejected} rejected", flush=True)
    new_model = os.path.join(args.out, "hotpixel-temporal-v1-ft.onnx")
    cfg = FinetuneConfig(steps=args.steps, seed=args.seed)
    finetune([os.path.join(folder_a, "qc", "labels.json")], base, new_model, "temporal-v1-ft", cfg)
    results: dict = {"labels": {"accepted": accepted, "rejected": rejected}}
    for name, (pattern, truth, folder) in shots.items():
        for label, model in (("before", base), ("after", new_model)):
            report = detect(pattern, os.path.join(folder, f"qc_{label}"), model)
            results.setdefault(name, {})[label] = score(truth, report, args.frames)
    results["seconds"] = round(time.perf_counter() - t0)
    with open(os.path.join(args.out, "round.json"), "w", encoding="utf-8") as fh:
        json.dump(results, fh, indent=1)
    print(f"\n{'shot':<22}{'model':<8}{'recall':>8}{'found':>8}{'false/frame':>13}")
    for name, role in (("A", "A (reviewed)"), ("B", "B (held out)")):
        for label in ("before", "after"):
            r = results[name][label]
            print(
                f"{role:<22}{label:<8}{r['recall']:>8.3f}{r['found']:>4}/{r['defects']:<3}"
                f"{r['false_alerts_per_frame']:>13.2f}"
            )
    b0, b1 = results["B"]["before"], results["B"]["after"]
    halved = b1["false_alerts_per_frame"] <= b0["false_alerts_per_frame"] / 2
    kept = b1["recall"] >= 0.99
    print(f"\nheld-out shot B: false alerts halved: {halved}; recall >= 0.99: {kept}")
    print(f"({results['seconds']} s; model {new_model})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
