"""The cascade detector: motion-compensated candidates, then a small classifier on cutouts.

Astronomy's difference-imaging pipelines find one-night transients this way: align the images,
subtract, pull out candidates, and let a small network decide real or bogus on cutouts. Here:

1. every neighbour of the window is aligned onto the centre with dense DIS flow, computed once
   per frame pair and shared by the windows that need it (:mod:`hotpixel.detect.motion`);
2. per colour channel, the centre is compared with the brightest aligned neighbour, normalised
   by how much the neighbours disagree locally (:mod:`hotpixel.detect.candidates`): a few dozen
   candidates per frame out of millions of pixels;
3. each candidate's cutout (:func:`encode`) goes through the classifier (ONNX, onnxruntime),
   which gives the probability that it is a one-frame pixel defect.

The map returned is a full-resolution per-pixel probability: each candidate's probability over
the pixels of its footprint (where the centre stands out of its window), zero elsewhere.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from importlib import resources

import numpy as np

from hotpixel.detect import bands
from hotpixel.detect import candidates as cand
from hotpixel.detect.detectors.classical import ClassicalDetector
from hotpixel.detect.model_file import load_classifier
from hotpixel.detect.motion import MotionCache, align_slots, flow_scale
from hotpixel.detect.windows import Window

DEFAULT_CLASSIFIER = "hotpixel-cascade-v1.onnx"
PATCH = 9  # cutout side, pixels
CHANNELS = 5 * 3 + 4 * 3 + 5 + 4  # aligned, unaligned neighbours, sigmas, confidence
FOOTPRINT = 3  # a candidate paints its probability up to this many px from its peak
FOOTPRINT_SCORE = 2.5  # ... where the centre stands out by this many noise sigmas
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


def default_classifier_path() -> str:
    return str(resources.files("hotpixel") / "data" / "models" / DEFAULT_CLASSIFIER)


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
    arrays (:func:`hotpixel.detect.motion.align_slots`).
    Normalising by each candidate's own level and noise makes a dark plate, a bright one and a
    log-encoded one look alike to the network.
    """
    if len(found) == 0:
        return _empty(size)
    stack = cand.cutouts(aligned, found.y, found.x, size)  # (N, T, s, s, C)
    per_frame = [c[..., None] for c in confidence]  # T x (H, W, 1), views
    conf = cand.cutouts(per_frame, found.y, found.x, size)[..., 0]  # (N, T, s, s)
    return encode_cutouts(stack, cand.cutouts(raw, found.y, found.x, size), conf, found)


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


def footprint_map(
    shape: tuple[int, int], found: cand.Candidates, prob: np.ndarray, score: np.ndarray
) -> np.ndarray:
    """``(H, W)`` float32: each candidate's probability where its footprint stands out.

    ``score`` ``(H, W)`` is the best channel's normalised residual; a candidate paints ``prob``
    over the pixels within ``FOOTPRINT`` px of it whose score reaches ``FOOTPRINT_SCORE`` (and
    always its own pixel); overlapping candidates keep the larger value.
    """
    out = np.zeros(shape, np.float32)
    h, w = shape
    r = FOOTPRINT
    for y, x, p in zip(
        found.y.tolist(), found.x.tolist(), prob.tolist(), strict=True
    ):  # over candidates
        if p <= 0.0:
            continue
        y0, y1, x0, x1 = max(y - r, 0), min(y + r + 1, h), max(x - r, 0), min(x + r + 1, w)
        area = np.where(score[y0:y1, x0:x1] >= FOOTPRINT_SCORE, np.float32(p), np.float32(0.0))
        area[y - y0, x - x0] = p
        np.maximum(out[y0:y1, x0:x1], area, out=out[y0:y1, x0:x1])
    return out


class CascadeDetector:
    """Motion-compensated candidates judged by a classifier; see the module's doc."""

    name = "cascade"
    version = "1"
    window_length = 5

    def __init__(
        self,
        classifier_path: str | None = None,
        device: str = "auto",
        params: cand.CandidateParams | None = None,
        preset: str | None = None,
        max_candidates: int = 4000,
        flow_scale: str = "auto",
    ) -> None:
        path = classifier_path or default_classifier_path()
        self.session, self.info = load_classifier(path, device)
        self.model_version = self.info.version
        self.default_threshold = self.info.threshold
        self.params = params or cand.CandidateParams(threshold=self.info.candidate_threshold)
        # the flow preset the classifier was trained behind, unless a caller insists
        self.cache = MotionCache(preset or self.info.preset)
        self.flow_scale = flow_scale  # "auto" or a number: see motion.flow_scale
        self.max_candidates = max_candidates
        self.last_candidates = 0  # for benchmarks and warnings
        self.seconds: dict[str, float] = {}  # wall time by stage, summed over windows
        self.candidate_counts: list[int] = []  # per window, after the cap
        self._warnings: list[tuple[str, str]] = []
        self._seen: dict[int, bytes] = {}  # frame number -> a sample of its pixels
        self._spatial = ClassicalDetector()
        self._threads = os.cpu_count() or 1

    @property
    def runtime(self) -> str:
        provider = self.session.get_providers()[0]  # type: ignore[attr-defined]
        return f"OpenCV DIS flow + onnxruntime ({provider.removesuffix('ExecutionProvider')})"

    def classify(self, encoded: Encoded) -> np.ndarray:
        """``(N,)`` float32 probabilities for encoded candidates (batched)."""
        if len(encoded.patches) == 0:
            return np.zeros(0, np.float32)
        outs = []
        for i in range(0, len(encoded.patches), 1024):
            feed = {
                "patches": encoded.patches[i : i + 1024],
                "scalars": encoded.scalars[i : i + 1024],
            }
            outs.append(self.session.run(["probability"], feed)[0])  # type: ignore[attr-defined]
        prob: np.ndarray = np.concatenate(outs).reshape(-1).astype(np.float32)
        return prob

    def _forget_other_pictures(self, window: Window) -> None:
        """Clear the flow cache when a frame number now shows another picture.

        Flows are cached by frame number; a caller that numbers unrelated windows alike (an
        evaluation, another shot through the same detector) must not get another picture's
        flow. A sparse sample of each frame's pixels tells pictures apart cheaply.
        """
        for n, frame in zip(window.numbers, window.frames, strict=True):
            sample = np.ascontiguousarray(frame[::61, ::67]).tobytes()
            if self._seen.get(n, sample) != sample:
                self.cache.clear()
                self._seen.clear()
            self._seen[n] = sample
        if len(self._seen) > 64:  # a long sequence: keep the recent numbers only
            for n in sorted(self._seen)[: len(self._seen) - 32]:
                del self._seen[n]

    def take_warnings(self) -> list[tuple[str, str]]:
        """``(code, message)`` for what the run must tell the user since the last call."""
        out, self._warnings = self._warnings, []
        return out

    def _cap(self, found: cand.Candidates, frame: int) -> cand.Candidates:
        """The ``max_candidates`` best-scoring candidates, with a warning when that drops some.

        Far more candidates than normal (a flash, a cut, heavy noise or grain, a wrong colour
        space) would make the classifier the slowest stage; the rest are left unjudged,
        and the user is told which frame and why rather than seeing a silent slowdown.
        """
        if len(found) <= self.max_candidates:
            return found
        self._warnings.append(
            (
                "candidates_capped",
                f"frame {frame}: {len(found):,} candidates, more than the cap of "
                f"{self.max_candidates:,} a frame; only the {self.max_candidates:,} that stand "
                "out most were classified, so fainter defects on this frame may be missed. "
                "A flash, a cut or heavy noise does this; check the frame",
            )
        )
        keep = np.argsort(-found.score, kind="stable")[: self.max_candidates]
        return found.select(keep)

    def __call__(self, window: Window) -> np.ndarray:
        if not window.has_context:
            return self._spatial(window)
        frames = list(window.frames)  # T x (H, W, C): never stacked, at 4K that is 0.5 GB
        self._forget_other_pictures(window)
        scale = flow_scale(self.flow_scale, frames[0].shape[1])
        if scale != self.cache.scale:  # another picture size: flows at another scale
            self.cache.clear()
            self.cache.scale = scale
        t0 = time.perf_counter()
        if min(frames[0].shape[:2]) > PATCH:
            done = bands.find(frames, window.numbers, self.cache, self.params, self.cache.workers)
            t1 = t0 + done.flow_seconds  # warps are made band by band with the candidates
            found = self._cap(done.found, window.numbers[window.centre])
            best = done.best.score
            done = replace(done, found=found)
            self.last_candidates = len(found)
            t2 = time.perf_counter()
            encoded = encode_cutouts(
                done.aligned_cutouts(PATCH),
                cand.cutouts(frames, found.y, found.x, PATCH),
                done.confidence_cutouts(PATCH),
                found,
            )
        else:  # a picture smaller than a cutout: the whole-picture path reflects it as needed
            aligned = align_slots(frames, window.numbers, self.cache)
            t1 = time.perf_counter()
            found, ev = cand.find(aligned.frames, aligned.confidence, aligned.flow, self.params)
            found = self._cap(found, window.numbers[window.centre])
            self.last_candidates = len(found)
            best = ev.score.max(axis=2)  # (H, W)
            del ev
            t2 = time.perf_counter()
            encoded = encode(aligned.frames, frames, aligned.confidence, found)
        prob = self.classify(encoded)
        t3 = time.perf_counter()
        out = footprint_map(frames[0].shape[:2], found, prob, best)
        for stage, seconds in (
            ("align", t1 - t0),
            ("candidates", t2 - t1),
            ("classifier", t3 - t2),
        ):
            self.seconds[stage] = self.seconds.get(stage, 0.0) + seconds
        self.candidate_counts.append(len(found))
        return out
