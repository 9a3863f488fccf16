"""The classifier's input: each candidate's cutouts and scalar features, normalised.

:func:`encode_window` is what the detector, the training and fine-tuning feed the classifier: the
cutouts of a :class:`~hotpixel.detect.cascade.stage.CandidateWindow` (the candidate stage's
result) put through :func:`encode_cutouts`. :func:`encode` does the same from whole aligned
arrays, the form the definition of the candidate stage gives
(:func:`hotpixel.detect.cascade.candidates.find` on
:func:`hotpixel.detect.motion.align_slots`); the tests hold the two equal.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from hotpixel.detect.cascade import candidates as cand

if TYPE_CHECKING:
    from hotpixel.detect.cascade.stage import CandidateWindow

PATCH = 9  # cutout side, pixels
CHANNELS = 5 * 3 + 4 * 3 + 5 + 4  # aligned, unaligned neighbours, sigmas, confidence
SCALARS = (
    "log_score",
    "log_contrast",
    "log_noise",
    "ring_confidence",
    "mean_ring_confidence",
    "motion",
    "log_level",
    "red",
    "green",
    "blue",
)


@dataclass(frozen=True)
class Encoded:
    """Classifier input for ``N`` candidates.

    ``patches`` ``(N, CHANNELS, PATCH, PATCH)`` float32: the aligned window in stops relative
    to the candidate's local level (5 frames x 3 channels), the four neighbours as decoded,
    not aligned, in the same units (4 x 3: a light that moves on its own is bright *near* the
    place in them), the best channel in noise sigmas relative to the level (5 frames, clipped
    to +-64), the four neighbours' flow confidence;
    ``scalars`` ``(N, len(SCALARS))`` float32 (see :data:`SCALARS`).
    """

    patches: np.ndarray
    scalars: np.ndarray


def encode(
    aligned: np.ndarray | Sequence[np.ndarray],
    raw: np.ndarray | Sequence[np.ndarray],
    confidence: np.ndarray | Sequence[np.ndarray],
    found: cand.Candidates,
    size: int = PATCH,
) -> Encoded:
    """Cut and normalise the classifier's input for ``found`` in one window.

    ``aligned`` and ``raw`` ``(T, H, W, C)`` float32 (the window aligned onto its centre at
    ``T // 2``, and as decoded), ``confidence`` ``(T, H, W)``; each may also be T per-frame
    arrays (:func:`hotpixel.detect.motion.align_slots`). The reference form: detection goes through
    :func:`encode_window`.
    Normalising by each candidate's own level and noise makes a dark plate, a bright one and a
    log-encoded one look alike to the network.
    """
    if len(found) == 0:
        return _empty(size)
    stack = cand.cutouts(aligned, found.y, found.x, size)  # (N, T, s, s, C)
    per_frame = [c[..., None] for c in confidence]  # T x (H, W, 1), views
    conf = cand.cutouts(per_frame, found.y, found.x, size)[..., 0]  # (N, T, s, s)
    return encode_cutouts(stack, cand.cutouts(raw, found.y, found.x, size), conf, found)


def encode_window(window: CandidateWindow, size: int = PATCH) -> Encoded:
    """The classifier's input for every candidate of ``window``, cut from the window as decoded
    and as aligned (the aligned window itself is never made: see
    :meth:`~hotpixel.detect.cascade.stage.CandidateWindow.aligned_cutouts`)."""
    found = window.found
    return encode_cutouts(
        window.aligned_cutouts(size),
        cand.cutouts(list(window.frames), found.y, found.x, size),
        window.confidence_cutouts(size),
        found,
    )


def encode_cutouts(
    stack: np.ndarray, raw: np.ndarray, conf: np.ndarray, found: cand.Candidates
) -> Encoded:
    """:func:`encode` from the cutouts around ``found``: the aligned window ``stack`` and the
    window as decoded ``raw`` ``(N, T, s, s, C)``, the flow confidence ``conf`` ``(N, T, s, s)``."""
    n, size = len(found), stack.shape[2]
    t = stack.shape[1] // 2
    if n == 0:
        return _empty(size)
    level = np.maximum(found.level, 0.0).astype(np.float32)  # (N,)
    soft = (0.05 * level + 1e-4)[:, None, None, None, None]
    base = np.log2(level[:, None, None, None, None] + soft)

    def stops(patches: np.ndarray) -> np.ndarray:  # (N, K, s, s, C) -> (N, K*C, s, s)
        rel = np.log2(np.maximum(patches, 0.0) + soft) - base
        out: np.ndarray = rel.transpose(0, 1, 4, 2, 3).reshape(n, -1, size, size)
        return out

    rel = stops(stack)
    unaligned = stops(np.delete(raw, t, axis=1))
    best = np.take_along_axis(stack, found.channel[:, None, None, None, None], axis=4)[..., 0]
    sig = (best - level[:, None, None, None]) / np.maximum(found.sigma, 1e-6)[:, None, None, None]
    sig = np.clip(sig, -64.0, 64.0) / 8.0  # (N, T, s, s)
    neighbours = np.delete(conf, t, axis=1)  # (N, T-1, s, s)
    patches = np.concatenate([rel, unaligned, sig, neighbours], axis=1).astype(np.float32)
    # flow confidence around the candidate, not at it: a one-frame defect breaks the
    # forward-backward check at its own pixels, which says nothing about the scene's motion
    c = size // 2
    ring = neighbours.copy()
    ring[:, :, c - 1 : c + 2, c - 1 : c + 2] = np.nan
    around = np.nanmedian(ring.reshape(n, ring.shape[1], -1), axis=2)  # (N, T-1)
    low = around.min(axis=1) if n else np.zeros(0, np.float32)
    mean = around.mean(axis=1) if n else np.zeros(0, np.float32)
    onehot = np.eye(3, dtype=np.float32)[np.minimum(found.channel, 2)]
    scalars = np.column_stack(
        [
            np.log2(np.maximum(found.score, 1e-3)),
            np.log2(np.maximum(found.contrast, 0.0) + 1.0),
            np.log2(np.maximum(found.sigma, 1e-6) / (level + 1e-4)),
            low,
            mean,
            np.minimum(found.motion, 64.0) / 8.0,
            np.log2(level + 1e-4) / 8.0,
            onehot,
        ]
    ).astype(np.float32)
    return Encoded(patches, scalars.reshape(n, len(SCALARS)))


def _empty(size: int) -> Encoded:
    return Encoded(
        np.zeros((0, CHANNELS, size, size), np.float32), np.zeros((0, len(SCALARS)), np.float32)
    )
