"""False alerts at a sequence's ends against its middle, on the held-out real clips.

A run judges the first and last two frames of a sequence, and the frames beside a gap, on
windows mirrored about the centre (``[2, 1, 0, 1, 2]`` at the first frame), where the frames
between have neighbours on both sides. This scores a detector on every frame of each stretch of
the held-out clips (:data:`hotpixel.ml.realvideo.HELDOUT`, camera moves and generator defects
as in ``benchmarks/heldout.py``) and prints recall and false alerts for the ends and for the
middle apart (:func:`hotpixel.ml.evaluation.heldout.score_ends`). Run from the repository root:

    PYTHONPATH=engine python benchmarks/sequence_ends.py --frames 12 [--model PATH]

Each stretch is ``--frames`` + 4 frames long, so 4 of every ``--frames`` + 4 frames are ends.
"""

from __future__ import annotations

import argparse
import sys
import time

from hotpixel.detect.detectors import create
from hotpixel.ml.evaluation import heldout
from hotpixel.params import DetectParams


def main(argv: list[str] | None = None) -> int:
    """Print the ends' and the middle's rows (see the module's doc); 0 on success."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=12, help="centre frames per clip and motion")
    ap.add_argument("--seed", type=int, default=heldout.SEED)
    ap.add_argument("--model", default="", help="ONNX model (default: the shipped one)")
    ap.add_argument("--threshold", type=float, help="default: the detector's own")
    args = ap.parse_args(argv)
    detector = create(DetectParams(detector="cascade", model=args.model, device="cpu"))
    threshold = args.threshold if args.threshold is not None else detector.default_threshold
    t0 = time.perf_counter()
    parts = heldout.score_ends(detector, frames=args.frames, seed=args.seed)
    print(f"cascade {detector.model_version} at {threshold}, {args.frames} frames a stretch")
    print(f"{'':8}{'frames':>8}{'clear':>8}{'all':>8}{'FA/frame':>10}{'FA/1080p':>10}")
    for name, scored in parts.items():
        r = heldout.row(scored, threshold)
        print(
            f"{name:8}{int(r['frames']):>8}{r['recall_clear']:>8.3f}{r['recall_all']:>8.3f}"
            f"{r['false_alerts_per_frame']:>10.3f}{r['false_alerts_per_1080p_frame']:>10.3f}"
        )
    print(f"({time.perf_counter() - t0:.0f} s)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
