"""The held-out real clips' table: one detector per clip, per motion class and pooled.

Scores a detector (default: the cascade with the shipped classifier, at its own operating
threshold) on :data:`hotpixel.ml.realvideo.HELDOUT`, clips never trained or selected on, with
camera moves (locked, pan, handheld) and generator defects in every frame
(:mod:`hotpixel.ml.evaluation.heldout`). Prints recall of all (>= 0.5x over the local level)
and clear (>= 2x the level) defects, false alerts per frame and per 1080p-equivalent frame,
false alerts on small persistent lights, and the spread over clips. ``--particles N`` adds N
fast small bright things crossing the picture per frame (sparks, rain, dust:
:func:`hotpixel.ml.synth.negatives.add_particles`), their false alerts counted with the
lights'. ``--folds K`` also scores
the same detector on each cross-validation fold's validation clips (for a model trained on all
of the pool this is not a cross-validated figure: it says how the clips differ). Needs the eval
extra (PyAV) and the shared data folder ($HOTPIXEL_SHARED_DATA). Run from the repository root:

    PYTHONPATH=engine python benchmarks/heldout.py --frames 52 [--model PATH] [--json OUT]

``--frames 8`` is a quick smoke run; ``--frames 52`` (two 26-frame stretches per clip and
motion) takes about 10 minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from hotpixel.detect.detectors import create
from hotpixel.ml import realvideo
from hotpixel.ml.evaluation import heldout
from hotpixel.params import DetectParams


def main(argv: list[str] | None = None) -> int:
    """Print the held-out table (see the module's doc); 0 on success."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=heldout.FRAMES, help="centre frames per clip")
    ap.add_argument("--seed", type=int, default=heldout.SEED)
    ap.add_argument("--detector", default="cascade", choices=["cascade", "neural", "classical"])
    ap.add_argument("--model", default="", help="ONNX model (default: the shipped one)")
    ap.add_argument("--threshold", type=float, help="default: the detector's own")
    ap.add_argument(
        "--sweep",
        default="",
        help="comma-separated thresholds: also print the pooled row and each motion class's "
        "clear recall at each (from the same run)",
    )
    ap.add_argument("--folds", type=int, default=0, help="also score the folds' validation clips")
    ap.add_argument("--json", default="", help="write the tables to this JSON file")
    ap.add_argument(
        "--particles",
        type=float,
        default=0.0,
        help="also add this many sparks/rain/dust crossing the picture per frame (counted as "
        "lights)",
    )
    args = ap.parse_args(argv)
    detector = create(DetectParams(detector=args.detector, model=args.model, device="cpu"))
    threshold = args.threshold if args.threshold is not None else detector.default_threshold
    name = f"{detector.name} {detector.model_version}"
    t0 = time.perf_counter()
    cells = heldout.evaluate(
        detector, frames=args.frames, seed=args.seed, log=_log, particles=args.particles
    )
    summary = heldout.summarise(cells, threshold)
    result = {"detector": name, "frames": args.frames, "seed": args.seed}
    result["heldout"] = summary.as_dict()
    print(
        heldout.format_summary(
            summary,
            f"held-out clips ({', '.join(realvideo.HELDOUT)}): {name} at {summary.threshold}, "
            f"{args.frames} frames per clip and motion, seed {args.seed}"
            + (f", {args.particles:g} particles a frame" if args.particles else ""),
        )
    )
    if args.sweep:
        result["sweep"] = _sweep(cells, [float(t) for t in args.sweep.split(",")])
    if args.folds:
        by_fold = heldout.cross_validate(lambda fold: detector, args.folds, args.frames, args.seed)
        folds = {i: heldout.summarise(c, threshold) for i, c in by_fold.items()}
        pool = heldout.summarise(heldout.pool_folds(by_fold), threshold)
        for i, s in folds.items():
            print(heldout.format_summary(s, f"fold {i} validation clips"))
        print(heldout.format_summary(pool, f"all {args.folds} folds pooled"))
        result["folds"] = {str(i): s.as_dict() for i, s in folds.items()}
        result["folds_pooled"] = pool.as_dict()
    print(f"({time.perf_counter() - t0:.0f} s)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=1)
    return 0


def _sweep(cells: heldout.Cells, thresholds: list[float]) -> dict[str, object]:
    """Print and return the pooled row and each motion's clear recall at each threshold."""
    print(f"{'threshold':>9}{'clear':>8}{'all':>8}{'FA/1080p':>10}{'lights':>8}  clear by motion")
    out: dict[str, object] = {}
    for t in thresholds:
        s = heldout.summarise(cells, t)
        p = s.pooled
        motions = "  ".join(f"{m} {r['recall_clear']:.3f}" for m, r in s.motions.items())
        print(
            f"{s.threshold:>9g}{p['recall_clear']:>8.3f}{p['recall_all']:>8.3f}"
            f"{p['false_alerts_per_1080p_frame']:>10.2f}{int(p['false_alerts_on_lights']):>8}"
            f"  {motions}"
        )
        out[f"{s.threshold:g}"] = s.as_dict()
    return out


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
