"""Speed and memory of detection against decode-only time, per resolution and format.

For each configuration the script writes a short EXR/DPX sequence made from a bundled real plate
(upscaled, panned, with grain and a few hot pixels), then, each in its own subprocess so peak
memory is per configuration:

- decode-only: every frame read with :func:`hotpixel.io.frames.read_frame` (the array type
  the pipeline uses), nothing else;
- end to end: ``run_detect`` over the same frames into a fresh folder (masks, report, tracks).

It prints seconds per frame for both, their ratio, frames per second and peak RSS, then the
end-to-end run's time by stage (decode, flow, candidates, classifier, analysis, writes; see
:func:`print_stages`), the cascade's candidates per frame and DIS runs per frame.
Run: ``.venv/bin/python benchmarks/speed.py`` (or ``make bench``); ``--help`` for options.
Machines are noisy: compare ratios from one run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import OpenImageIO as oiio

from hotpixel.io.frames import read_frame
from hotpixel.io.sequence import discover
from hotpixel.ml.synth.plates import load_plate
from hotpixel.params import DetectParams
from hotpixel.run.job import DetectJob
from hotpixel.run.parallel import detect

SIZES = {"1080": (1920, 1080), "2160": (3840, 2160)}


def make_sequence(folder: str, size: tuple[int, int], fmt: str, frames: int, seed: int) -> str:
    """Write ``frames`` frames of a panned, grainy real plate; return the pattern."""
    rng = np.random.default_rng(seed)
    w, h = size
    still = load_plate("courtyard")
    ys = (np.arange(h + 64) * still.shape[0] / (h + 64)).astype(int)
    xs = (np.arange(w + 64) * still.shape[1] / (w + 64)).astype(int)
    big = still[ys][:, xs]  # nearest upscale with a 64 px margin for the pan
    os.makedirs(folder, exist_ok=True)
    ext = "dpx" if fmt == "dpx10" else "exr"
    for i in range(frames):
        x0, y0 = _bounce(2 * i, 60), _bounce(i, 60)  # pan back and forth inside the margin
        rgb = big[y0 : y0 + h, x0 : x0 + w] + rng.normal(0, 0.003, (h, w, 3)).astype(np.float32)
        for _ in range(5):
            rgb[rng.integers(h), rng.integers(w)] = 4.0
        write(os.path.join(folder, f"bench.{1001 + i:04d}.{ext}"), rgb, fmt)
    return os.path.join(folder, f"bench.####.{ext}")


def _bounce(step: int, span: int) -> int:
    """``step`` folded into ``0..span`` and back (a triangle wave), for long sequences."""
    phase = step % (2 * span)
    return phase if phase <= span else 2 * span - phase


def write(path: str, rgb: np.ndarray, fmt: str) -> None:
    h, w = rgb.shape[:2]
    spec = oiio.ImageSpec(w, h, 3, "uint16" if fmt == "dpx10" else "half")
    if fmt == "dpx10":
        spec.attribute("oiio:BitsPerSample", 10)
        rgb = np.clip(rgb / (1.0 + rgb), 0.0, 1.0)  # display-referred, as DPX plates are
    else:
        spec.attribute("compression", fmt)
    out = oiio.ImageOutput.create(path)
    out.open(path, spec)
    out.write_image(np.ascontiguousarray(rgb, np.float32))
    out.close()


def child(
    mode: str,
    pattern: str,
    out: str,
    detector: str,
    workers: str = "1",
    classifier: str = "",
    flow_scale: str = "auto",
) -> dict[str, object]:
    """Runs in a subprocess: time one pass, report peak RSS (of the largest process) and, for
    a detection, the time by stage."""
    seq = discover(pattern)
    stages: dict[str, float] = {}
    extra: dict[str, object] = {}
    t0 = time.perf_counter()
    if mode == "decode":
        for f in seq.frames:
            read_frame(seq.path(f), f)
    else:
        shutil.rmtree(out, ignore_errors=True)
        made = _instrument(stages, detector, classifier)
        model = classifier if detector == "cascade" else ""
        params = DetectParams(detector=detector, model=model, flow_scale=flow_scale)
        detect(DetectJob(pattern, out, params=params, workers=int(workers)))
        extra = _detector_stages(made, stages)
    seconds = time.perf_counter() - t0
    usage = [resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
    rss = max(u.ru_maxrss for u in usage) / 1024.0
    return {
        "seconds": seconds,
        "frames": len(seq.frames),
        "rss_mib": rss,
        "stages": stages,
        **extra,
    }


def _timed(stages: dict[str, float], name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    def timed(*args: Any, **kwargs: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            stages[name] = stages.get(name, 0.0) + time.perf_counter() - t0

    return timed


class _TimedDetector:
    """A detector that adds its calls' time to ``stages["detector"]``."""

    def __init__(self, inner: Any, stages: dict[str, float]) -> None:
        self.inner = inner
        self._call = _timed(stages, "detector", inner.__call__)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def __call__(self, window: Any) -> Any:
        return self._call(window)


def _instrument(stages: dict[str, float], detector: str, classifier: str) -> list[Any]:
    """Time the run's stages in this process: decoding (the read-ahead thread), the detector,
    the analysis of its map (grouping, on the main thread) and writes (the writer thread).
    """
    from hotpixel.run import detect as run_mod
    from hotpixel.run import frames as frames_mod

    frames_mod.load_frame = _timed(stages, "decode", frames_mod.load_frame)  # type: ignore[assignment]
    frames_mod.write_frame = _timed(stages, "writes", frames_mod.write_frame)  # type: ignore[assignment]
    frames_mod.analyse = _timed(stages, "analysis", frames_mod.analyse)  # type: ignore[assignment]
    made: list[Any] = []
    create = run_mod.create

    def instrumented(params: DetectParams) -> Any:
        made.append(create(params))
        return _TimedDetector(made[-1], stages)

    run_mod.create = instrumented  # type: ignore[assignment]
    return made


def _detector_stages(made: list[Any], stages: dict[str, float]) -> dict[str, object]:
    """The cascade's own split (flow, confidence and warps as thread time), candidates and
    DIS runs per frame."""
    if not made or not hasattr(made[0], "cache"):
        return {}
    cascade = made[0]  # getattr: older versions, timed for comparison, lack the counters
    stages.update({f"cascade_{k}": v for k, v in getattr(cascade, "seconds", {}).items()})
    stages.update({f"motion_{k}": v for k, v in getattr(cascade.cache, "seconds", {}).items()})
    counts = getattr(cascade, "candidate_counts", [])
    return {
        "candidates": [
            min(counts, default=0),
            float(np.mean(counts or [0])),
            max(counts, default=0),
        ],
        "dis_runs": cascade.cache.computed,
    }


def measure(
    mode: str,
    pattern: str,
    out: str,
    detector: str,
    classifier: str = "",
    workers: int = 1,
    flow_scale: str = "auto",
) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--child", mode, pattern, out, detector, str(workers)]
    proc = subprocess.run(
        [*cmd, classifier, flow_scale], capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{mode} run failed:\n{proc.stderr}")
    result: dict[str, Any] = json.loads(proc.stdout.splitlines()[-1])
    return result


def run_config(
    work: str,
    size_key: str,
    fmt: str,
    frames: int,
    detector: str,
    classifier: str,
    flow_scale: str = "auto",
) -> dict[str, Any]:
    folder = os.path.join(work, f"{size_key}_{fmt}")
    pattern = make_sequence(folder, SIZES[size_key], fmt, frames, seed=1)
    decode = measure("decode", pattern, "", detector)
    out = os.path.join(work, f"out_{size_key}_{fmt}")
    e2e = measure("detect", pattern, out, detector, classifier, flow_scale=flow_scale)
    d = decode["seconds"] / decode["frames"]
    e = e2e["seconds"] / e2e["frames"]
    return {
        "resolution": f"{SIZES[size_key][0]}x{SIZES[size_key][1]}",
        "format": fmt,
        "frames": frames,
        "detector": detector,
        "decode_s": d,
        "end_to_end_s": e,
        "ratio": e / d,
        "fps": 1.0 / e,
        "peak_rss_mib": e2e["rss_mib"],
        "decode_rss_mib": decode["rss_mib"],
        "stages_s": {k: v / e2e["frames"] for k, v in e2e["stages"].items()},
        "candidates": e2e.get("candidates"),
        "dis_runs_per_frame": e2e.get("dis_runs", 0) / e2e["frames"],
    }


STAGES = (
    ("decode", "decode"),
    ("detector", "detector"),
    ("flow", "motion_flow"),
    ("conf", "motion_confidence"),
    ("warp", "motion_warp"),
    ("evidence", "motion_evidence"),
    ("align", "cascade_align"),
    ("cands", "cascade_candidates"),
    ("classify", "cascade_classifier"),
    ("analysis", "analysis"),
    ("writes", "writes"),
)


def print_stages(rows: list[dict[str, Any]]) -> None:
    """Seconds per frame by stage. decode and writes run on their own threads; flow and conf
    on the flow threads, warp and evidence on the band threads (summed thread time: two at
    once count twice); align (the flows' and confidences' wall time), cands (the bands' wall
    time and the peaks) and classify are the parts of detector, on the main thread with
    analysis."""
    head = ("resolution", "format", "detector", *(s for s, _ in STAGES), "cand/frame", "DIS/frame")
    print("".join(f"{h:>13}" for h in head))
    for r in rows:
        stages = r["stages_s"]
        cells = [r["resolution"], r["format"], r["detector"]]
        cells += [f"{stages[k]:.3f}" if k in stages else "-" for _, k in STAGES]
        c = r.get("candidates")
        cells += [f"{c[1]:.0f} ({c[0]}-{c[2]})" if c else "-", f"{r['dis_runs_per_frame']:.1f}"]
        print("".join(f"{c!s:>13}" for c in cells))


def print_table(rows: list[dict[str, Any]]) -> None:
    head = (
        "resolution",
        "format",
        "frames",
        "detector",
        "decode s/f",
        "e2e s/f",
        "ratio",
        "fps",
        "peak RSS MiB",
    )
    print("".join(f"{h:>13}" for h in head))
    for r in rows:
        cells = [
            r["resolution"],
            r["format"],
            r["frames"],
            r["detector"],
            f"{r['decode_s']:.3f}",
            f"{r['end_to_end_s']:.3f}",
            f"{r['ratio']:.2f}",
            f"{r['fps']:.2f}",
            f"{r['peak_rss_mib']:.0f}",
        ]
        print("".join(f"{c!s:>13}" for c in cells))


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        print(json.dumps(child(*sys.argv[2:9])))
        return 0
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--sizes", default="1080,2160", help="comma list of 1080, 2160")
    p.add_argument("--formats", default="zip,piz,dpx10", help="comma list of zip, piz, dpx10")
    p.add_argument("--frames", type=int, default=10, help="frames per sequence")
    p.add_argument(
        "--detectors", default="cascade,neural", help="comma list of cascade, neural, classical"
    )
    p.add_argument(
        "--classifier",
        default="",
        help="cascade classifier (default: the shipped one)",
    )
    p.add_argument(
        "--flow-scales",
        default="auto",
        help="comma list of the cascade's --flow-scale values to time (auto, 1, 0.5, 0.25, 0.125)",
    )
    p.add_argument("--work", default="bench_out", help="scratch folder")
    p.add_argument("--json", help="also write the rows here")
    args = p.parse_args()
    print(f"{platform.platform()}, {os.cpu_count()} CPUs, python {platform.python_version()}")
    print(f"command: {' '.join(sys.argv)}")
    classifier = args.classifier
    if "cascade" in args.detectors.split(","):
        from hotpixel.detect.cascade.detector import default_classifier_path

        print(f"cascade classifier: {classifier or default_classifier_path()}")
    rows = []
    for size_key in args.sizes.split(","):
        for fmt in args.formats.split(","):
            for detector in args.detectors.split(","):
                scales = args.flow_scales.split(",") if detector == "cascade" else ["auto"]
                for scale in scales:
                    row = run_config(
                        args.work, size_key, fmt, args.frames, detector, classifier, scale
                    )
                    if detector == "cascade" and len(scales) > 1:
                        row["detector"] = f"cascade@{scale}"
                    rows.append(row)
                    print_table(rows[-1:])
    print()
    print_table(rows)
    print()
    print_stages(rows)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(rows, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
