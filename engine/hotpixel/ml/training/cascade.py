"""Training the cascade's real/bogus classifier, with thresholds chosen by clip-level
cross-validation.

``hotpixel train --detector cascade --out DIR`` (:func:`train_classifier`) reproduces the
shipped classifier: the same seed and clips give the same data.

Data (:mod:`hotpixel.ml.training.cascade_data`): every clip of the cross-validation pool of
:mod:`hotpixel.ml.realvideo` (the held-out clips never enter), each with camera moves added
(locked, pan, handheld, zoom) and its own one-frame defects in every frame, plus the bundled HDR
stills put in motion with the generator's hard negatives (persistent and moving lights, stuck
pixels, flashes, cuts). Each clip's candidates are collected once and kept on disk
(:mod:`hotpixel.ml.training.candidate_cache`), so a second run only fits.

Selection: for each fold of :func:`hotpixel.ml.realvideo.folds`, a network is fitted on the
fold's training clips and the stills and predicts the fold's validation clips, which it never
saw; the threshold is the highest that keeps ``recall`` of the clear defects (at least 2x their
local level) over the pooled out-of-fold predictions or, where none does, the lowest whose
pooled out-of-fold false alerts stay within ``false_alerts`` per 1080p-equivalent frame
(:func:`operating_threshold`), and the per-clip rates there are the cross-validated figures
(their spread too). The shipped network is then fitted on every pooled
clip and the stills, and operates at that threshold.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from hotpixel.detect.cascade import candidates as cand
from hotpixel.detect.cascade.spot import FLAG, VETO
from hotpixel.ml import realvideo
from hotpixel.ml.evaluation.harness import THRESHOLDS
from hotpixel.ml.training import candidate_cache
from hotpixel.ml.training.cascade_data import (
    CANDIDATE_THRESHOLD,
    Batch,
    choose_threshold,
    collect,
    join_all,
    rates,
    reliability,
    still_windows,
)
from hotpixel.ml.training.cascade_net import (
    CascadeNet,
    export,
    metadata,
    predict,
    train_net,
    write_record,
)

MOTIONS = ("locked", "pan", "handheld", "zoom")


@dataclass(frozen=True)
class CascadeTrainConfig:
    """How the classifier is trained; the defaults reproduce the shipped one."""

    seed: int = 2026
    frames: int = 12  # centre frames per pooled clip and camera move
    stills: int = 400  # generator windows over the bundled stills
    still_points: int = 10  # most persistent lights per still window
    epochs: int = 16
    recall: float = 0.995  # clear-defect recall the threshold keeps out of fold (0.5 at least)
    false_alerts: float = 0.3  # ... else the false alerts per 1080p frame it allows out of fold
    folds: int = realvideo.DEFAULT_FOLDS
    version: str = "cascade-v3"
    preset: str = "medium"  # DIS flow preset the candidates are found behind


@dataclass
class PoolData:
    """The training material, collected once: each pooled clip's batch and the stills'."""

    clips: dict[str, Batch]
    stills: Batch

    def joined(self, clips: tuple[str, ...]) -> Batch:
        """The stills and ``clips`` as one batch."""
        return join_all([self.stills, *(self.clips[c] for c in clips)])


def pool_data(config: CascadeTrainConfig, log: bool = True) -> PoolData:
    """Collect every pooled clip's candidates and the stills' (module doc)."""
    params = cand.CandidateParams(threshold=CANDIDATE_THRESHOLD)
    t0 = time.perf_counter()
    clips = {}
    for group in realvideo.GROUPS:
        for clip in group:
            clips[clip] = candidate_cache.clip_batch(
                clip, MOTIONS, config.frames, config.seed, params, config.preset
            )
            if log:
                print(f"{clip}: {len(clips[clip].label)} candidates", file=sys.stderr)

    def make_stills() -> Batch:
        rng = np.random.Generator(np.random.PCG64([config.seed, 0]))
        windows = still_windows(config.stills, rng, points=config.still_points)
        return collect(windows, params, config.preset)

    key: dict[str, object] = {"stills": config.stills, "points": config.still_points}
    key |= {"seed": config.seed, "preset": config.preset, "candidates": params.threshold}
    stills = candidate_cache.cached("stills", key, make_stills)
    if log:
        print(f"training data collected in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    return PoolData(clips, stills)


def cross_validate(
    data: PoolData, config: CascadeTrainConfig
) -> tuple[dict[str, np.ndarray], list[realvideo.Fold]]:
    """Each pooled clip's out-of-fold probabilities: predicted by the network fitted on the
    other folds' clips and the stills."""
    out: dict[str, np.ndarray] = {}
    folds = realvideo.folds(config.folds)
    for fold in folds:
        net, _ = train_net(data.joined(fold.train), config.seed + fold.index, config.epochs, False)
        for clip in fold.validation:
            out[clip] = predict(net, data.clips[clip].encoded)
        print(f"fold {fold.index}: validated {', '.join(fold.validation)}", file=sys.stderr)
    return out, folds


def out_of_fold(data: PoolData, prob: dict[str, np.ndarray]) -> tuple[Batch, np.ndarray]:
    """The pooled clips as one batch and their out-of-fold probabilities, in the same order."""
    clips = list(prob)
    return join_all([data.clips[c] for c in clips]), np.concatenate([prob[c] for c in clips])


def operating_threshold(prob: np.ndarray, data: Batch, recall: float, false_alerts: float) -> float:
    """The highest threshold that keeps ``recall`` of the clear defects in ``data`` (out-of-fold
    ``prob``); where not even 0.5 does, the lowest threshold of the evaluation's grid whose
    false alerts are at most ``false_alerts`` per 1080p-equivalent frame (the grid's highest
    when none is). Candidates count one by one here, so a place that holds several counts as
    several: the bound is stricter than the same figure counted by place in a run."""
    best = choose_threshold(prob, data, recall)
    if rates(prob, data, best)["recall_clear"] >= recall:
        return best
    grid = [t for t in THRESHOLDS if t >= 0.5]
    for t in grid:
        if rates(prob, data, t)["false_alerts_per_frame"] <= false_alerts:
            return t
    return grid[-1]


def cv_metrics(data: PoolData, prob: dict[str, np.ndarray], threshold: float) -> dict[str, object]:
    """Out-of-fold rates at ``threshold``: pooled, per clip, and their spread over clips."""
    pooled, pooled_prob = out_of_fold(data, prob)
    per_clip = {c: rates(p, data.clips[c], threshold) for c, p in prob.items()}
    spread = {k: _spread(per_clip, k) for k in ("recall_clear", "recall_all")}
    spread["false_alerts_per_frame"] = _spread(per_clip, "false_alerts_per_frame", worst=max)
    return {
        "pooled": rates(pooled_prob, pooled, threshold),
        "pooled_sweep": {
            f"{t:.3f}": rates(pooled_prob, pooled, t)
            for t in (0.5, 0.8, 0.9, 0.95, 0.98, 0.985, 0.99, 0.995)
        },
        "pooled_candidates_only": rates(np.ones_like(pooled_prob), pooled, 0.5),
        "pooled_reliability": reliability(pooled_prob, pooled.label),
        "per_clip": per_clip,
        "spread": spread,
    }


def _spread(
    per_clip: dict[str, dict[str, float]], key: str, worst: Callable[..., str] = min
) -> dict[str, float | str]:
    """Mean, lowest and highest of ``key`` over clips, and the worst clip."""
    values = [r[key] for r in per_clip.values()]
    return {
        "mean": float(np.mean(values)),
        "min": float(np.min(values)),
        "max": float(np.max(values)),
        "worst": worst(per_clip, key=lambda c: per_clip[c][key]),
    }


def train_classifier(config: CascadeTrainConfig, out: str, recipe: str = "") -> str:
    """Collect the pool, cross-validate, choose the threshold out of fold, fit on the whole
    pool and export; return the ONNX path. ``out`` gets the model and
    ``hotpixel-<version>.train.json`` (its metadata and metrics); ``recipe`` is the command
    stored in the model's metadata."""
    os.makedirs(out, exist_ok=True)
    data = pool_data(config)
    prob, folds = cross_validate(data, config)
    pooled, pooled_prob = out_of_fold(data, prob)
    oof: dict[str, Any] = dict(prob)  # kept to choose a threshold again without refits
    np.savez(os.path.join(out, "cv_predictions.npz"), **oof)
    threshold = operating_threshold(pooled_prob, pooled, config.recall, config.false_alerts)
    everything = data.joined(tuple(data.clips))
    net, losses = train_net(everything, config.seed, config.epochs)
    cv = cv_metrics(data, prob, threshold)
    metrics = {
        "threshold": threshold,
        "cross_validation": cv,
        "folds": [{"train": f.train, "validation": f.validation} for f in folds],
        "train": rates(predict(net, everything.encoded), everything, threshold),
        "candidates": len(everything.label),
        "positives": int(everything.label.sum()),
        "spots": int((everything.opinion == FLAG).sum()),
        "unseen_set_aside": int((everything.opinion == VETO).sum()),
        "losses": losses,
    }
    print(json.dumps(cv["pooled"], indent=1), file=sys.stderr)
    meta = metadata(config.version, threshold, config.preset, seed=str(config.seed), recipe=recipe)
    return write_model(net, out, config.version, meta, metrics)


def write_model(
    net: CascadeNet, out: str, version: str, meta: dict[str, str], metrics: dict[str, object]
) -> str:
    """Export ``hotpixel-<version>.onnx`` and its ``.train.json`` into ``out``; the ONNX path."""
    path = os.path.join(out, f"hotpixel-{version}.onnx")
    export(net, path, meta)
    write_record(os.path.join(out, f"hotpixel-{version}.train.json"), meta, metrics)
    return path
