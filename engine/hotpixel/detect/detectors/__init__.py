"""Detectors by name: plain factory functions in a dict.

A detector maps a :class:`~hotpixel.detect.windows.Window` (``T`` frames of ``(H, W, 3)`` float32,
finite values) to a per-pixel probability map ``(H, W)`` float32 in 0..1 for the centre frame.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
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
    from hotpixel.detect.cascade.detector import CascadeDetector
    from hotpixel.detect.motion import FlowScale

    flow_scale = FlowScale.parse(params.flow_scale)  # validated against its choices already
    return CascadeDetector(params.model or None, params.device, flow_scale=flow_scale)


# Parameters that only some detectors read. The rest of DetectParams (threshold, max_area, the
# colour settings, the detector's name) is read by the run for every detector.
DETECTOR_PARAMETERS = frozenset({"model", "device", "motion_tolerance", "flow_scale"})


@dataclass(frozen=True)
class DetectorKind:
    """A detector by name: how to make it and which of :data:`DETECTOR_PARAMETERS` it reads.

    What a detector does not read changes nothing it finds: the run leaves it out of the
    resume fingerprint and warns when it is set away from its default.
    """

    factory: Callable[[DetectParams], Detector]
    reads: frozenset[str]

    def __post_init__(self) -> None:
        unknown = self.reads - DETECTOR_PARAMETERS
        if unknown:
            raise ValueError(f"not detector parameters: {', '.join(sorted(unknown))}")

    @property
    def ignores(self) -> frozenset[str]:
        return DETECTOR_PARAMETERS - self.reads


DETECTORS: dict[str, DetectorKind] = {
    "neural": DetectorKind(_neural, frozenset({"model", "device"})),
    "cascade": DetectorKind(_cascade, frozenset({"model", "device", "flow_scale"})),
    "classical": DetectorKind(_classical, frozenset({"motion_tolerance"})),
}


def kind(name: str) -> DetectorKind:
    """The registry entry of detector ``name``; :class:`UsageError` for an unknown name."""
    try:
        return DETECTORS[name]
    except KeyError:
        raise UsageError(
            f"unknown detector {name!r}; choose one of {', '.join(DETECTORS)}"
        ) from None


def create(params: DetectParams) -> Detector:
    """The detector named by ``params.detector``."""
    return kind(params.detector).factory(params)
