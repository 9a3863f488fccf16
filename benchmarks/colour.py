"""Cost of decoding a plate's encoding to scene-linear, per 4K frame, against decode alone.

One 4096x2160 frame made from a bundled real plate (upscaled, with grain and hot pixels) is
written in each encoding the issue names (linear EXR, ARRI LogC3 10-bit DPX, S-Log3 10-bit DPX,
ACEScct half EXR). For each it prints, best of ``--repeat`` reads taken alternately:

- decode: :func:`hotpixel.io.frames.read_frame` as before colour management (values as stored);
- decode + transform: the same read with the run's :class:`hotpixel.io.colour.Decoder`;
- their ratio (the issue's bar is 1.2);
- OCIO itself on the decoded frame (the fallback path) for comparison, and the largest
  difference between the decoder's result and OCIO's.

Run: ``.venv/bin/python benchmarks/colour.py`` (``--size 3840x2160``, ``--repeat 7``).
Machines are noisy: compare ratios from one run.
"""

from __future__ import annotations

import argparse
import functools
import os
import tempfile
import time
from collections.abc import Callable

import numpy as np
import OpenImageIO as oiio

from hotpixel.io.colour import BUILTIN_CONFIG, Decoder, InputColour, encode, run_processor
from hotpixel.io.frames import read_frame
from hotpixel.ml.synth.plates import load_plate

# name, colour space, file suffix, stored type, bits
ENCODINGS = (
    ("linear EXR (half, zip)", "ACEScg", "exr", "half", None),
    ("ARRI LogC3 DPX 10-bit", "ARRI LogC3 (EI800)", "dpx", "uint16", 10),
    ("S-Log3 DPX 10-bit", "S-Log3 S-Gamut3", "dpx", "uint16", 10),
    ("ACEScct EXR (half, zip)", "ACEScct", "exr", "half", None),
)


def plate(size: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """A ``(h, w, 3)`` float32 scene-linear frame: a real plate upscaled, grain, hot pixels."""
    w, h = size
    still = load_plate("courtyard")
    ys = (np.arange(h) * still.shape[0] / h).astype(int)
    xs = (np.arange(w) * still.shape[1] / w).astype(int)
    rgb = still[ys][:, xs] + rng.normal(0, 0.003, (h, w, 3)).astype(np.float32)
    rgb[rng.integers(h, size=50), rng.integers(w, size=50)] = 4.0
    return np.asarray(rgb, np.float32)


def write(path: str, pixels: np.ndarray, fmt: str, bits: int | None) -> None:
    h, w, _ = pixels.shape
    spec = oiio.ImageSpec(w, h, 3, fmt)
    if bits:
        spec.attribute("oiio:BitsPerSample", bits)
    if path.endswith(".exr"):
        spec.attribute("compression", "zip")
    out = oiio.ImageOutput.create(path)
    assert out is not None and out.open(path, spec), oiio.geterror()
    assert out.write_image(np.ascontiguousarray(pixels, np.float32)), out.geterror()
    out.close()


def best_pair(
    first: Callable[[], object], second: Callable[[], object], repeat: int
) -> tuple[float, float]:
    """Best time of each, the two run alternately so that a busy machine slows both alike."""
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(repeat):
        for fn, out in ((first, times[0]), (second, times[1])):
            t = time.perf_counter()
            fn()
            out.append(time.perf_counter() - t)
    return min(times[0]), min(times[1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--size", default="4096x2160", help="frame size WxH")
    ap.add_argument("--repeat", type=int, default=5, help="reads per measurement (best kept)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    size = tuple(int(v) for v in args.size.split("x"))
    linear = plate((size[0], size[1]), np.random.default_rng(args.seed))
    print(f"{size[0]}x{size[1]}, OpenImageIO {oiio.__version__}, threads {os.cpu_count()}")
    heads = f"{'decode s':>10}{'+transform s':>14}{'ratio':>8}{'OCIO s':>9}{'max rel diff':>14}"
    print(f"{'encoding':<26}{heads}")
    with tempfile.TemporaryDirectory() as tmp:
        for label, space, ext, fmt, bits in ENCODINGS:
            colour = InputColour(space, "flag", "benchmark", BUILTIN_CONFIG, "ACEScg")
            path = os.path.join(tmp, f"frame.0001.{ext}")
            write(path, linear if space == "ACEScg" else encode(linear, colour), fmt, bits)
            decoder = Decoder(colour)
            t0 = time.perf_counter()
            decoder.read_type(oiio.TypeDesc(fmt))  # bakes the table once per run
            baked = time.perf_counter() - t0
            plain, managed = best_pair(
                functools.partial(read_frame, path, 1),
                functools.partial(read_frame, path, 1, decoder),
                args.repeat,
            )
            raw = read_frame(path, 1).rgb
            t0 = time.perf_counter()
            truth = run_processor(raw, space, "ACEScg", BUILTIN_CONFIG)
            ocio = time.perf_counter() - t0
            ours = read_frame(path, 1, decoder).rgb
            diff = float(np.max(np.abs(ours - truth) / (np.abs(truth) + 1e-4)))
            print(
                f"{label:<26}{plain:>10.3f}{managed:>14.3f}{managed / plain:>8.2f}"
                f"{ocio:>9.3f}{diff:>14.2e}   (table baked once per run in {baked:.2f} s)"
            )


if __name__ == "__main__":
    main()
