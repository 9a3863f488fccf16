"""The cascade's candidate stage: the one function detection, training and fine-tuning call.

:func:`find_candidates` takes one window and gives a :class:`CandidateWindow`: the candidates,
the best channel's score map, the flows and their confidence, and the cutouts the classifier
reads (:func:`hotpixel.detect.cascade.encoding.encode_window`). Its definition is the
whole-picture path, :func:`hotpixel.detect.motion.align_slots` followed by
:func:`hotpixel.detect.cascade.candidates.find`: every neighbour warped over the whole picture,
every confidence and evidence map made at once and kept. At 4K that is gigabytes of full-frame
float32 passes on one core, so it runs by bands of rows instead, with the same numbers:

- the flows and their confidence come whole from the
  :class:`~hotpixel.detect.motion.MotionCache` (each neighbour on its own thread);
- each band is widened by :data:`HALO` rows on either side (where the picture goes on), its
  warps and evidence computed over the widened rows, and only its own rows kept. Every filter
  of the evidence reaches at most 3 rows, so a band's own rows are the whole picture's numbers
  (with 2 rows of halo they are not: the test fails); the picture's real edges are the band's
  edges there, with the same border rules;
- bands go to ``workers`` threads at once (OpenCV and NumPy release the GIL), and each band's
  working set stays small enough to sit in the processor's caches;
- only the best channel's score is kept for the whole picture (and the rest where it reaches
  the candidate threshold: :class:`~hotpixel.detect.cascade.candidates.BestChannel`), and the
  aligned neighbours are never kept: the classifier's cutouts of them are resampled at the
  candidates' own pixels, the same bilinear lookups the whole warp makes there.

Pictures of any size go through it, those smaller than a cutout too (cutouts reflect as often
as they need). ``tests/test_bands.py`` checks it against the whole-picture path, value for value.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace

import cv2
import numpy as np

from hotpixel.detect.cascade import candidates as cand
from hotpixel.detect.motion import FullFlow, MotionCache, row_blocks, warp

HALO = 3  # rows added above and below a band: the widest filter of the evidence reaches 3


@dataclass(frozen=True)
class CandidateWindow:
    """One window's candidate stage, done (:func:`find_candidates`).

    ``found`` the candidates; ``best`` the best channel's evidence (its score everywhere);
    ``frames`` the window as decoded and ``numbers`` its frame numbers; ``flows`` ``{number:
    flow from the centre}`` and ``confidence`` ``{number: (H, W) confidence}`` for each
    neighbour that is not the centre's own picture.
    """

    found: cand.Candidates
    best: cand.BestChannel
    frames: Sequence[np.ndarray]
    numbers: Sequence[int]
    flows: dict[int, FullFlow]
    confidence: dict[int, np.ndarray]
    flow_seconds: float = 0.0  # wall time spent getting the flows (cached ones cost nothing)

    @property
    def centre(self) -> int:
        return self.numbers[len(self.numbers) // 2]

    def aligned_cutouts(self, size: int) -> np.ndarray:
        """``(N, T, size, size, C)``: :func:`hotpixel.detect.cascade.candidates.cutouts` of the
        aligned window at the candidates, without the aligned window (see the module's doc)."""
        ys, xs = self.found.y, self.found.x
        frame = self.frames[len(self.frames) // 2]
        h, w = frame.shape[:2]
        rows, cols = cand.cutout_index(ys, xs, size, h, w)
        rows, cols = np.broadcast_arrays(rows, cols)  # (N, s, s) each
        slots = []
        for k, number in enumerate(self.numbers):
            if number not in self.flows:  # the centre's own picture
                slots.append(frame[rows, cols, :])
                continue
            flow = self.flows[number].at(rows, cols)  # (N, s, s, 2)
            # the same float32 sums the whole warp makes: pixel coordinate + flow
            mx = cols.astype(np.float32) + flow[..., 0]
            my = rows.astype(np.float32) + flow[..., 1]
            slots.append(_remap_points(self.frames[k], mx, my))
        return np.stack(slots, axis=1)

    def confidence_cutouts(self, size: int) -> np.ndarray:
        """``(N, T, size, size)`` flow confidence around the candidates (1 in the slots of the
        centre's own picture)."""
        ys, xs = self.found.y, self.found.x
        h, w = self.frames[0].shape[:2]
        rows, cols = cand.cutout_index(ys, xs, size, h, w)
        ones = np.ones((len(ys), size, size), np.float32)
        slots = [
            self.confidence[n][rows, cols] if n in self.confidence else ones for n in self.numbers
        ]
        return np.stack(slots, axis=1)


def _remap_points(frame: np.ndarray, mx: np.ndarray, my: np.ndarray) -> np.ndarray:
    """``frame`` sampled bilinearly at ``(mx, my)`` ``(N, s, s)`` (edge repeated outside), as
    :func:`hotpixel.detect.motion.warp` samples it: ``(N, s, s, C)``."""
    n, s = mx.shape[0], mx.shape[1]
    flat_x, flat_y = mx.reshape(n, s * s), my.reshape(n, s * s)
    parts = []
    for i in range(0, n, 8192):  # OpenCV maps stay under 32767 rows
        part = cv2.remap(
            frame,
            flat_x[i : i + 8192],
            flat_y[i : i + 8192],
            cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_REPLICATE,
        )
        parts.append(part.reshape(-1, s, s, frame.shape[2]))
    return np.concatenate(parts) if parts else np.zeros((0, s, s, frame.shape[2]), frame.dtype)


def find_candidates(
    frames: Sequence[np.ndarray],
    numbers: Sequence[int],
    cache: MotionCache,
    params: cand.CandidateParams,
    workers: int = 2,
    pixels: int | None = None,
) -> CandidateWindow:
    """The candidate stage of one window of T ``(H, W, C)`` float32 frames (centre ``T // 2``),
    by bands of about ``pixels`` pixels on ``workers`` threads: the same
    :class:`~hotpixel.detect.cascade.candidates.Candidates` and best-channel evidence as
    ``candidates.find`` on ``motion.align_slots``'s output (see the module's doc). ``numbers``
    are the frames' numbers, the ``cache``'s keys (a mirrored window repeats some)."""
    if len(numbers) != len(frames) or any(f.ndim != 3 for f in frames):
        raise ValueError(f"frames must be T (H, W, C) arrays, one number each; got {len(numbers)}")
    t = len(frames) // 2
    c = numbers[t]
    centre = frames[t]
    h, w = centre.shape[:2]
    by_number = {n: frames[k] for k, n in enumerate(numbers)}  # the last slot of each, as align
    t0 = time.perf_counter()
    motions = cache.confidences(c, centre, [(n, f) for n, f in by_number.items()])
    flow_seconds = time.perf_counter() - t0
    moved = list(motions)
    score = np.zeros((h, w), np.float32)
    parts: dict[int, cand.BestChannel] = {}
    others = [numbers[k] for k in range(len(numbers)) if k != t]

    def band(rows: tuple[int, int]) -> None:
        y0, y1 = rows
        r0, r1 = max(0, y0 - HALO), min(h, y1 + HALO)
        keep = slice(y0 - r0, y1 - r0)
        warped = {}
        for n in moved:
            t0 = time.perf_counter()
            warped[n] = warp(by_number[n], motions[n][0].rows(r0, r1), r0)
            cache.count("warp", t0)
        t0 = time.perf_counter()
        mid = centre[r0:r1]
        ones = np.ones(mid.shape[:2], np.float32)
        ev = cand.evidence(
            mid,
            [warped.get(n, mid) for n in others],
            params,
            [motions[n][1][r0:r1] if n in motions else ones for n in others],
            scratch=True,  # reduced to the best channel below, before this thread's next band
        )
        part = cand.BestChannel.of(
            cand.Evidence(ev.residual[keep], ev.sigma[keep], ev.level[keep], ev.score[keep]),
            params.threshold,
            y0 * w,
        )
        score[y0:y1] = part.score
        parts[y0] = part
        cache.count("evidence", t0)

    jobs = row_blocks(h, w, pixels)
    if workers > 1 and len(jobs) > 1:
        with ThreadPoolExecutor(workers, thread_name_prefix="hotpixel-band") as pool:
            list(pool.map(band, jobs))
    else:
        for job in jobs:
            band(job)
    flows = {n: motions[n][0] for n in moved}
    confidence = {n: motions[n][1] for n in moved}
    trust = dict(confidence)
    if c in others:  # a neighbour slot showing the centre's own picture: fully trusted
        trust[c] = np.ones((h, w), np.float32)
    conf_others = [trust[n] for n in others]
    best = cand.BestChannel.join(score, [parts[y0] for y0, _ in jobs])
    found = cand.gather(centre, best, conf_others, None, params)
    still = np.zeros((len(found), 2), np.float32)  # the centre's own slots
    at = np.stack([flows[n].at(found.y, found.x) if n in flows else still for n in numbers])
    found = replace(found, motion=cand.largest_motion(at.reshape(len(numbers), len(found), 2)))
    return CandidateWindow(found, best, frames, numbers, flows, confidence, flow_seconds)
