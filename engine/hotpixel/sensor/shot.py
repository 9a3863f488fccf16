"""The shot-level pass over decoded frames: feed frames in order, then ask for the findings.

:class:`ShotAnalysis` is the array-level entry point (the CLI reads files into it; tests and the
benchmark feed arrays). Frames are ``(H, W, 3)`` float32 scene-linear on one canvas, top-left
origin; NaN and Inf are allowed and simply do not count for the pixels that hold them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hotpixel.io.geometry import Geometry, to_nuke
from hotpixel.io.sequence import format_ranges, runs
from hotpixel.sensor.background import log_tone, residual
from hotpixel.sensor.classify import (
    Cluster,
    Footprint,
    SensorParams,
    candidates,
    clusters,
    pixel_maps,
    unconfirmed_reason,
)
from hotpixel.sensor.motion import MotionEvidence
from hotpixel.sensor.optics import MIN_EDGES
from hotpixel.sensor.stats import ShotStats

EVIDENCE_SHARE = 0.25  # a span's evidence frames: frames that are evidence for this share of it
CANDIDATE_LIMIT = 200  # unconfirmed positions listed in sensor.json (all are counted)
MIN_STATIC_SPAN = 3  # static runs shorter than this in a moving shot are not worth a warning


@dataclass
class Findings:
    """What the pass found, in the coordinate contract of :mod:`hotpixel.io.geometry`."""

    defects: list[dict[str, Any]]
    candidates: list[dict[str, Any]]
    candidates_total: int
    oversized_regions: int
    spans: list[dict[str, Any]]
    warnings: list[dict[str, str]]
    evidence_frames: int
    frames_seen_exact: bool
    mask: np.ndarray  # (H, W) float32 0/1 on the canvas
    members: list[np.ndarray] = field(repr=False)  # per defect (N, 2) canvas column, row
    optics: dict[str, Any] = field(default_factory=dict)  # the picture's sharpness (sensor.json)


class ShotAnalysis:
    """Streaming statistics of one shot over an ``(height, width)`` canvas."""

    def __init__(self, height: int, width: int, params: SensorParams | None = None) -> None:
        self.params = params or SensorParams()
        self.stats = ShotStats(height, width, self.params.sigma)
        self.tracker = MotionEvidence(height, width)
        self.labels: list[str] = []  # per frame: "first", "static", "moving" or "changed"
        self.shares: list[float] = []  # per frame: share of the picture it is evidence for

    def add(self, frame: int, rgb: np.ndarray) -> int:
        """Accumulate frame ``frame`` (``(H, W, 3)``); return its count of departing pixels."""
        if rgb.shape != (self.stats.height, self.stats.width, 3):
            raise ValueError(
                f"frame {frame} is {rgb.shape}, expected {(self.stats.height, self.stats.width, 3)}"
            )
        finite = np.isfinite(rgb)
        valid = finite.all(axis=-1)
        lin = np.where(finite, rgb, np.float32(0.0)).astype(np.float32, copy=False)
        lin = np.clip(lin, -65504.0, 65504.0)
        r, bg, thr = residual(log_tone(lin), self.params.sigma)
        step = self.tracker.observe(lin, r)
        self.labels.append(step.label)
        self.shares.append(step.evidence_share)
        return self.stats.add(frame, lin, r, thr, valid, step, bg)

    def finish(self, canvas: Geometry) -> Findings:
        """Classify, cluster and describe; ``canvas`` places the arrays in the display window."""
        maps = pixel_maps(self.stats, self.params)
        self._figures = maps.figures
        found, oversized = clusters(maps, self.params)
        found.sort(key=lambda c: (int(c.pixels[:, 1].min()), int(c.pixels[:, 0].min())))
        mask = np.zeros((self.stats.height, self.stats.width), np.float32)
        defects = []
        for ident, cluster in enumerate(found, start=1):
            mask[cluster.pixels[:, 1], cluster.pixels[:, 0]] = 1.0
            defects.append(self._describe(ident, cluster, canvas))
        listed, total = candidates(maps, CANDIDATE_LIMIT)
        dx, dy = canvas.offset
        cands = [
            {
                "x": dx + c + 0.5,
                "y": dy + r + 0.5,
                "direction": "brighter" if s > 0 else "darker",
                "evidence_frames": int(self.stats.n_ev[r, c]),
                "variation": round(float(maps.variation[r, c]), 3),
                "reason": unconfirmed_reason(
                    int(self.stats.n_ev[r, c]),
                    int(self.stats.n[r, c]),
                    float(maps.variation[r, c]),
                    self.params,
                )
                + f"; {_not_lone(maps.figures, r, c)}",
            }
            for c, r, s in listed
        ]
        spans = self._spans()
        # the typical photosite's independent evidence frames (locked-off: 0 however much moves)
        evidence = int(np.median(self.stats.n_ev)) if self.stats.n_ev.size else 0
        return Findings(
            defects=defects,
            candidates=cands,
            candidates_total=total,
            oversized_regions=oversized,
            spans=spans,
            warnings=self._warnings(spans, evidence, maps.figures),
            evidence_frames=evidence,
            frames_seen_exact=not self.stats.log_overflow,
            mask=mask,
            members=[c.pixels for c in found],
            optics=_optics(maps.figures),
        )

    def _describe(self, ident: int, c: Cluster, canvas: Geometry) -> dict[str, Any]:
        dx, dy = canvas.offset
        cols, rows = c.pixels[:, 0], c.pixels[:, 1]
        x = float(dx + cols.mean() + 0.5)
        y = float(dy + rows.mean() + 0.5)
        nuke_x, nuke_y = to_nuke(x, y, canvas.full_height)
        flat = rows * self.stats.width + cols
        seen = self.stats.frames_seen(flat)
        return {
            "id": ident,
            "kind": c.kind,
            "x": round(x, 3),
            "y": round(y, 3),
            "nuke_x": round(nuke_x, 3),
            "nuke_y": round(nuke_y, 3),
            "area": int(cols.size),
            "members": [
                [float(dx + a + 0.5), float(dy + b + 0.5)] for a, b in zip(cols, rows, strict=True)
            ],
            "bbox": [
                int(dx + cols.min()),
                int(dy + rows.min()),
                int(dx + cols.max() + 1),
                int(dy + rows.max() + 1),
            ],
            "frames_seen": format_ranges(seen),
            "seen_count": len(seen),
            "first_frame": seen[0] if seen else None,
            "last_frame": seen[-1] if seen else None,
            "confidence": round(c.confidence, 4),
            "evidence": c.evidence,
            "evidence_frames": int(self.stats.n_ev[rows, cols].max()),
            "reason": self._reason(c, rows, cols),
            "response": round(c.response, 4),
            "mean_rgb": [round(v, 6) for v in c.mean_rgb],
            "seen": seen,
        }

    def _reason(self, c: Cluster, rows: np.ndarray, cols: np.ndarray) -> str:
        """Why the position was confirmed, in words, from its strongest member's counts."""
        st = self.stats
        parts = []
        if "motion" in c.evidence:
            i = int(np.argmax(st.n_ev[rows, cols]))
            y, x = rows[i], cols[i]
            same = max(int(st.pos_un[y, x].max()), int(st.neg_un[y, x].max()))
            way = "brighter" if st.pos_un[y, x].max() >= st.neg_un[y, x].max() else "darker"
            parts.append(
                f"motion: the content under it changed in {int(st.n_ev[y, x])} frame(s); it "
                f"stayed {way} than its neighbours, beyond what the moved content explains, in "
                f"{same} of them"
            )
        if "footprint" in c.evidence:
            parts.append(self._footprint_reason(rows, cols))
        if "invariance" in c.evidence:
            parts.append(
                f"invariance: over {int(st.n[rows, cols].max())} frames it varied at most "
                f"{self.params.stuck_ratio:g} as much as its neighbours, in every channel, "
                "while they varied, and it is not at the shot's clip level"
            )
        return "; ".join(parts)

    def _footprint_reason(self, rows: np.ndarray, cols: np.ndarray) -> str:
        f = self._figures
        i = int(np.argmin(f.spill[rows, cols]))
        y, x = rows[i], cols[i]
        same = max(int(self.stats.pos_all[y, x].max()), int(self.stats.neg_all[y, x].max()))
        return (
            f"footprint: it stood out from its neighbours in {same} of {int(self.stats.n[y, x])} "
            f"frames, alone: the photosites beside it hold {max(float(f.spill[y, x]), 0.0):.3f} "
            f"of its excess, where the optics (spread {f.optics.spread:.2f} px, from "
            f"{f.optics.edges} edges) put {f.optics.spill:.3f} beside a point of light and "
            f"{f.bound:.3f} is allowed; its excess held constant (variation "
            f"{float(f.wobble[y, x]):.1f}x its neighbours', drift {float(f.drift[y, x]):+.1%} "
            f"over the shot) while the level around it varied by "
            f"{float(f.level_change[y, x]):.1%}, and followed that level "
            f"{float(f.follows[y, x]):+.2f} of the way a scene light would"
        )

    def _spans(self) -> list[dict[str, Any]]:
        frames = self.stats.frames
        labels = ["static" if label == "static" else "moving" for label in self.labels]
        if len(labels) > 1 and self.labels[0] == "first":
            labels[0] = labels[1]
        out: list[dict[str, Any]] = []
        start = 0
        for i in range(1, len(labels) + 1):
            if i == len(labels) or labels[i] != labels[start]:
                shares = self.shares[start:i]
                out.append(
                    {
                        "frames": format_ranges(frames[start:i]),
                        "first_frame": frames[start],
                        "last_frame": frames[i - 1],
                        "motion": labels[start],
                        "evidence_frames": sum(1 for s in shares if s >= EVIDENCE_SHARE),
                        "evidence_share": round(float(np.mean(shares)), 4),
                        "changed_frames": self.labels[start:i].count("changed"),
                        "frame_count": i - start,
                    }
                )
                start = i
        return out

    def _warnings(
        self, spans: list[dict[str, Any]], evidence: int, figures: Footprint
    ) -> list[dict[str, str]]:
        frames = self.stats.frames
        if not self.tracker.flows:
            w, h = self.tracker.width, self.tracker.height
            size = f"the picture, {w}x{h} px, is too small for optical flow, so no motion is seen"
            return [_insufficient(frames, f"{size}; dead and stuck pixels are still found")]
        if evidence < self.params.min_evidence:
            if figures.bound is None:
                lone = (
                    f"lone photosites are not judged either: the picture has "
                    f"{figures.optics.edges} sharp edge(s), {MIN_EDGES} needed to measure its "
                    "optics"
                )
            else:
                lone = (
                    "persistent hot photosites are confirmed only alone and sharper than the "
                    f"optics (spread {figures.optics.spread:.2f} px), with a constant offset"
                )
            return [
                _insufficient(
                    frames,
                    f"the typical photosite has {evidence} frame(s) in which the content under it "
                    f"moved, {self.params.min_evidence} needed: where nothing moves, a hot "
                    "pixel is hard to tell from a small static light, so "
                    f"{lone}; defects are still confirmed where moving content passes over "
                    "them, and dead and stuck ones where they do not vary in time and their "
                    "neighbours do",
                )
            ]
        out = []
        for span in spans:
            if span["motion"] == "static" and span["frame_count"] >= MIN_STATIC_SPAN:
                chosen = [f for f in frames if span["first_frame"] <= f <= span["last_frame"]]
                out.append(_insufficient(chosen, "the picture holds still in these frames"))
        return out


def _not_lone(f: Footprint, r: int, c: int) -> str:
    """Why the footprint test did not confirm the candidate at row ``r``, column ``c``."""
    if f.bound is None:
        return (
            f"footprint not judged: {f.optics.edges} sharp edge(s) in the picture, {MIN_EDGES} "
            "needed to measure its optics"
        )
    spill, bound = max(float(f.spill[r, c]), 0.0), f.bound
    if spill > bound:
        return (
            f"not alone: the photosites beside it hold {spill:.3f} of its excess, at most "
            f"{bound:.3f} allowed (the optics put {f.optics.spill:.3f} beside a point of light)"
        )
    return (
        f"alone (spill {spill:.3f}), but its excess did not hold constant or it stood out in "
        f"too few frames (variation {float(f.wobble[r, c]):.1f}x its neighbours', drift "
        f"{float(f.drift[r, c]):+.1%} over the shot)"
    )


def _optics(f: Footprint) -> dict[str, Any]:
    return {
        "edges": f.optics.edges,
        "edge_share": f.optics.share,
        "spread": f.optics.spread,
        "point_spill": f.optics.spill,
        "spill_allowed": None if f.bound is None else round(f.bound, 4),
    }


def _insufficient(frames: list[int], detail: str) -> dict[str, str]:
    parts = runs(frames)
    text = ", ".join(f"{a}-{b}" for a, b in parts)
    return {
        "code": "insufficient_motion",
        "frames": text,
        "message": "insufficient motion to separate sensor defects from scene content in "
        f"frames {text} ({detail})",
    }
