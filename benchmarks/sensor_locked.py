"""`hotpixel sensor` on locked-off real footage: the footprint test (docs/sensor.md).

Real sensor sequences (``sensor/`` in the shared data folder, read by
:mod:`hotpixel.ml.realsensor`): every position reported is listed with its evidence and checked
by eye-equivalent criteria computed here from the frames, apart from the tool: it is one
photosite; in each third of the shot its brightest 3x3 pixel is itself (it does not move with
the stars); its excess over its 5x5 median in each third is within 25% of its mean (no twinkle,
no drift). Locked-off real video with no known sensor defect (the shared clips through
:mod:`hotpixel.ml.realvideo`): every position reported there is false.

Run: ``.venv/bin/python benchmarks/sensor_locked.py`` (about 7 minutes on 2 busy cores, nearly
all of it the two videos); ``--frames N`` reads only the first N frames of each video,
``--no-video`` skips them (30 s).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from scipy import ndimage

from hotpixel.io.geometry import Geometry
from hotpixel.ml import realsensor, realvideo
from hotpixel.sensor import Findings, SensorParams, ShotAnalysis

VIDEOS = ("street_cctv", "room_lamps")


def analyse(frames: np.ndarray) -> tuple[Findings, float]:
    """Run the pass over ``(N, H, W, 3)`` frames; the findings and seconds per frame."""
    n, h, w = frames.shape[:3]
    a = ShotAnalysis(h, w, SensorParams())
    start = time.perf_counter()
    for i, f in enumerate(frames):
        a.add(1001 + i, f)
    found = a.finish(Geometry.simple(w, h))
    return found, (time.perf_counter() - start) / n


def check(frames: np.ndarray, x: int, y: int) -> tuple[bool, bool, list[float]]:
    """Eye-equivalent checks at column ``x``, row ``y``: (stays put, steady, excess per third)."""
    grey = frames[..., 0]
    thirds = np.array_split(np.arange(len(grey)), 3)
    put, excess = True, []
    for part in thirds:
        mean = grey[part].mean(axis=0)
        patch = mean[max(y - 1, 0) : y + 2, max(x - 1, 0) : x + 2]
        put &= bool(patch.max() == mean[y, x])
        excess.append(float(mean[y, x] - ndimage.median_filter(mean, 5)[y, x]))
    steady = bool(np.all(np.abs(np.array(excess) - np.mean(excess)) <= 0.25 * abs(np.mean(excess))))
    return put, steady, excess


def sensors() -> None:
    for name in realsensor.SEQUENCES:
        frames = realsensor.load(name)
        found, per_frame = analyse(frames)
        kinds = {}
        for d in found.defects:
            kinds[d["kind"], d["evidence"]] = kinds.get((d["kind"], d["evidence"]), 0) + 1
        print(
            f"{name}: {frames.shape[0]} frames {frames.shape[2]}x{frames.shape[1]}, "
            f"{len(found.defects)} position(s) {kinds}, {found.candidates_total} unconfirmed, "
            f"optics {found.optics}, {per_frame:.3f} s/frame"
        )
        for d in found.defects:
            x, y = int(d["x"]), int(d["y"])
            put, steady, excess = check(frames, x, y)
            print(
                f"  {d['kind']} x {x} y {y} area {d['area']} evidence {d['evidence']}: "
                f"one photosite {d['area'] == 1}, stays put {put}, steady {steady}, excess "
                f"per third {', '.join(f'{v * 65535:.0f}' for v in excess)} counts"
            )


def videos(count: int | None) -> None:
    for name in VIDEOS:
        frames = realvideo.load(name, 0, count)
        found, per_frame = analyse(frames)
        print(
            f"{name}: {frames.shape[0]} frames {frames.shape[2]}x{frames.shape[1]}, "
            f"false positions {len(found.defects)} "
            f"{[(d['kind'], d['x'], d['y'], d['evidence']) for d in found.defects]}, "
            f"{found.candidates_total} unconfirmed, optics {found.optics}, "
            f"{per_frame:.3f} s/frame"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, default=None, help="first N frames of each video")
    parser.add_argument("--no-video", action="store_true", help="the sensor sequences only")
    args = parser.parse_args()
    sensors()
    if not args.no_video:
        videos(args.frames)


if __name__ == "__main__":
    main()
