"""The shipped ONNX model's own weights run in PyTorch, for GPUs onnxruntime cannot reach.

Many GPU machines carry PyTorch with CUDA but an onnxruntime without its CUDA provider. There
the network is rebuilt from the model file (its shape from the training config in the
metadata, or for a file without one, width from the stem's weights and reach from the
halo) and loaded with the file's initializers, so it is the same model, not a retrained copy;
``tests/test_torch_runner.py`` holds it to onnxruntime's output.

Frames are uploaded once and kept on the device while a window still holds them (each frame
serves five windows). Precision: ``fp32`` (default, matches onnxruntime), or ``fp16``/``bf16``
for the convolutions (the input curve and the temporal features stay in float32).
Only :mod:`hotpixel.detect.detectors.neural` imports this module, and only when it is chosen.
"""

from __future__ import annotations

import glob
import importlib.util
import json
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from hotpixel.detect.model_file import ModelInfo, halo_for
from hotpixel.errors import ModelError
from hotpixel.io.geometry import tiles

if TYPE_CHECKING:
    from hotpixel.detect.detectors.network import ModelConfig

PRECISIONS = ("fp32", "fp16", "bf16")


def cuda_available() -> bool:
    """PyTorch sees a CUDA GPU; torch is only imported where an NVIDIA driver is present."""
    if importlib.util.find_spec("torch") is None or not (
        glob.glob("/dev/nvidia*") or os.path.isdir("/proc/driver/nvidia")
    ):
        return False
    import torch

    return bool(torch.cuda.is_available())


def read_weights(path: str) -> dict[str, np.ndarray]:
    """The model file's initializers by name (the training module's parameter names)."""
    try:
        import onnx
        from onnx import numpy_helper
    except ImportError:
        raise ModelError(
            "the PyTorch backend reads the model's weights with the 'onnx' package; "
            "install it (pip install onnx) or run on onnxruntime"
        ) from None
    model = onnx.load(path)
    return {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}


def model_config(info: ModelInfo, weights: dict[str, np.ndarray]) -> ModelConfig:
    """The network's shape, from the training config in the file's metadata."""
    from hotpixel.detect.detectors.network import ModelConfig

    text = info.metadata.get("training_config", "")
    try:
        shape = json.loads(text).get("model") if text else None
    except ValueError:
        shape = None
    if isinstance(shape, dict):
        try:
            return ModelConfig(**shape)
        except TypeError as exc:
            raise ModelError(
                f"model file {info.path!r} describes a network this engine cannot build: {exc}"
            ) from exc
    return ModelConfig(
        window=info.window,
        width=int(weights["stem.weight"].shape[0]),
        reach=info.halo - halo_for(0),
        temporal=info.temporal,
    )


class TorchRunner:
    """``frames -> probability (H, W)`` for the model in ``info``, on a torch device."""

    def __init__(self, info: ModelInfo, device: str = "cuda", precision: str = "fp32") -> None:
        import torch

        from hotpixel.detect.detectors.network import TemporalDetector

        if precision not in PRECISIONS:
            raise ModelError(f"precision {precision!r}: choose one of {', '.join(PRECISIONS)}")
        weights = read_weights(info.path)
        if "stem.weight" not in weights:
            raise ModelError(
                f"model file {info.path!r} has no 'stem.weight'; it was not exported by "
                "`hotpixel export` and cannot run on the PyTorch backend"
            )
        config = model_config(info, weights)
        net = TemporalDetector(config)
        try:
            net.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in weights.items()})
        except RuntimeError as exc:
            raise ModelError(
                f"model file {info.path!r} does not fit the network this engine builds: {exc}"
            ) from exc
        self.torch = torch
        self.device = torch.device(device)
        self.net = net.to(self.device).eval()
        self.precision = precision
        self._dtype = {"fp16": torch.float16, "bf16": torch.bfloat16}.get(precision)
        self._cache: list[tuple[np.ndarray, Any]] = []  # (frame, its tensor on the device)

    def _upload(self, frame: np.ndarray) -> Any:
        for held, tensor in self._cache:
            if held is frame:
                return tensor
        tensor = self.torch.from_numpy(np.ascontiguousarray(frame, np.float32)).to(self.device)
        tensor = tensor.permute(2, 0, 1)  # (3, H, W)
        self._cache = [*self._cache[-(self.net.config.window - 1) :], (frame, tensor)]
        return tensor

    def probability(self, x: Any) -> Any:
        """``(1, T, 3, h, w)`` tensor on the device -> ``(1, 1, h, w)`` float32 probabilities."""
        torch = self.torch
        with torch.inference_mode():
            features = self.net.features(x)  # float32: the input curve and differences
            if self._dtype is None:
                logits = self.net.convolve(features)
            else:
                with torch.autocast(self.device.type, dtype=self._dtype):
                    logits = self.net.convolve(features)
            return torch.sigmoid(logits.float())

    def __call__(self, frames: Sequence[np.ndarray], tile: int, halo: int) -> np.ndarray:
        torch = self.torch
        stack = torch.stack([self._upload(f) for f in frames])  # (T, 3, H, W)
        h, w = stack.shape[-2:]
        out = torch.empty((h, w), dtype=torch.float32, device=self.device)
        with torch.inference_mode():
            for t in tiles(h, w, tile, halo):
                out[t.out] = self.probability(stack[None, :, :, t.src[0], t.src[1]])[0, 0][t.crop]
        result: np.ndarray = out.cpu().numpy()
        return result
