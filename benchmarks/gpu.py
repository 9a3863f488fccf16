"""GPU figures for the speed issue, in one short run on a lent GPU machine.

    PYTHONUNBUFFERED=1 python3 benchmarks/gpu.py --json $OUT/gpu.json

(`benchmarks/gpu_check.sh` wraps it for the project's lent machines, which lack OpenImageIO.)
Four parts; without a CUDA GPU the last three are skipped (``--device cpu`` tries them out):

1. environment: GPU, PyTorch, onnxruntime's providers;
2. model alone: the network on a 3840x2160 window already on the GPU, per backend and
   precision, frames per second (the issue's target: 100);
3. agreement: each precision's detections on windows of the evaluation set (1920x1080, seed
   2026, as ``hotpixel eval``) against onnxruntime on the CPU in float32: recall, false alerts,
   and how many detections differ;
4. end to end: a 3840x2160 zip EXR sequence written here, then decode-only and ``detect`` (the
   default device, so the GPU) with 1 and more worker processes, per detector (``neural``,
   and ``cascade``, whose flow and candidate test run on the CPU cores and its classifier on
   onnxruntime's device; it needs OpenCV): s/frame, fps, peak RSS (the issue's target: 24 fps).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from hotpixel.detect.detectors.neural import NeuralDetector
from hotpixel.detect.model_file import default_model_path
from hotpixel.detect.windows import Window
from hotpixel.ml.evaluation.harness import evaluation_set, metrics, score_detector


def environment() -> dict[str, Any]:
    import onnxruntime as ort

    env: dict[str, Any] = {
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "onnxruntime": ort.__version__,
        "onnxruntime_providers": ort.get_available_providers(),
    }
    try:
        import torch

        env["torch"] = torch.__version__
        env["cuda"] = torch.cuda.is_available()
        if env["cuda"]:
            env["gpu"] = torch.cuda.get_device_name(0)
    except ImportError:
        env["torch"] = None
    return env


def _torch_detectors(precisions: list[str], device: str) -> list[tuple[str, NeuralDetector]]:
    out = []
    for p in precisions:
        det = NeuralDetector(default_model_path(), device, backend="torch", precision=p)
        out.append((f"torch {device} {p}", det))
    return out


def _sync(det: NeuralDetector) -> None:
    if det._torch.device.type == "cuda":
        det._torch.torch.cuda.synchronize()


def model_alone(
    dets: list[tuple[str, NeuralDetector]], size: tuple[int, int], repeats: int
) -> list[dict[str, Any]]:
    """The network on a window already on the GPU: no transfers, no tiles."""
    rows = []
    for name, det in dets:
        runner = det._torch
        torch = runner.torch
        w, h = size
        gen = torch.Generator(device=runner.device).manual_seed(0)
        x = torch.rand((1, 5, 3, h, w), generator=gen, device=runner.device) * 2
        for _ in range(3):
            runner.probability(x)
        _sync(det)
        t0 = time.perf_counter()
        for _ in range(repeats):
            runner.probability(x)
        _sync(det)
        seconds = (time.perf_counter() - t0) / repeats
        cuda = runner.device.type == "cuda"
        peak = torch.cuda.max_memory_allocated() / 2**20 if cuda else 0.0
        rows.append({"backend": name, "s_per_frame": seconds, "fps": 1 / seconds, "gpu_mib": peak})
        print(f"  model alone, {name}: {seconds * 1000:.2f} ms/frame, {1 / seconds:.0f} fps")
    return rows


def detector_per_window(
    dets: list[tuple[str, NeuralDetector]], size: tuple[int, int], repeats: int
) -> list[dict[str, Any]]:
    """What the pipeline pays per frame: one new frame uploaded, the map read back."""
    rng = np.random.default_rng(0)
    w, h = size
    frames = [rng.uniform(0, 2, (h, w, 3)).astype(np.float32) for _ in range(repeats + 4)]
    rows = []
    for name, det in dets:
        det(Window(tuple(frames[:5]), (1, 2, 3, 4, 5), 2))  # warm-up, fills the frame cache
        t0 = time.perf_counter()
        for i in range(1, repeats):
            det(Window(tuple(frames[i : i + 5]), tuple(range(i, i + 5)), 2))
        seconds = (time.perf_counter() - t0) / (repeats - 1)
        rows.append({"backend": name, "s_per_frame": seconds, "fps": 1 / seconds})
        print(f"  detector per window, {name}: {seconds * 1000:.1f} ms/frame")
    return rows


def agreement(dets: list[tuple[str, NeuralDetector]], count: int) -> dict[str, Any]:
    samples = evaluation_set(["night", "interior"], count, 2026)
    reference = NeuralDetector(default_model_path(), "cpu")
    threshold = reference.default_threshold
    out: dict[str, Any] = {}
    ref_maps: list[np.ndarray] = []
    out["onnxruntime cpu fp32"] = metrics(
        score_detector(_recording(reference, ref_maps), samples), threshold
    )
    for name, det in dets:
        maps: list[np.ndarray] = []
        m = metrics(score_detector(_recording(det, maps), samples), threshold)
        m["max_abs_probability_difference"] = float(
            max(np.abs(a - b).max() for a, b in zip(maps, ref_maps, strict=True))
        )
        m["pixels_flipped_at_threshold"] = int(
            sum(
                ((a >= threshold) != (b >= threshold)).sum()
                for a, b in zip(maps, ref_maps, strict=True)
            )
        )
        out[name] = m
    for name, m in out.items():
        extra = (
            f", max |dp| {m['max_abs_probability_difference']:.2e}, "
            f"{m['pixels_flipped_at_threshold']} pixels flipped"
            if "pixels_flipped_at_threshold" in m
            else ""
        )
        print(
            f"  {name}: recall {m['recall']:.4f}, false alerts {m['false_alerts']}, "
            f"precision {m['precision']:.4f}{extra}"
        )
    return out


def _recording(det: NeuralDetector, maps: list[np.ndarray]) -> Callable[[Window], np.ndarray]:
    def run(window: Window) -> np.ndarray:
        maps.append(det(window))
        return maps[-1]

    return run


def end_to_end(
    work: str,
    size: tuple[int, int],
    frames: int,
    workers: list[int],
    detectors: tuple[str, ...] = ("neural",),
) -> list[dict[str, Any]]:
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import speed

    pattern = speed.make_sequence(os.path.join(work, "seq"), size, "zip", frames, seed=1)
    decode = speed.measure("decode", pattern, "", "neural")
    d = decode["seconds"] / decode["frames"]
    print(f"  decode only: {d:.3f} s/frame ({1 / d:.1f} fps)")
    rows = []
    for detector, n in ((d, n) for d in detectors for n in workers):
        out = os.path.join(work, f"out_{detector}{n}")
        e2e = speed.measure("detect", pattern, out, detector, workers=n)
        e = e2e["seconds"] / e2e["frames"]
        rows.append(
            {
                "detector": detector,
                "workers": n,
                "frames": frames,
                "decode_s": d,
                "end_to_end_s": e,
                "ratio": e / d,
                "fps": 1 / e,
                "peak_rss_mib": e2e["rss_mib"],
            }
        )
        print(
            f"  end to end, {detector}, {n} worker(s): {e:.3f} s/frame, {1 / e:.1f} fps, "
            f"ratio {e / d:.2f}"
        )
    return rows


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--device", default="cuda", help="cuda; cpu only to try the script out")
    p.add_argument("--size", default="3840x2160", help="frame size of parts 2 and 4")
    p.add_argument("--precisions", default="fp32,fp16,bf16")
    p.add_argument("--repeats", type=int, default=20, help="timed passes of the model alone")
    p.add_argument("--eval-count", type=int, default=6, help="evaluation windows to compare")
    p.add_argument("--frames", type=int, default=48, help="frames of the 4K sequence")
    p.add_argument("--workers", default="1,4,8", help="comma list of worker process counts")
    p.add_argument("--detectors", default="neural,cascade", help="end to end: comma list")
    p.add_argument("--work", default="bench_out/gpu", help="scratch folder")
    p.add_argument("--json", help="also write the figures here")
    args = p.parse_args()
    result: dict[str, Any] = {"command": " ".join(sys.argv), "environment": environment()}
    print(json.dumps(result["environment"]))
    w, h = (int(v) for v in args.size.split("x"))
    if args.device == "cuda" and not result["environment"].get("cuda"):
        print("no CUDA GPU visible to PyTorch: parts 2-4 skipped")
    else:
        dets = _torch_detectors(args.precisions.split(","), args.device)
        print(f"model alone at {w}x{h}:")
        result["model_alone"] = model_alone(dets, (w, h), args.repeats)
        result["detector_per_window"] = detector_per_window(dets, (w, h), 8)
        print(f"agreement on {args.eval_count} evaluation windows at 1920x1080:")
        result["agreement"] = agreement(dets, args.eval_count)
        print(f"end to end, {args.frames} frames of {w}x{h} zip EXR:")
        workers = [int(n) for n in args.workers.split(",")]
        detectors = tuple(args.detectors.split(","))
        try:
            import cv2  # noqa: F401  (the cascade's flow)
        except ImportError:
            print("OpenCV is not importable: the cascade's end-to-end run is skipped")
            detectors = tuple(d for d in detectors if d != "cascade")
        result["end_to_end"] = end_to_end(args.work, (w, h), args.frames, workers, detectors)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(result, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
