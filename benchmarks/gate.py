"""Would a candidate gate speed the neural detector up? Measured on the evaluation set.

The gate: a pixel is a candidate when, in some channel, it is brighter by a ratio ``r`` than
the brightest pixel within +-3 px in every neighbouring frame (the network's own motion-tolerant
temporal feature, with the same log floor). The network would then run only on tiles covering
the candidates grown by 6 px (a detection's pixels must lie inside for results to match dense
ones). For each ``r`` this prints the share of candidate pixels, the share of the frame the
tiles cover (the work left), the dense detections the gated run keeps whole, and the injected
defects whose centre is covered. A useful gate keeps >= 99.9% at a small coverage.

    .venv/bin/python benchmarks/gate.py --windows 6
"""

from __future__ import annotations

import argparse

import numpy as np
from scipy import ndimage

from hotpixel.detect.detectors.neural import NeuralDetector
from hotpixel.detect.grouping import find_detections
from hotpixel.detect.model_file import default_model_path
from hotpixel.detect.windows import Window
from hotpixel.io.geometry import Geometry
from hotpixel.ml.evaluation.harness import evaluation_set
from hotpixel.ml.synth.plates import EVAL_PLATES

FLOOR = 2.0**-8
RATIOS = (0.8, 0.9, 0.95, 1.0, 1.02, 1.05)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--windows", type=int, default=6)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    samples = evaluation_set(list(EVAL_PLATES), args.windows, args.seed)
    det = NeuralDetector(default_model_path())
    totals = {r: np.zeros(6) for r in RATIOS}
    for s in samples:
        prob = det(Window(tuple(s.frames), (1, 2, 3, 4, 5), 2))
        h, w = prob.shape
        centre = np.nan_to_num(s.frames[2])
        found = find_detections(prob, prob, centre, Geometry.simple(w, h), 0, 0.8, 64).detections
        y = np.maximum(np.nan_to_num(np.asarray(s.frames, np.float32)), 0) + FLOOR
        near = np.max([ndimage.maximum_filter(y[k], size=(7, 7, 1)) for k in (0, 1, 3, 4)], 0)
        ratio = (y[2] / near).max(axis=-1)
        for r in RATIOS:
            gate = ratio > r
            cover = ndimage.binary_dilation(gate, structure=np.ones((13, 13), bool))
            x0y0 = [(d.bbox[0], d.bbox[1], d.bbox[2], d.bbox[3]) for d in found]
            kept = sum(bool(cover[b:d, a:c].all()) for a, b, c, d in x0y0)
            truth = sum(bool(cover[min(int(t.y), h - 1), min(int(t.x), w - 1)]) for t in s.defects)
            totals[r] += (gate.mean(), cover.mean(), kept, len(found), truth, len(s.defects))
    n = len(samples)
    print(f"{len(samples)} windows of 1920x1080 from held-out plates (seed {args.seed})")
    print(f"{'ratio':>6}{'candidates':>12}{'covered':>10}{'dense kept':>14}{'truth covered':>16}")
    for r, t in totals.items():
        print(
            f"{r:>6.2f}{t[0] / n:>11.2%}{t[1] / n:>10.1%}{int(t[2]):>8}/{int(t[3]):<5}"
            f"{int(t[4]):>10}/{int(t[5]):<5}"
        )


if __name__ == "__main__":
    main()
