"""Detectors by name: plain factory functions in a dict.

A detector maps a :class:`~hotpixel.detect.windows.Window` (``T`` frames of ``(H, W, 3)`` float32,
finite values) to a per-pixel probability map ``(H, W)`` float32 in 0..1 for the centre frame.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import numpy as np

from hotpixel.detect.windows import Window
from hotpixel.errors import UsageError
from hotpixel.params import DetectParams


class Detector(Protocol):
    """What the pipeline needs from a detector."""

    name: str
    version: str
    model_version: str
    window_length: int
    default_threshold: float

    @property
    def runtime(self) -> str:
        """What computes it, for people reading a log or report: "onnxruntime (CPU)"."""
        ...

    def __call__(self, window: Window) -> np.ndarray:
        """Probability map ``(H, W)`` float32 in 0..1 for ``window``'s centre frame."""
        ...


def _classical(params: DetectParams) -> Detector:
    from hotpixel.detect.detectors.classical import ClassicalDetector

    return ClassicalDetector(motion_tolerance=params.motion_tolerance)


def _neural(params: DetectParams) -> Detector:
    from hotpixel.detect.detectors.neural import NeuralDetector
    from hotpixel.detect.model_file import default_model_path

    return NeuralDetector(params.model or default_model_path(), params.device)


def _cascade(params: DetectParams) -> Detector:
    from hotpixel.detect.detectors.cascade import CascadeDetector

    return CascadeDetector(params.model or None, params.device, flow_scale=params.flow_scale)


DETECTORS: dict[str, Callable[[DetectParams], Detector]] = {
    "neural": _neural,
    "cascade": _cascade,
    "classical": _classical,
}


def create(params: DetectParams) -> Detector:
    """The detector named by ``params.detector``."""
    try:
        factory = DETECTORS[params.detector]
    except KeyError:
        raise UsageError(
            f"unknown detector {params.detector!r}; choose one of {', '.join(DETECTORS)}"
        ) from None
    return factory(params)
