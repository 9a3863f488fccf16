"""Accuracy evaluation: held-out plates, generator defects, hard negatives, baselines side by side.

The evaluation set is made by :func:`hotpixel.ml.synth.windows.make_window` from plates never used
in training, with its own seed. A detection within 2 px of a true centroid in the same window is a
hit; each truth is matched at most once (highest score first). Every detector sees the same
windows. Figures: recall overall and by contrast, false alerts per frame and per megapixel-frame,
precision, F1, false alerts on hard negatives, and a precision-recall sweep over thresholds.

Hard negatives are few in the main set (a few dozen lights per frame, of which a detector flags
one or two), too few to compare two detectors on. So a second set, :func:`hard_negative_set`,
packs 150-250 persistent lights, stars and glints and a few stuck photosites into every frame,
with no defects: every detection there is false, and :func:`matched_recall` compares two
detectors' false alerts on it at thresholds where they find the same share of defects.

:func:`encoded_set` stores the same windows in another encoding (ARRI LogC3 or S-Log3 as 10-bit
DPX codes, ACEScct as half floats) and decodes them back as a plate read would
(:class:`hotpixel.io.colour.Decoder`), so that "the same plate in another encoding gives the
same answer" is measured (docs/colour.md).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np

from hotpixel.detect.grouping import find_detections
from hotpixel.detect.windows import Window
from hotpixel.io.colour import BUILTIN_CONFIG, Decoder, InputColour, encode
from hotpixel.io.geometry import Geometry
from hotpixel.ml.synth.plates import load_plate
from hotpixel.ml.synth.windows import Sample, WindowConfig, make_window

CONTRAST_BINS = ((0.1, 0.3), (0.3, 1.0), (1.0, 3.0), (3.0, 10.0), (10.0, 1e9))
# signal over noise: the defect's excess over its background in grain sigmas at that level
SNR_BINS = ((0.0, 1.0), (1.0, 3.0), (3.0, 5.0), (5.0, 10.0), (10.0, 1e9))
DETECTABLE_SNR = 5.0  # below this even a perfect detector drowns in grain at 0.02 FA/frame
MATCH_RADIUS = 2.0
# finer at the top, where recall at a few false alerts per hundred frames is decided
THRESHOLDS = (
    0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95,
    0.97, 0.98, 0.985, 0.99, 0.993, 0.995, 0.997, 0.999,
)  # fmt: skip
MAX_AREA = 64
# at more false alerts per frame than this on the main set a detector is no use for QC; the
# hard-negative comparison is summed over thresholds where both detectors stay under it
OPERATING_FALSE_ALERTS = 10.0
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

HARD_CONFIG = replace(EVAL_CONFIG, defects=(0, 0), points=(150, 250), stuck=(2, 5))

ProbabilityFn = Callable[[Window], np.ndarray]
# name -> (colour space of the built-in OCIO config, how it is stored); "linear" is as generated
ENCODINGS: dict[str, tuple[str, str] | None] = {
    "linear": None,
    "logc3-dpx10": ("ARRI LogC3 (EI800)", "dpx10"),
    "slog3-dpx10": ("S-Log3 S-Gamut3", "dpx10"),
    "acescct-exr": ("ACEScct", "half"),
}


@dataclass
class Counts:
    """Matching results at one threshold, summed over the set."""

    detections: int = 0
    hits: int = 0
    false_on_hard: int = 0
    found: list[bool] = field(default_factory=list)  # per truth


@dataclass
class Scored:
    """One detector over the set: counts per threshold (components redone at each)."""

    at: dict[float, Counts] = field(default_factory=lambda: {t: Counts() for t in THRESHOLDS})
    contrast: list[float] = field(default_factory=list)  # per truth
    snr: list[float] = field(default_factory=list)  # per truth
    frames: int = 0
    pixels: int = 0


def evaluation_set(
    plates: list[str], count: int, seed: int, config: WindowConfig = EVAL_CONFIG
) -> list[Sample]:
    rng = np.random.default_rng(seed)
    loaded = [load_plate(p) for p in plates]
    return [make_window(loaded, rng, config) for _ in range(count)]


def hard_negative_set(plates: list[str], count: int, seed: int) -> list[Sample]:
    """Windows like the evaluation set's, crowded with hard negatives and holding no defect."""
    return evaluation_set(plates, count, seed, HARD_CONFIG)


def encoded_set(samples: list[Sample], encoding: str) -> list[Sample]:
    """``samples`` stored in ``encoding`` (a key of :data:`ENCODINGS`) and decoded back.

    The generated values are taken as the config's scene_linear (ACEScg), encoded to the
    colour space, stored (10-bit DPX codes as OpenImageIO reads them, or half floats) and
    decoded by the same :class:`Decoder` a ``hotpixel detect`` run uses. Truths are unchanged.
    """
    spec = ENCODINGS[encoding]
    if spec is None:
        return samples
    space, stored = spec
    colour = InputColour(space, "flag", f"eval --encoding {encoding}", BUILTIN_CONFIG, "ACEScg")
    decoder = Decoder(colour)
    out = []
    for s in samples:
        frames = np.stack(
            [decoder.decode(_stored(encode(f, colour), stored), (0, 1, 2)) for f in s.frames]
        )
        out.append(replace(s, frames=frames))
    return out


def _stored(values: np.ndarray, stored: str) -> np.ndarray:
    """Encoded ``(h, w, 3)`` values as a read returns them: 10-bit DPX codes widened to 16 bits
    by bit replication (as OpenImageIO does), or half floats."""
    if stored == "half":
        with np.errstate(over="ignore"):
            return values.astype(np.float16)
    codes = np.round(np.clip(np.nan_to_num(values), 0.0, 1.0) * 1023).astype(np.uint16)
    widened: np.ndarray = (codes << 6) | (codes >> 4)
    return widened


def score_detector(fn: ProbabilityFn, samples: list[Sample], temporal: bool = True) -> Scored:
    """Run ``fn`` on every sample's window (centre repeated when not ``temporal``) and match."""
    out = Scored()
    for s in samples:
        frames = tuple(s.frames) if temporal else (s.frames[2],) * 5
        # numbered as distinct frames even when repeated, so a detector runs as it would on
        # a real window instead of taking its no-context path
        prob = fn(Window(frames, (1, 2, 3, 4, 5), 2))
        score_map(prob, s, out)
    return out


def score_map(prob: np.ndarray, s: Sample, out: Scored) -> None:
    """Match one centre frame's probability map ``(H, W)`` against ``s``'s defects at every
    threshold and add the counts, truths and the frame to ``out``."""
    for t in THRESHOLDS:
        _match(prob, s, t, out.at[t])
    out.contrast.extend(d.contrast for d in s.defects)
    out.snr.extend(s.snr(d) for d in s.defects)
    out.frames += 1
    out.pixels += prob.size


def _match(prob: np.ndarray, s: Sample, threshold: float, counts: Counts) -> None:
    """Greedy matching, highest score first: a detection within 2 px of a free truth is a hit."""
    h, w = prob.shape
    centre = np.nan_to_num(s.frames[2])
    found = find_detections(prob, prob, centre, Geometry.simple(w, h), 0, threshold, MAX_AREA)
    free = [True] * len(s.defects)
    for d in sorted(found.detections, key=lambda d: -d.score):
        j = _nearest_free(d.x, d.y, s, free)
        counts.detections += 1
        if j is None:
            counts.false_on_hard += bool(s.hard[min(int(d.y), h - 1), min(int(d.x), w - 1)])
        else:
            counts.hits += 1
            free[j] = False
    counts.found.extend(not f for f in free)


def _nearest_free(x: float, y: float, s: Sample, free: list[bool]) -> int | None:
    chosen, dist = None, MATCH_RADIUS
    for j, t in enumerate(s.defects):
        d = float(np.hypot(t.x - x, t.y - y))
        if free[j] and d <= dist:
            chosen, dist = j, d
    return chosen


def metrics(sc: Scored, threshold: float) -> dict[str, Any]:
    """The figures at one of :data:`THRESHOLDS` (the nearest one)."""
    t = min(THRESHOLDS, key=lambda v: abs(v - threshold))
    c = sc.at[t]
    found = np.array(c.found, bool)
    contrast = np.array(sc.contrast)
    fa = c.detections - c.hits
    found_share = recall(sc, t)
    precision = c.hits / c.detections if c.detections else 1.0
    f1 = 2 * precision * found_share / (precision + found_share) if precision + found_share else 0.0
    snr = np.array(sc.snr)
    detectable = snr >= DETECTABLE_SNR
    return {
        "threshold": t,
        "truths": int(found.size),
        "recall": found_share,
        "precision": precision,
        "f1": f1,
        "false_alerts": fa,
        "false_alerts_per_frame": _false_per_frame(sc, t),
        "false_alerts_per_mpix_frame": fa / max(sc.pixels / 1e6, 1e-9),
        "false_alerts_on_hard_negatives": c.false_on_hard,
        "recall_by_contrast": _binned(found, contrast, CONTRAST_BINS),
        "recall_by_snr": _binned(found, snr, SNR_BINS),
        "detectable_truths": int(detectable.sum()),
        "recall_detectable": float(found[detectable].mean()) if detectable.any() else 1.0,
    }


def _binned(
    found: np.ndarray, value: np.ndarray, bins: tuple[tuple[float, float], ...]
) -> dict[str, float | None]:
    """Recall of the truths whose ``value`` falls in each ``[lo, hi)`` bin (None if empty)."""
    out: dict[str, float | None] = {}
    for lo, hi in bins:
        sel = (value >= lo) & (value < hi)
        key = f"{lo:g}-{hi:g}" if hi < 1e9 else f">={lo:g}"
        out[key] = float(found[sel].mean()) if sel.any() else None
    return out


def sweep(sc: Scored) -> list[dict[str, Any]]:
    """Metrics at every threshold of :data:`THRESHOLDS`."""
    return [metrics(sc, t) for t in THRESHOLDS]


def recall(sc: Scored, threshold: float) -> float:
    """Share of the truths found at ``threshold`` (one of :data:`THRESHOLDS`)."""
    found = sc.at[threshold].found
    return sum(found) / len(found) if found else 1.0


def matched_recall(
    ours: Scored, ours_hard: Scored, other: Scored, other_hard: Scored
) -> list[dict[str, Any]]:
    """False alerts on the hard-negative set, ``ours`` against ``other`` at matched recall.

    For each of ``other``'s thresholds that finds something, ``ours`` runs at its strictest
    threshold that finds at least as many defects on the main set. ``on_hard``: detections on
    a hard negative's footprint; ``false``: all detections (every one is false on that set);
    ``false_alerts_per_frame``: on the main set.
    """
    rows = []
    for t in THRESHOLDS:
        target = recall(other, t)
        reach = [u for u in THRESHOLDS if recall(ours, u) >= target]
        if target <= 0 or not reach:
            continue
        u = max(reach)
        rows.append(
            {
                "recall": target,
                "other_threshold": t,
                "other_false_alerts_per_frame": _false_per_frame(other, t),
                "other_on_hard": other_hard.at[t].false_on_hard,
                "other_false": other_hard.at[t].detections,
                "threshold": u,
                "our_recall": recall(ours, u),
                "false_alerts_per_frame": _false_per_frame(ours, u),
                "on_hard": ours_hard.at[u].false_on_hard,
                "false": ours_hard.at[u].detections,
            }
        )
    return rows


def _false_per_frame(sc: Scored, threshold: float) -> float:
    c = sc.at[threshold]
    return (c.detections - c.hits) / max(sc.frames, 1)


def operating(
    rows: list[dict[str, Any]], limit: float = OPERATING_FALSE_ALERTS
) -> list[dict[str, Any]]:
    """The rows of :func:`matched_recall` where both detectors could be run on real work."""
    return [
        r
        for r in rows
        if r["false_alerts_per_frame"] <= limit and r["other_false_alerts_per_frame"] <= limit
    ]


def recall_at_false_alert_rate(
    sc: Scored, rate: float, key: Literal["recall", "recall_detectable"] = "recall"
) -> float:
    """Best recall (or ``key``) among thresholds whose false alerts per frame are <= ``rate``."""
    ok = [m[key] for m in sweep(sc) if m["false_alerts_per_frame"] <= rate]
    return max(ok) if ok else 0.0
