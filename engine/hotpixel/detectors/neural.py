"""The temporal neural detector: the shipped ONNX model run through onnxruntime.

Frames are fed in tiles with a halo of context on each side (the model's receptive field), so
memory stays bounded at any resolution and a tile's result equals the whole-frame result.
A window without temporal context (a one-frame run) tells the network nothing about
persistence, so there the classical detector's spatial test answers instead.
"""

from __future__ import annotations

import numpy as np

from ..model_file import INPUT, load_session
from ..window import Window
from .classical import ClassicalDetector

TILE = 512


class NeuralDetector:
    name = "neural"
    version = "1"
    window_length = 5

    def __init__(self, model_path: str, device: str = "auto", tile: int = TILE) -> None:
        self.session, self.info = load_session(model_path, device)
        self.model_version = self.info.version
        self.default_threshold = self.info.threshold
        self.window_length = self.info.window
        self.tile = tile
        self._spatial = ClassicalDetector()

    def __call__(self, window: Window) -> np.ndarray:
        if not window.has_context:
            return self._spatial(window)
        h, w = window.frames[0].shape[:2]
        out = np.zeros((h, w), np.float32)
        halo, tile = self.info.halo, self.tile
        for y0 in range(0, h, tile):
            for x0 in range(0, w, tile):
                y1, x1 = min(y0 + tile, h), min(x0 + tile, w)
                ya, xa = max(y0 - halo, 0), max(x0 - halo, 0)
                yb, xb = min(y1 + halo, h), min(x1 + halo, w)
                batch = np.stack([f[ya:yb, xa:xb].transpose(2, 0, 1) for f in window.frames])
                prob = self.session.run(None, {INPUT: batch[None].astype(np.float32)})[0]  # type: ignore[attr-defined]
                out[y0:y1, x0:x1] = prob[0, 0, y0 - ya : y1 - ya, x0 - xa : x1 - xa]
        return out
