"""Run the detectors on real sensor defects: astroscrappy's GMOS frame (2 labelled cosmic rays).

The frame is a single exposure, so there are no neighbouring frames: the window is the frame
repeated (what the engine does for a one-frame sequence). The cosmic-ray boxes come from
astroscrappy's own test (rows 41-71, columns 142-160 and rows 117-146, columns 35-42).
Needs astropy and astroscrappy (``pip install -e '.[eval]'``).
Run: ``.venv/bin/python benchmarks/astronomy.py``.
"""

from __future__ import annotations

import os
import sys
import tempfile

import numpy as np

from hotpixel.io.exr_writer import write_exr
from hotpixel.io.geometry import Geometry
from hotpixel.params import DetectParams
from hotpixel.run.detect import run_detect
from hotpixel.run.job import DetectJob

COSMICS = {"cosmic 1": (41, 72, 142, 161), "cosmic 2": (117, 147, 35, 43)}  # y0, y1, x0, x1


def load_gmos() -> np.ndarray:
    import astroscrappy
    from astropy.io import fits

    path = os.path.join(os.path.dirname(astroscrappy.__file__), "tests", "data", "gmos.fits")
    with fits.open(path) as hdul:
        sci = np.asarray(hdul["SCI"].data, np.float32)
    return sci / 1000.0  # sky near 0.05, like a dark plate; FITS rows are bottom-up


def main() -> int:
    try:
        sci = load_gmos()
    except ImportError as exc:
        print(f"needs astropy and astroscrappy: {exc}")
        return 1
    image = np.ascontiguousarray(sci[::-1])  # top-left origin, as the engine's convention
    h, w = image.shape
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "gmos.0001.exr")
        write_exr(
            path,
            np.repeat(image[..., None], 3, -1),
            ["R", "G", "B"],
            Geometry.simple(w, h),
            ["float"] * 3,
            {},
        )
        for detector in ("neural", "classical"):
            out = os.path.join(tmp, detector)
            job = DetectJob(path, out, params=DetectParams(detector=detector, max_area=1000))
            dets = run_detect(job).report["detections"]
            print(f"{detector}: {len(dets)} detection(s)")
            for d in dets:
                fy = h - d["y"]  # back to FITS rows for the comparison
                hit = [
                    n
                    for n, (y0, y1, x0, x1) in COSMICS.items()
                    if y0 - 2 <= fy <= y1 + 2 and x0 - 2 <= d["x"] <= x1 + 2
                ]
                print(
                    f"  x={d['x']:.1f} fits_row={fy:.1f} area={d['area']} "
                    f"score={d['score']:.2f} {hit[0] if hit else 'outside the labelled rays'}"
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
