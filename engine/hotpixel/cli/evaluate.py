"""Measure accuracy on held-out plates with generator defects; baselines side by side, PR plot."""

from __future__ import annotations

import argparse
import json
import os
import time
from typing import Any

from hotpixel.detect.detectors.classical import ClassicalDetector
from hotpixel.detect.detectors.neural import NeuralDetector
from hotpixel.detect.model_file import default_model_path
from hotpixel.io.atomic import write_text
from hotpixel.ml.evaluation.baselines import BASELINES
from hotpixel.ml.evaluation.harness import (
    DETECTABLE_SNR,
    ENCODINGS,
    OPERATING_FALSE_ALERTS,
    Scored,
    encoded_set,
    evaluation_set,
    hard_negative_set,
    matched_recall,
    metrics,
    operating,
    recall_at_false_alert_rate,
    score_detector,
    sweep,
)
from hotpixel.ml.synth.plates import EVAL_PLATES


def add_parser(sub: Any, name: str) -> argparse.ArgumentParser:
    p: argparse.ArgumentParser = sub.add_parser(
        name, help=__doc__, description=__doc__, allow_abbrev=False
    )
    p.add_argument("--out", required=True, help="folder for eval.json and pr.png")
    p.add_argument("--count", type=int, default=40, help="evaluation windows (1080p frames)")
    p.add_argument("--seed", type=int, default=2026, help="seed of the evaluation set")
    p.add_argument("--plates", default=",".join(EVAL_PLATES), help="held-out bundled plates")
    p.add_argument(
        "--hard-count",
        type=int,
        default=10,
        help="windows of the hard-negative set (150-250 lights per frame, no defects; 0: none)",
    )
    p.add_argument("--model", default=default_model_path(), help="ONNX model to evaluate")
    p.add_argument("--single-frame-model", help="ONNX single-frame variant, trained the same way")
    p.add_argument("--threshold", type=float, help="operating threshold (default: the model's)")
    p.add_argument("--skip", default="", help="comma list of baselines to leave out")
    p.add_argument(
        "--encoding",
        default="linear",
        choices=tuple(ENCODINGS),
        help="store the windows in this encoding (10-bit DPX codes or half floats) and decode "
        "them back as a plate read would, to compare encodings (docs/colour.md)",
    )
    p.add_argument(
        "--real-motion",
        type=int,
        default=0,
        metavar="FRAMES",
        help="also run the real-motion set: this many frames per motion class (locked, pan, "
        "handheld) from held-out real video clips, fetched and cached on first use (needs the "
        "eval extra); 0: skip",
    )
    p.add_argument("--classifier", help="cascade classifier to evaluate (default: the shipped one)")
    p.set_defaults(run=run)
    return p


def run_real_motion(args: argparse.Namespace, neural: NeuralDetector) -> dict[str, Any]:
    """The real-motion table (docs/evaluation.md): every detector at its operating point."""
    from hotpixel.detect.cascade.detector import CascadeDetector
    from hotpixel.ml.evaluation import real_motion

    cascade = CascadeDetector(args.classifier, "auto")
    skip = set(filter(None, args.skip.split(",")))
    detectors: dict[str, Any] = {
        f"cascade {cascade.model_version}": cascade,
        f"neural {neural.model_version}": neural,
        "classical": ClassicalDetector(),
    }
    thresholds = {
        f"cascade {cascade.model_version}": cascade.default_threshold,
        f"neural {neural.model_version}": neural.default_threshold,
        "classical": ClassicalDetector.default_threshold,
    }
    for name, factory in BASELINES.items():
        fn = None if name in skip else factory()
        if fn is not None:
            detectors[name], thresholds[name] = fn, 0.5
    t = time.perf_counter()
    scored = real_motion.evaluate(detectors, args.real_motion, args.seed, log=print)
    rows = real_motion.table(scored, thresholds)
    real_motion.print_table(rows, args.real_motion)
    ours = f"cascade {cascade.model_version}"
    calibration = {m: real_motion.reliability(scored[m][ours]) for m in scored}
    print(f"reliability of {ours} (score band: detections, share that are defects):")
    for motion, bands in calibration.items():
        cells = ", ".join(
            f"{b['from']:g}-{b['to']:g}: {b['detections']}"
            + ("" if b["defects"] < 0 else f" {b['defects']:.2f}")
            for b in bands
            if b["detections"]
        )
        print(f"  {motion:<10} {cells}")
    print(f"  ({time.perf_counter() - t:.0f} s)")
    return {
        "frames_per_class": args.real_motion,
        "seed": args.seed,
        "table": rows,
        "reliability": calibration,
    }


def run(args: argparse.Namespace) -> int:
    t0 = time.perf_counter()
    samples = encoded_set(
        evaluation_set(args.plates.split(","), args.count, args.seed), args.encoding
    )
    print(
        f"{len(samples)} windows at 1920x1080 from {args.plates}, {args.encoding} "
        f"({time.perf_counter() - t0:.0f}s)"
    )
    hard_set = encoded_set(
        hard_negative_set(args.plates.split(","), args.hard_count, args.seed + 1), args.encoding
    )
    skip = set(filter(None, args.skip.split(",")))
    runs: dict[str, Scored] = {}
    hard_runs: dict[str, Scored] = {}
    neural = NeuralDetector(args.model, "auto")
    candidates: list[tuple[str, Any, bool]] = [
        (f"neural {neural.model_version}", neural, True),
        ("neural, centre repeated", neural, False),
        ("classical", ClassicalDetector(), True),
    ]
    own: dict[str, float] = {}  # detectors judged at their own operating point
    if "cascade" not in skip:
        from hotpixel.detect.cascade.detector import CascadeDetector

        cascade = CascadeDetector(args.classifier, "auto")
        candidates.insert(0, (f"cascade {cascade.model_version}", cascade, True))
        own[f"cascade {cascade.model_version}"] = cascade.default_threshold
    if args.single_frame_model:
        candidates.append(
            ("neural single-frame variant", NeuralDetector(args.single_frame_model), True)
        )
    for name, factory in BASELINES.items():
        fn = None if name in skip else factory()
        if fn is not None:
            candidates.append((name, fn, True))
    for name, fn, temporal in candidates:
        t = time.perf_counter()
        runs[name] = score_detector(fn, samples, temporal)
        hard_runs[name] = score_detector(fn, hard_set, temporal)
        frames = len(samples) + len(hard_set)
        print(f"  {name}: {(time.perf_counter() - t) / frames:.2f} s/frame")
    threshold = args.threshold if args.threshold is not None else neural.default_threshold
    table = {name: metrics(sc, own.get(name, threshold)) for name, sc in runs.items()}
    for name, sc in runs.items():
        table[name]["recall_at_0.02_fa_per_frame"] = recall_at_false_alert_rate(sc, 0.02)
        table[name]["recall_at_0.1_fa_per_frame"] = recall_at_false_alert_rate(sc, 0.1)
        table[name]["detectable_recall_at_0.02_fa_per_frame"] = recall_at_false_alert_rate(
            sc, 0.02, "recall_detectable"
        )
        if hard_set:
            at = hard_runs[name].at[table[name]["threshold"]]
            table[name]["hard_set_false_alerts"] = at.detections
            table[name]["hard_set_false_alerts_on_hard_negatives"] = at.false_on_hard
    print_table(table)
    ours = f"neural {neural.model_version}"
    matched = {
        name: matched_recall(runs[ours], hard_runs[ours], sc, hard_runs[name])
        for name, sc in runs.items()
        if hard_set and name != ours
    }
    print_matched(ours, matched, len(hard_set))
    os.makedirs(args.out, exist_ok=True)
    result: dict[str, Any] = {
        "set": {
            "plates": args.plates,
            "count": args.count,
            "seed": args.seed,
            "hard_count": args.hard_count,
            "hard_seed": args.seed + 1,
            "encoding": args.encoding,
        },
        "threshold": threshold,
        "detectors": table,
        "sweeps": {n: sweep(sc) for n, sc in runs.items()},
        "hard_set_matched_recall": matched,
    }
    if args.real_motion > 0:
        result["real_motion"] = run_real_motion(args, neural)
    write_text(os.path.join(args.out, "eval.json"), json.dumps(result, indent=1) + "\n")
    plot(result["sweeps"], os.path.join(args.out, "pr.png"))
    print(f"written {args.out}/eval.json and {args.out}/pr.png")
    return 0


def print_table(table: dict[str, dict[str, Any]]) -> None:
    cols = (
        "recall",
        "precision",
        "f1",
        "false_alerts_per_frame",
        "false_alerts_on_hard_negatives",
        "recall_at_0.02_fa_per_frame",
        "hard_set_false_alerts_on_hard_negatives",
    )
    heads = (
        "recall",
        "precision",
        "F1",
        "FA/frame",
        "FA on hard neg",
        "recall@0.02FA/f",
        "hard set: on HN",
    )
    print(f"{'detector':<30}" + "".join(f"{h:>16}" for h in heads))
    for name, m in table.items():
        values = [m.get(c, "-") for c in cols]
        cells = "".join(f"{v:>16.4f}" if isinstance(v, float) else f"{v:>16}" for v in values)
        print(f"{name:<30}{cells}")
    first = next(iter(table.values()))
    for key, what in (
        ("recall_by_contrast", "contrast (peak above background, relative)"),
        ("recall_by_snr", "signal over noise (peak above background, in grain sigmas)"),
    ):
        print(f"recall by {what}: " + ", ".join(first[key]))
        for name, m in table.items():
            vals = ", ".join("-" if v is None else f"{v:.3f}" for v in m[key].values())
            print(f"  {name:<28} {vals}")
    print(
        f"detectable defects (signal over noise >= {DETECTABLE_SNR:g}): "
        f"{first['detectable_truths']} of {first['truths']}; their recall at the threshold, "
        "and at <= 0.02 false alerts per frame:"
    )
    for name, m in table.items():
        print(
            f"  {name:<28} {m['recall_detectable']:.3f}, "
            f"{m['detectable_recall_at_0.02_fa_per_frame']:.3f}"
        )


def print_matched(ours: str, matched: dict[str, list[dict[str, Any]]], frames: int) -> None:
    """Hard-negative false alerts at matched recall, summed over the operating thresholds."""
    if not frames:
        return
    print(
        f"hard-negative set ({frames} frames, no defects): false alerts on hard negatives "
        f"(and in all) at matched recall, {ours} against each detector, summed over that "
        f"detector's thresholds where both keep <= {OPERATING_FALSE_ALERTS:g} false alerts per "
        "frame on the main set:"
    )
    for name, all_rows in matched.items():
        rows = operating(all_rows)
        if not rows:
            print(f"  {name:<28} (no threshold where both are usable)")
            continue
        mine = sum(r["on_hard"] for r in rows)
        theirs = sum(r["other_on_hard"] for r in rows)
        ratio = f"{mine / theirs:.2f}" if theirs else "-"
        at = ", ".join(f"{r['other_threshold']:g}" for r in rows)
        print(
            f"  {name:<28} ours {mine} ({sum(r['false'] for r in rows)}), theirs {theirs} "
            f"({sum(r['other_false'] for r in rows)}), ratio {ratio}, at its {at}"
        )


def plot(sweeps: dict[str, list[dict[str, Any]]], path: str) -> None:
    """Recall against false alerts per frame, one line per detector (needs matplotlib)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: no plot (pip install -e '.[eval]')")
        return
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for name, rows in sweeps.items():
        fa = [max(r["false_alerts_per_frame"], 1e-3) for r in rows]
        ax.plot(fa, [r["recall"] for r in rows], marker=".", label=name)
    ax.set_xscale("log")
    ax.set_xlabel("false alerts per frame (1920x1080)")
    ax.set_ylabel("recall")
    ax.axvline(0.02, color="grey", linestyle=":")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
