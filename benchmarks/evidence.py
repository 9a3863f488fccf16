"""Speed of the candidate test alone: the NumPy definition against the compiled pass.

On one window made from a bundled real plate (upscaled, panned 2 px a frame, grain, a few hot
pixels; the neighbours are the raw frames, as in a tolerance-only comparison) it times
``candidates.evidence_numpy`` and ``candidates.evidence`` (compiled with Numba) on one thread,
over the whole picture and by the candidate stage's bands, best of ``--repeat``, and checks
that they agree. OpenCV keeps its own threads for the NumPy path's filters; CPU time is what
the cascade's two band threads share. With ``--compile`` it
also times, each in a fresh subprocess with an empty Numba cache folder, the first call (the
compile) and then the first call of a second process (loading the on-disk cache).
Run: ``PYTHONPATH=engine .venv/bin/python benchmarks/evidence.py --size 2160``. Machines are
noisy: compare the ratio from one run.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

from hotpixel.detect.cascade import candidates as cand
from hotpixel.detect.cascade import compiled
from hotpixel.detect.cascade.stage import HALO
from hotpixel.detect.motion import row_blocks
from hotpixel.ml.synth.plates import load_plate

SIZES = {"540": (960, 540), "1080": (1920, 1080), "2160": (3840, 2160)}


def window(size: tuple[int, int], seed: int = 0) -> list[np.ndarray]:
    """Five ``(H, W, 3)`` float32 frames of the courtyard plate panning 2 px a frame."""
    rng = np.random.default_rng(seed)
    w, h = size
    still = load_plate("courtyard")
    ys = (np.arange(h) * still.shape[0] / h).astype(int)
    xs = (np.arange(w + 16) * still.shape[1] / (w + 16)).astype(int)
    big = still[ys][:, xs]
    frames = []
    for t in range(5):
        rgb = big[:, 2 * t : 2 * t + w] + rng.normal(0, 0.003, (h, w, 3)).astype(np.float32)
        for _ in range(5):
            rgb[rng.integers(h), rng.integers(w)] = 4.0
        frames.append(np.ascontiguousarray(rgb, np.float32))
    return frames


def best_of(repeat: int, fn: object) -> tuple[float, float]:
    """The least wall and the least CPU seconds (all threads) of ``repeat`` calls of ``fn``."""
    wall, cpu = [], []
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()  # type: ignore[operator]
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return min(wall), min(cpu)


def first_call(size: str, cache: str) -> float:
    """Seconds of the first compiled call in a fresh process whose Numba cache is ``cache``."""
    code = (
        f"import time, evidence as e; f = e.window(e.SIZES[{size!r}]);"
        "t = time.perf_counter(); e.compiled.kernel(); e.cand.evidence(f[2], f[:2] + f[3:]);"
        "print(time.perf_counter() - t)"
    )
    env = {**os.environ, "NUMBA_CACHE_DIR": cache}
    out = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        cwd=os.path.dirname(os.path.abspath(__file__)),
        capture_output=True,
        text=True,
        check=True,
    )
    return float(out.stdout.split()[-1])


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--size", default="2160", choices=sorted(SIZES), help="picture height")
    p.add_argument("--repeat", type=int, default=3, help="timed calls of each path")
    p.add_argument("--compile", action="store_true", help="also time the compile and cache load")
    args = p.parse_args()
    if args.compile:
        with tempfile.TemporaryDirectory() as cache:  # a small picture: the compile dominates
            cold, warm = first_call("540", cache), first_call("540", cache)
        print(
            f"first call, empty cache (compile): {cold:.2f} s; next process (cache): {warm:.2f} s"
        )
    frames = window(SIZES[args.size])
    centre, others = frames[2], frames[:2] + frames[3:]
    if compiled.kernel() is None:
        print("the compiled pass is unavailable here (see the warning)")
        return 1
    fast = cand.evidence(centre, others)  # compiled (or loaded) before timing
    ref = cand.evidence_numpy(centre, others)
    names = ("residual", "sigma", "level", "score")
    same = all(np.array_equal(getattr(fast, n), getattr(ref, n)) for n in names)
    h, w = centre.shape[:2]

    def scratch_evidence(centre: np.ndarray, others: list[np.ndarray]) -> cand.Evidence:
        return cand.evidence(centre, others, scratch=True)  # as the stage calls it

    def by_bands(run: object) -> None:  # as the candidate stage calls it, one band at a time
        for y0, y1 in row_blocks(h, w):
            r0, r1 = max(0, y0 - HALO), min(h, y1 + HALO)
            run(centre[r0:r1], [f[r0:r1] for f in others])  # type: ignore[operator]

    print(f"evidence on one {w}x{h} frame, 4 neighbours, one thread, best of {args.repeat}:")
    for name, slow, fast in (
        (
            "whole picture",
            lambda: cand.evidence_numpy(centre, others),
            lambda: cand.evidence(centre, others),
        ),
        ("by bands", lambda: by_bands(cand.evidence_numpy), lambda: by_bands(scratch_evidence)),
    ):
        (slow_s, slow_cpu), (fast_s, fast_cpu) = (
            best_of(args.repeat, slow),
            best_of(args.repeat, fast),
        )
        print(
            f"  {name}: NumPy {slow_s:.3f} s ({slow_cpu:.3f} s CPU)   compiled {fast_s:.3f} s"
            f" ({fast_cpu:.3f} s CPU)   {slow_s / fast_s:.1f}x wall, {slow_cpu / fast_cpu:.1f}x CPU"
        )
    print(f"  same numbers: {same}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
