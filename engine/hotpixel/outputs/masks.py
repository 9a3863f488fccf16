"""What the per-frame mask holds: the detector's probability where it matters, zero elsewhere.

A dense probability map is 0.01-0.05 over much of a frame (grain, texture, edges): used as a
matte it touches everything. The mask keeps the probability only where a pixel can belong to a
detection, at or above the grouping level, half the threshold (the hysteresis low level of
:mod:`hotpixel.detect.grouping`), and stores 0 everywhere else. Binarised at the report's
threshold it still gives exactly the pixels behind the detections; a HotPixelFix threshold down
to the floor still works; as a matte it is black away from the hits.
"""

from __future__ import annotations

import numpy as np

FLOOR_SHARE = 0.5  # of the threshold; equals detect.grouping.GROUP_SHARE (a test holds them)
CONTENT = "probability"


def mask_floor(threshold: float) -> float:
    """The value below which the mask stores 0: half the threshold."""
    return float(FLOOR_SHARE * threshold)


def clean_mask(prob: np.ndarray, threshold: float) -> np.ndarray:
    """``(h, w)`` probability 0..1 -> ``(h, w)`` float32, values below the floor set to 0."""
    floor = np.float32(mask_floor(threshold))
    clean: np.ndarray = np.where(prob >= floor, prob, np.float32(0.0)).astype(np.float32)
    return clean
