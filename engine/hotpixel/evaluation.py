"""Accuracy evaluation: held-out plates, generator defects, hard negatives, baselines side by side.

The evaluation set is made by :func:`hotpixel.synth.windows.make_window` from plates never used
in training, with its own seed. A detection within 2 px of a true centroid in the same window is a
hit; each truth is matched at most once (highest score first). Every detector sees the same
windows. Figures: recall overall and by contrast, false alerts per frame and per megapixel-frame,
precision, F1, false alerts on hard negatives, and a precision-recall sweep over thresholds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .components import find_detections
from .geometry import Geometry
from .synth.plates import load_plate
from .synth.windows import Sample, WindowConfig, make_window
from .window import Window

CONTRAST_BINS = ((0.1, 0.3), (0.3, 1.0), (1.0, 3.0), (3.0, 10.0), (10.0, 1e9))
MATCH_RADIUS = 2.0
SWEEP_FLOOR = 0.05  # detections are collected at this threshold, then swept upwards
EVAL_CONFIG = WindowConfig(
    size=(1920, 1080),
    zoom=(0.42, 0.52),
    defects=(15, 25),
    points=(20, 40),
    stuck=(1, 3),
    speed=(0.0, 6.0),
    flash_rate=0.1,
    cut_rate=0.1,
)

ProbabilityFn = Callable[[Window], np.ndarray]


@dataclass
class Scored:
    """All detections of one detector over the set, at :data:`SWEEP_FLOOR`."""

    scores: list[float] = field(default_factory=list)
    hit: list[bool] = field(default_factory=list)
    on_hard: list[bool] = field(default_factory=list)
    truth_best: list[float] = field(default_factory=list)  # per truth: best matching score
    truth_contrast: list[float] = field(default_factory=list)
    frames: int = 0
    pixels: int = 0


def evaluation_set(
    plates: list[str], count: int, seed: int, config: WindowConfig = EVAL_CONFIG
) -> list[Sample]:
    rng = np.random.default_rng(seed)
    loaded = [load_plate(p) for p in plates]
    return [make_window(loaded, rng, config) for _ in range(count)]


def score_detector(fn: ProbabilityFn, samples: list[Sample], temporal: bool = True) -> Scored:
    """Run ``fn`` on every sample's window (centre repeated when not ``temporal``) and match."""
    out = Scored()
    for s in samples:
        frames = tuple(s.frames) if temporal else (s.frames[2],) * 5
        numbers = (1, 2, 3, 4, 5) if temporal else (3, 3, 3, 3, 3)
        prob = fn(Window(frames, numbers, 2))
        _match(prob, s, out)
        out.frames += 1
        out.pixels += prob.size
    return out


def _match(prob: np.ndarray, s: Sample, out: Scored) -> None:
    h, w = prob.shape
    centre = s.frames[2]
    found = find_detections(
        prob, prob, np.nan_to_num(centre), Geometry.simple(w, h), 0, SWEEP_FLOOR, 64
    ).detections
    found = sorted(found, key=lambda d: -d.score)
    best = [0.0] * len(s.defects)
    for d in found:
        j = _nearest_free(d.x, d.y, s, best)
        out.scores.append(d.score)
        out.hit.append(j is not None)
        out.on_hard.append(bool(s.hard[min(int(d.y), h - 1), min(int(d.x), w - 1)]))
        if j is not None:
            best[j] = d.score
    out.truth_best.extend(best)
    out.truth_contrast.extend(t.contrast for t in s.defects)


def _nearest_free(x: float, y: float, s: Sample, best: list[float]) -> int | None:
    chosen, dist = None, MATCH_RADIUS
    for j, t in enumerate(s.defects):
        d = float(np.hypot(t.x - x, t.y - y))
        if best[j] == 0.0 and d <= dist:
            chosen, dist = j, d
    return chosen


def metrics(sc: Scored, threshold: float) -> dict[str, Any]:
    """The figures at one threshold."""
    scores = np.array(sc.scores)
    keep = scores >= threshold
    hits = np.array(sc.hit, bool)[keep]
    hard = np.array(sc.on_hard, bool)[keep]
    best = np.array(sc.truth_best)
    contrast = np.array(sc.truth_contrast)
    found = best >= threshold
    fa = int((~hits).sum())
    recall = float(found.mean()) if found.size else 1.0
    precision = float(hits.mean()) if hits.size else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    by_bin = {}
    for lo, hi in CONTRAST_BINS:
        sel = (contrast >= lo) & (contrast < hi)
        by_bin[f"{lo:g}-{hi:g}" if hi < 1e9 else f">={lo:g}"] = (
            float(found[sel].mean()) if sel.any() else None
        )
    return {
        "threshold": threshold,
        "truths": int(best.size),
        "recall": recall,
        "precision": precision,
        "f1": f1,
        "false_alerts": fa,
        "false_alerts_per_frame": fa / max(sc.frames, 1),
        "false_alerts_per_mpix_frame": fa / max(sc.pixels / 1e6, 1e-9),
        "false_alerts_on_hard_negatives": int((~hits & hard).sum()),
        "recall_by_contrast": by_bin,
    }


def sweep(sc: Scored) -> list[dict[str, Any]]:
    """Metrics at thresholds from :data:`SWEEP_FLOOR` to 0.99."""
    return [metrics(sc, float(t)) for t in np.round(np.linspace(SWEEP_FLOOR, 0.99, 48), 3)]


def recall_at_false_alert_rate(sc: Scored, rate: float) -> float:
    """Best recall among thresholds whose false alerts per frame are at most ``rate``."""
    ok = [m["recall"] for m in sweep(sc) if m["false_alerts_per_frame"] <= rate]
    return max(ok) if ok else 0.0
