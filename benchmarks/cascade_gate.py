"""How much of a frame the cascade's candidate test could skip with a centre-only spatial gate.

A candidate needs its centre pixel above the ring 2 px out by 21% of that level plus the
absolute noise floor (``CandidateParams``: ``min_excess + floor_relative``, ``floor``), in some
channel; that needs the centre frame only. This prints, for the benchmark plate (as
``speed.py`` writes it: the bundled courtyard plate upscaled with grain) and for frames of the
real clips as decoded and upscaled 4x, the share of pixels passing that gate and the share of
32x32 and 64x64 tiles holding one: a tile-skipping candidate test could save at most the rest.

Run: ``PYTHONPATH=engine .venv/bin/python benchmarks/cascade_gate.py`` (the clips are fetched
into the clip cache on first use).
"""

from __future__ import annotations

import argparse

import cv2
import numpy as np

from hotpixel.detect.cascade import candidates as cand
from hotpixel.ml import realvideo
from hotpixel.ml.synth.plates import load_plate


def gate(frame: np.ndarray, p: cand.CandidateParams) -> np.ndarray:
    """``(H, W)`` bool: pixels whose centre passes the candidate test's spatial part."""
    level = cand.local_level(frame)
    least = np.maximum(level, 0.0) * np.float32(p.min_excess + p.floor_relative) + p.floor
    out: np.ndarray = ((frame - level) > least).any(axis=2)
    return out


def tiles(passed: np.ndarray, side: int) -> float:
    """Share of ``side`` x ``side`` tiles holding a passing pixel."""
    h, w = passed.shape
    hh, ww = -(-h // side), -(-w // side)
    pad = np.zeros((hh * side, ww * side), bool)
    pad[:h, :w] = passed
    return float(pad.reshape(hh, side, ww, side).any(axis=(1, 3)).mean())


def report(name: str, frame: np.ndarray, p: cand.CandidateParams) -> None:
    g = gate(frame, p)
    print(
        f"{name:24s} {frame.shape[1]:>5}x{frame.shape[0]:<5} pixels {g.mean():7.2%}"
        f"  32px tiles {tiles(g, 32):6.1%}  64px tiles {tiles(g, 64):6.1%}"
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--clips", default="vtest,megamind,cup,bikes", help="comma list of clips")
    ap.add_argument("--frame", type=int, default=40, help="frame of each clip")
    args = ap.parse_args()
    p = cand.CandidateParams()
    rng = np.random.default_rng(0)
    still = load_plate("courtyard")
    for w, h in ((1920, 1080), (3840, 2160)):
        ys = (np.arange(h) * still.shape[0] / h).astype(int)
        xs = (np.arange(w) * still.shape[1] / w).astype(int)
        plate = still[ys][:, xs] + rng.normal(0, 0.003, (h, w, 3)).astype(np.float32)
        report("benchmark plate", plate.astype(np.float32), p)
    for clip in args.clips.split(","):
        frame = realvideo.load(clip, args.frame, 1)[0]
        report(clip, frame, p)
        up = cv2.resize(frame, None, fx=4, fy=4, interpolation=cv2.INTER_CUBIC)
        report(f"{clip} x4 cubic", np.maximum(up, 0.0), p)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
