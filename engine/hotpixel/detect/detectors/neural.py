"""The temporal neural detector: the shipped ONNX model run through onnxruntime.

Frames are fed in tiles with a halo of context on each side (the model's receptive field), so
memory stays bounded at any resolution and a tile's result equals the whole-frame result.
A window without temporal context (a one-frame run) tells the network nothing about
persistence, so there the classical detector's spatial test answers instead.

Backends: onnxruntime (CPU, or CUDA with onnxruntime-gpu), or the same weights in PyTorch on a
CUDA GPU when onnxruntime has no CUDA provider there (:mod:`.torch_runner`).
"""

from __future__ import annotations

import importlib.util
from typing import Any

import numpy as np

from hotpixel.detect.detectors.classical import ClassicalDetector
from hotpixel.detect.model_file import INPUT, load_session
from hotpixel.detect.windows import Window
from hotpixel.errors import ModelError
from hotpixel.io.geometry import tiles

TILE = 512
GPU_TILE = 4096  # a whole 4K frame at once: the GPU has the memory, tiles only cost launches
BACKENDS = ("auto", "onnxruntime", "torch")


def _ort_has_cuda() -> bool:
    import onnxruntime as ort

    return "CUDAExecutionProvider" in ort.get_available_providers()


def _torch_has_cuda() -> bool:
    from hotpixel.detect.detectors.torch_runner import cuda_available

    return cuda_available()


def choose_backend(device: str, backend: str = "auto") -> tuple[str, str]:
    """``(backend, device)`` to run on: onnxruntime unless only PyTorch can reach the GPU."""
    if backend not in BACKENDS:
        raise ModelError(f"backend {backend!r}: choose one of {', '.join(BACKENDS)}")
    if backend == "torch":
        if importlib.util.find_spec("torch") is None:
            raise ModelError("backend 'torch' asked for, but PyTorch is not installed here")
        if device == "cpu":
            return "torch", "cpu"
        if _torch_has_cuda():
            return "torch", "cuda"
        if device == "cuda":
            raise ModelError("backend 'torch' on cuda asked for, but PyTorch sees no CUDA GPU")
        return "torch", "cpu"
    if device == "cpu" or backend == "onnxruntime" or _ort_has_cuda():
        return "onnxruntime", device
    if _torch_has_cuda():
        return "torch", "cuda"
    if device == "cuda":
        raise ModelError(
            "--device cuda asked for, but neither onnxruntime (no CUDA provider) nor PyTorch "
            "(not installed, or no CUDA GPU) can reach a GPU here; install onnxruntime-gpu or "
            "PyTorch with CUDA, or use --device cpu"
        )
    return "onnxruntime", "cpu"


class NeuralDetector:
    name = "neural"
    version = "1"
    window_length = 5

    def __init__(
        self,
        model_path: str,
        device: str = "auto",
        tile: int = TILE,
        backend: str = "auto",
        precision: str = "fp32",
    ) -> None:
        self.backend, run_on = choose_backend(device, backend)
        # onnxruntime checks the file's contract (metadata, names) for both backends
        self.session, self.info = load_session(
            model_path, run_on if self.backend == "onnxruntime" else "cpu"
        )
        self.model_version = self.info.version
        self.default_threshold = self.info.threshold
        self.window_length = self.info.window
        self.tile = tile
        self._torch: Any = None
        if self.backend == "torch":
            from hotpixel.detect.detectors.torch_runner import TorchRunner

            self._torch = TorchRunner(self.info, run_on, precision)
            if run_on == "cuda" and tile == TILE:
                self.tile = GPU_TILE
        elif precision != "fp32":
            raise ModelError(f"precision {precision!r} is for the PyTorch backend only")
        self._spatial = ClassicalDetector()

    @property
    def runtime(self) -> str:
        if self._torch is not None:
            return f"PyTorch ({self._torch.device.type}, {self._torch.precision})"
        provider = self.session.get_providers()[0]  # type: ignore[attr-defined]
        return f"onnxruntime ({provider.removesuffix('ExecutionProvider')})"

    def __call__(self, window: Window) -> np.ndarray:
        if not window.has_context:
            return self._spatial(window)
        halo = self.info.halo
        if self._torch is not None:
            result: np.ndarray = self._torch(window.frames, self.tile, halo)
            return result
        h, w = window.frames[0].shape[:2]
        out = np.zeros((h, w), np.float32)
        for t in tiles(h, w, self.tile, halo):
            batch = np.stack([f[t.src].transpose(2, 0, 1) for f in window.frames])
            feed = {INPUT: np.ascontiguousarray(batch[None], np.float32)}  # no copy: float32
            prob = self.session.run(None, feed)[0]  # type: ignore[attr-defined]
            out[t.out] = prob[0, 0][t.crop]
        return out
