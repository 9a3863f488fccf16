"""The demo: a real night plate in camera motion, hot pixels injected, detected and checked.

Builds ``OUT/plate/night.####.exr`` (half, zip) from a bundled CC0 HDR photograph with real
stars and street lights, puts it in motion with grain, injects hot pixels (and one NaN) at
known places, runs ``hotpixel detect`` into ``OUT/result``, compares what was found with what
was injected, and writes a picture of every hit. Run it with ``make demo`` or
``python -m hotpixel.demo --out demo_out``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from typing import Any

import numpy as np

from hotpixel.io.atomic import write_text
from hotpixel.io.exr_writer import write_exr
from hotpixel.io.geometry import Geometry
from hotpixel.ml.synth.defects import Defect, inject, placement_heatmap
from hotpixel.ml.synth.plates import camera_path, load_plate, put_in_motion
from hotpixel.outputs.contact_sheet import write_contact_sheet
from hotpixel.outputs.qc_page import write_html_report
from hotpixel.progress import Progress
from hotpixel.run.detect import run_detect
from hotpixel.run.job import DetectJob

FIRST = 1001


def make_plate(
    out: str,
    rng: np.random.Generator,
    frames: int = 12,
    plate: str = "night",
    per_frame: int = 2,
    nan: bool = True,
) -> list[Defect]:
    """Write ``out/plate/<plate>.####.exr`` from a bundled photograph; return the defects.

    ``per_frame`` hot pixels are injected in every frame but the first two and the last.
    """
    still = load_plate(plate)
    path = camera_path(rng, frames, speed=1.3, shake=0.3)
    size = (960, 400)
    shots = put_in_motion(still, path - path.mean(axis=0), size, rng, grain=0.004)
    truth: list[Defect] = []
    for i in range(2, frames - 1):  # no defects in the first two frames, to show clean frames
        lo, hi = max(0, i - 2), min(frames, i + 3)
        heat = placement_heatmap(shots[lo:hi])
        truth.extend(inject(shots[i], FIRST + i, heat, per_frame, rng, contrast=(1.0, 40.0)))
    if nan:
        shots[7][123, 456, 1] = np.nan  # a pixel error of another kind
    folder = os.path.join(out, "plate")
    os.makedirs(folder, exist_ok=True)
    geometry = Geometry.simple(*size)
    for i, rgb in enumerate(shots):
        name = os.path.join(folder, f"{plate}.{FIRST + i:04d}.exr")
        write_exr(name, rgb, ["R", "G", "B"], geometry, ["half"] * 3, {"compression": "zip"})
    return truth


def score(truth: list[Defect], detections: list[dict[str, Any]]) -> tuple[int, int]:
    """(hits, false alerts) of ``hot`` detections: within 2 px of a true centroid, once each."""
    used: set[int] = set()
    for t in truth:
        for i, d in enumerate(detections):
            near = abs(d["x"] - t.x) <= 2 and abs(d["y"] - t.y) <= 2
            if i not in used and d["frame"] == t.frame and near:
                used.add(i)
                break
    return len(used), len(detections) - len(used)


def places(groups: list[dict[str, Any]]) -> str:
    """The report's groups in words: the places flagged in several frames (here: scene lights)
    apart from the single hits."""
    many = [g for g in groups if g["count"] > 1]
    if not many:
        return f"{len(groups)} places on the QC page, none flagged in more than one frame"
    lines = [
        f"{len(groups)} places on the QC page; {len(many)} flagged in several frames "
        "(one verdict covers each):"
    ]
    for g in many:
        lines.append(
            f"  {g['id']}: {g['count']} hits at x {g['x']:.0f} y {g['y']:.0f}, frames {g['frames']}"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="hotpixel-demo", description=__doc__)
    parser.add_argument("--out", default="demo_out", help="folder for the plate and results")
    parser.add_argument("--seed", type=int, default=7, help="random seed of the demo material")
    args = parser.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    out = os.path.abspath(args.out)
    print(f"building a 12-frame plate from a real night photograph in {out}/plate ...")
    truth = make_plate(out, rng)
    write_text(os.path.join(out, "truth.json"), json.dumps([t.as_dict() for t in truth], indent=1))
    pattern = os.path.join(out, "plate", "night.####.exr")
    result = run_detect(
        DetectJob(pattern, os.path.join(out, "result"), force=True), Progress("bar")
    )
    dets = result.report["detections"]
    hot = [d for d in dets if d["kind"] == "hot"]
    hits, false_alerts = score(truth, hot)
    write_contact_sheet(os.path.join(out, "result"), result.report)
    write_html_report(os.path.join(out, "result"), result.report)
    print(
        f"\ninjected {len(truth)} hot pixels; found {hits}, missed {len(truth) - hits}, "
        f"false alerts {false_alerts}; other kinds: "
        f"{', '.join(d['kind'] for d in dets if d['kind'] != 'hot') or 'none'}"
    )
    print(places(result.report["groups"]))
    print("outputs:")
    for label, rel in [
        ("plate", "plate/night.####.exr"),
        ("masks (channel hotpixel.mask)", "result/" + result.report["mask"]["pattern"]),
        ("report", "result/report.json"),
        ("table", "result/detections.csv"),
        ("Nuke tracker files", "result/tracks/"),
        ("QC page (open in a browser)", "result/report.html"),
        ("picture of every hit", "result/hits.png"),
        ("injected truth", "truth.json"),
    ]:
        print(f"  {label:>30}: {os.path.join(out, rel)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
