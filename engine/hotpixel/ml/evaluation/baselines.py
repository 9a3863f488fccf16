"""Peer detectors run as baselines by ``hotpixel eval`` (each optional, skipped if not installed).

Each entry maps a name to a factory that returns a probability function ``Window -> (H, W)``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from hotpixel.detect.windows import Window

ProbabilityFn = Callable[[Window], np.ndarray]


def astroscrappy_fn() -> ProbabilityFn | None:
    """L.A.Cosmic (astroscrappy) on the centre frame's brightest channel; binary output."""
    try:
        import astroscrappy
    except ImportError:
        return None

    def run(window: Window) -> np.ndarray:
        centre = np.nan_to_num(window.frames[window.centre]).max(axis=-1)
        # gain 1 and a read noise at the plate's level: plates are not in electrons
        scale = 1000.0
        mask, _ = astroscrappy.detect_cosmics(
            (centre * scale).astype(np.float32),
            sigclip=4.5,
            objlim=5.0,
            readnoise=2.0,
            niter=2,
            satlevel=1e30,
        )
        return np.asarray(mask, np.float32)

    return run


def deepcr_fn() -> ProbabilityFn | None:
    """deepCR (a U-Net trained on Hubble ACS/WFC cosmic rays) on the brightest channel.

    Its probability map is used as is; the plate is scaled as for astroscrappy (plates are not
    in electrons), in 256-pixel tiles as deepCR's own ``segment`` mode runs.
    """
    try:
        from deepCR import deepCR
    except ImportError:
        return None
    model = deepCR(mask="ACS-WFC", device="CPU")

    def run(window: Window) -> np.ndarray:
        centre = np.nan_to_num(window.frames[window.centre]).max(axis=-1)
        prob = model.clean(
            (centre * 1000.0).astype(np.float32), inpaint=False, binary=False, segment=True
        )
        return np.asarray(prob, np.float32)

    return run


BASELINES: dict[str, Callable[[], ProbabilityFn | None]] = {
    "astroscrappy": astroscrappy_fn,
    "deepCR": deepcr_fn,
}
