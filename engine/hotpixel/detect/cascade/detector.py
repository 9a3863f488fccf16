"""The cascade detector: motion-compensated candidates, then a small classifier on cutouts.

Astronomy's difference-imaging pipelines find one-night transients this way: align the images,
subtract, pull out candidates, and let a small network decide real or bogus on cutouts. Here:

1. every neighbour of the window is aligned onto the centre with dense DIS flow, computed once
   per frame pair and shared by the windows that need it (:mod:`hotpixel.detect.motion`);
2. per colour channel, the centre is compared with the brightest aligned neighbour, normalised
   by how much the neighbours disagree locally (:mod:`hotpixel.detect.cascade.candidates`,
   run by :func:`hotpixel.detect.cascade.stage.find_candidates`): a few dozen candidates per
   frame out of millions of pixels;
3. each candidate's cutout (:mod:`hotpixel.detect.cascade.encoding`) goes through the
   classifier (ONNX, onnxruntime), which gives the probability that it is a one-frame pixel
   defect;
4. a candidate no picture could hold (:mod:`hotpixel.detect.cascade.spot`: a clear, isolated,
   photosite-sized spot sharper than its surroundings and absent near the place in every other
   frame) is flagged too, whatever the classifier says: where the flow cannot be trusted or
   the picture is crowded with lights, the classifier alone loses clear defects. Where no
   neighbour saw the place (every flow there looks beyond the picture's edge), that spot test
   alone decides.

The map returned is a full-resolution per-pixel probability: each candidate's probability over
the pixels of its footprint (where the centre stands out of its window), zero elsewhere.

A picture too small for flow (:data:`hotpixel.detect.motion.MIN_FLOW_SIZE`: a thumbnail, a
strip, a small crop) is judged by the classical detector's temporal test instead, which
compares the neighbours unaligned within a few pixels, and the user is told so. A flow scale
that would shrink the picture below that size is raised until it fits.
"""

from __future__ import annotations

import os
import time
from dataclasses import replace
from importlib import resources

import numpy as np

from hotpixel.detect.cascade import candidates as cand
from hotpixel.detect.cascade.encoding import CHANNELS, PATCH, SCALARS, Encoded, encode_window
from hotpixel.detect.cascade.spot import FLAG, SpotRule, opinions, overrule
from hotpixel.detect.cascade.stage import find_candidates
from hotpixel.detect.detectors.classical import ClassicalDetector
from hotpixel.detect.model_file import load_classifier
from hotpixel.detect.motion import MIN_FLOW_SIZE, FlowScale, MotionCache, fitting_scale
from hotpixel.detect.windows import Window

DEFAULT_CLASSIFIER = "hotpixel-cascade-v1.onnx"
FOOTPRINT = 3  # a candidate paints its probability up to this many px from its peak
FOOTPRINT_SCORE = 2.5  # ... where the centre stands out by this many noise sigmas
DEFAULT_SPOT_RULE = SpotRule()


def default_classifier_path() -> str:
    return str(resources.files("hotpixel") / "data" / "models" / DEFAULT_CLASSIFIER)


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
        flow_scale: FlowScale | None = None,
        spot_rule: SpotRule | None = DEFAULT_SPOT_RULE,
    ) -> None:
        path = classifier_path or default_classifier_path()
        self.session, self.info = load_classifier(path, device, CHANNELS, PATCH, SCALARS)
        self.model_version = self.info.version
        self.default_threshold = self.info.threshold
        self.params = params or cand.CandidateParams(threshold=self.info.candidate_threshold)
        # the flow preset the classifier was trained behind, unless a caller insists
        self.cache = MotionCache(preset or self.info.preset)
        self.flow_scale = flow_scale or FlowScale()
        self.spot_rule = spot_rule  # None: the classifier alone decides
        self.spot_counts: list[int] = []  # per window: candidates the spot rule flagged
        self.max_candidates = max_candidates
        self.last_candidates = 0  # for benchmarks and warnings
        self.seconds: dict[str, float] = {}  # wall time by stage, summed over windows
        self.candidate_counts: list[int] = []  # per window, after the cap
        self._warnings: list[tuple[str, str]] = []
        self._seen: dict[int, bytes] = {}  # frame number -> a sample of its pixels
        self._spatial = ClassicalDetector()  # no temporal context, or no flow (module doc)
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

    def size_warning(self, height: int, width: int) -> tuple[str, str] | None:
        """``(code, message)`` when a ``height`` x ``width`` picture is too small for flow
        and is judged without it (the module's doc), else None."""
        if fitting_scale(1.0, height, width) is not None:
            return None
        return (
            "no_motion_compensation",
            f"the picture is {width}x{height} px; optical flow needs {MIN_FLOW_SIZE[1]} px of "
            f"width and {MIN_FLOW_SIZE[0]} of height: the cascade cannot align the "
            "neighbouring frames, so the classical detector's temporal test judged it "
            "(neighbours compared unaligned, within a few pixels); moving content may be "
            "flagged or missed",
        )

    def _without_flow(self, window: Window) -> np.ndarray:
        """The classical detector's map for a window too small for flow, with a warning."""
        warning = self.size_warning(*window.frames[0].shape[:2])
        if warning is not None:
            self._warnings.append(warning)
        return self._spatial(window)

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
        h, w = frames[0].shape[:2]
        scale = fitting_scale(self.flow_scale.at(w), h, w)
        if scale is None:
            return self._without_flow(window)
        self._forget_other_pictures(window)
        self.cache.rescale(scale)
        t0 = time.perf_counter()
        done = find_candidates(frames, window.numbers, self.cache, self.params, self.cache.workers)
        t1 = t0 + done.flow_seconds  # warps are made band by band with the candidates
        found = self._cap(done.found, window.numbers[window.centre])
        best = done.best.score
        done = replace(done, found=found)
        self.last_candidates = len(found)
        t2 = time.perf_counter()
        encoded = encode_window(done, PATCH)
        prob = self.classify(encoded)
        if self.spot_rule is not None:  # a second opinion (the spot module's doc)
            said = opinions(done, self.spot_rule)
            prob = overrule(prob, said)
            self.spot_counts.append(int((said == FLAG).sum()))
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
