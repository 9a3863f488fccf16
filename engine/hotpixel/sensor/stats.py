"""Per-photosite statistics accumulated over a whole shot in one pass.

Memory is a fixed number of ``(H, W)`` and ``(H, W, 3)`` arrays, whatever the shot's length
(about 250 bytes per pixel with the motion state: 520 MB at 1920x1080), plus a bounded log of
the frame runs in which persistently departing pixels were seen.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from hotpixel.sensor.background import linear_of_tone, log_tone
from hotpixel.sensor.motion import Step

RUN_LOG_LIMIT = 4_000_000  # logged (pixel, first, last) runs; beyond it frames seen are ranges
PROMISING = 0.5  # a pixel's closed runs are logged while it departs in this share of its frames
CLIP = 2.5  # local noise sigmas: one frame's unexplained departure adds at most this to the score


@dataclass
class ShotStats:
    """Running sums for an ``(H, W)`` canvas; feed frames with :meth:`add`."""

    height: int
    width: int
    sigma: float = 3.0  # the threshold's multiple of the local noise (SensorParams.sigma)
    frames: list[int] = field(default_factory=list)  # frame numbers, in the order added
    log_overflow: bool = False

    def __post_init__(self) -> None:
        hw, hw3 = (self.height, self.width), (self.height, self.width, 3)
        self.n = np.zeros(hw, np.int32)  # frames with a finite value
        self.n_ev = np.zeros(hw, np.int32)  # evidence frames with a finite value
        self.seen = np.zeros(hw, np.int32)  # frames where any channel departs
        self.pos_all = np.zeros(hw3, np.int32)
        self.neg_all = np.zeros(hw3, np.int32)
        self.pos_ev = np.zeros(hw3, np.int32)
        self.neg_ev = np.zeros(hw3, np.int32)
        self.pos_un = np.zeros(hw3, np.int32)  # evidence departures the moved scene cannot explain
        self.neg_un = np.zeros(hw3, np.int32)
        # signed sum over evidence frames of the departure the moved scene cannot explain, in
        # local noise sigmas, clipped to +-CLIP: a photosite fixed on the sensor adds the same
        # sign every frame, content passing under it adds either sign
        self.sum_un = np.zeros(hw3, np.float32)
        self.sum_r = np.zeros(hw3, np.float32)
        self.sum_lin = np.zeros(hw3, np.float64)
        self.sum_lin2 = np.zeros(hw3, np.float64)
        self.max_lin = np.full(hw3, -np.inf, np.float32)  # brightest value seen (clip level)
        # the linear excess over the neighbourhood (channel mean) and the neighbourhood's
        # level, their squares and products, and the excess times the frame's index: whether a
        # photosite's offset holds constant over the shot while the level around it changes
        # (the footprint test, :mod:`.classify`)
        self.sum_b = np.zeros(hw, np.float64)
        self.sum_b2 = np.zeros(hw, np.float64)
        self.sum_eb = np.zeros(hw, np.float64)
        self.sum_e = np.zeros(hw, np.float64)
        self.sum_e2 = np.zeros(hw, np.float64)
        self.sum_et = np.zeros(hw, np.float64)
        self.sum_t = np.zeros(hw, np.float64)
        self.sum_t2 = np.zeros(hw, np.float64)
        self.run_start = np.full(hw, -1, np.int32)
        self.run_end = np.full(hw, -1, np.int32)
        self._log: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self._logged = 0

    def add(
        self,
        frame: int,
        lin: np.ndarray,
        r: np.ndarray,
        thr: np.ndarray,
        valid: np.ndarray,
        step: Step,
        bg: np.ndarray | None = None,
    ) -> int:
        """Accumulate one frame; return how many pixels depart from their neighbours in it.

        ``lin`` (linear RGB, finite), ``r`` (tone residual), ``thr`` (its threshold) and ``bg``
        (the neighbourhood in log tone; None: taken from ``lin`` and ``r``) are ``(H, W, 3)``;
        ``valid`` ``(H, W)`` is False where the frame held NaN/Inf.
        """
        index = len(self.frames)
        self.frames.append(frame)
        v3 = valid[..., None]
        pos = (r > thr) & v3
        neg = (r < -thr) & v3
        self.n += valid
        self.pos_all += pos
        self.neg_all += neg
        self.sum_r += np.where(v3, r, np.float32(0.0))
        lv = np.where(v3, lin, np.float32(0.0)).astype(np.float64)
        self.sum_lin += lv
        self.sum_lin2 += lv * lv
        self._excess(index, lv, log_tone(lin) - r if bg is None else bg, valid)
        np.maximum(self.max_lin, np.where(v3, lin, -np.inf), out=self.max_lin)
        seen = (pos | neg).any(axis=-1)
        self.seen += seen
        self._runs(index, seen)
        if step.evidence is not None:
            noise = thr / np.float32(self.sigma)  # (H, W, 3) local noise sigma, > 0
            self._evidence(r, noise, pos, neg, valid, step)
        return int(seen.sum())

    def _excess(self, index: int, lv: np.ndarray, bg: np.ndarray, valid: np.ndarray) -> None:
        b3 = linear_of_tone(bg)
        b = np.where(valid, b3.mean(axis=-1), 0.0)  # (H, W) float64
        e = np.where(valid, (lv - b3).mean(axis=-1), 0.0)
        t = np.float64(index)
        self.sum_b += b
        self.sum_b2 += b * b
        self.sum_eb += e * b
        self.sum_e += e
        self.sum_e2 += e * e
        self.sum_et += e * t
        self.sum_t += valid * t
        self.sum_t2 += valid * (t * t)

    def _evidence(
        self,
        r: np.ndarray,
        noise: np.ndarray,
        pos: np.ndarray,
        neg: np.ndarray,
        valid: np.ndarray,
        step: Step,
    ) -> None:
        """Count the photosites this frame is evidence for (:mod:`.motion`): there the content
        under them is new, and ``step.low``..``step.high`` is what the moved key content
        predicts (0..0 after a cut, where nothing is predicted)."""
        assert step.evidence is not None and step.low is not None and step.high is not None
        ev = step.evidence & valid
        e3 = ev[..., None]
        half = np.float32(0.5) * r
        self.n_ev += ev
        self.pos_ev += pos & e3
        self.neg_ev += neg & e3
        self.pos_un += pos & e3 & (step.high < half)
        self.neg_un += neg & e3 & (step.low > half)
        # the part of the residual outside the range the moved content spans (0 inside it)
        beyond = (r - np.clip(r, step.low, step.high)) / noise
        self.sum_un += np.where(e3, np.clip(beyond, -CLIP, CLIP), np.float32(0.0))

    def _runs(self, index: int, seen: np.ndarray) -> None:
        """Keep the current run of frames each pixel departs in; log closed runs if promising."""
        extend = seen & (self.run_end == index - 1) & (self.run_start >= 0)
        restart = seen & ~extend
        closing = restart & (self.run_start >= 0)
        if closing.any() and not self.log_overflow:
            promising = closing & (self.seen >= PROMISING * (index + 1))
            idx = np.flatnonzero(promising)
            if self._logged + idx.size > RUN_LOG_LIMIT:
                self.log_overflow = True
            elif idx.size:
                self._log.append(
                    (idx, self.run_start.ravel()[idx].copy(), self.run_end.ravel()[idx].copy())
                )
                self._logged += idx.size
        self.run_start[restart] = index
        self.run_end[seen] = index

    def runs_of(self, flat_indices: np.ndarray) -> list[tuple[int, int]]:
        """Runs of frame *indices* (inclusive) in which any of these pixels departed."""
        wanted = set(flat_indices.tolist())
        found: list[tuple[int, int]] = []
        for idx, start, end in self._log:
            hit = np.isin(idx, flat_indices)
            found.extend(zip(start[hit].tolist(), end[hit].tolist(), strict=True))
        for i in wanted:
            s, e = int(self.run_start.ravel()[i]), int(self.run_end.ravel()[i])
            if s >= 0:
                found.append((s, e))
        return found

    def frames_seen(self, flat_indices: np.ndarray) -> list[int]:
        """Frame numbers in which any of these pixels departed from its neighbours."""
        indices: set[int] = set()
        for s, e in self.runs_of(flat_indices):
            indices.update(range(s, e + 1))
        return sorted(self.frames[i] for i in indices)
