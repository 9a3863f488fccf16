"""Fine-tuning from review labels: rejected detections become hard negatives, accepted ones
positives, mixed with synthetic windows so recall does not collapse.

For every labelled detection (``accept``/``reject``; ``skip`` is ignored) the 5-frame window of
the plate is read as the engine reads it (same mirroring at the ends), and ``crops`` patches of
``patch`` pixels are cut around it with a random offset. Targets: the accepted detections'
pixels (their QC mask at or above the report's threshold, inside their box) are 1; everything
else in the patch is 0, and the rejected detections' boxes (grown by 2 px) are weighted up as
hard negatives. Each batch is ``1 - synthetic_share`` labelled patches and ``synthetic_share``
windows from the generator over the training plates. The model starts from the base ONNX
file's weights (its metadata holds the architecture) and is exported with its lineage.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import onnx
import torch
from onnx import numpy_helper

from hotpixel.detect.detectors.network import TemporalDetector
from hotpixel.detect.windows import plan_windows
from hotpixel.errors import InputError, ModelError
from hotpixel.io.frames import FrameCache, read_display
from hotpixel.io.sequence import discover
from hotpixel.ml.training.export import export_model
from hotpixel.ml.training.train import TrainConfig, augment, loss_fn, make_pool
from hotpixel.outputs.labels import load_labels
from hotpixel.outputs.report import read_report


@dataclass(frozen=True)
class FinetuneConfig:
    steps: int = 400
    lr: float = 3e-4
    batch: int = 24
    synthetic_share: float = 0.5
    synthetic_pool: int = 800
    patch: int = 64
    crops: int = 4  # patches per labelled detection, at random offsets
    seed: int = 0
    # operating threshold stored in the new model; None: the threshold the labels were reviewed
    # at (the highest, when files differ: every detection above it was reviewed in all of them)
    threshold: float | None = None


@dataclass
class LabelledSet:
    frames: torch.Tensor  # (N, T, 3, p, p) float32
    target: torch.Tensor  # (N, 1, p, p)
    hard: torch.Tensor  # (N, 1, p, p)
    accepted: int
    rejected: int
    review_threshold: float  # the highest threshold the label files were reviewed at


def model_from_onnx(path: str) -> tuple[TemporalDetector, TrainConfig, dict[str, str]]:
    """The network of an exported model file, as a trainable PyTorch module."""
    try:
        proto = onnx.load(path)
    except Exception as exc:  # onnx raises several untyped errors
        raise ModelError(f"cannot read model {path!r} ({exc})") from exc
    meta = {p.key: p.value for p in proto.metadata_props}
    if "training_config" not in meta:
        raise ModelError(f"{path!r} has no training_config metadata; export it with hotpixel")
    config = TrainConfig.from_dict(json.loads(meta["training_config"]))
    model = TemporalDetector(config.model)
    weights = {
        i.name: torch.from_numpy(numpy_helper.to_array(i).copy()) for i in proto.graph.initializer
    }
    state = model.state_dict()
    missing = [k for k in state if k not in weights]
    if missing:
        raise ModelError(f"{path!r} lacks weights {', '.join(missing)}; not a hotpixel model")
    model.load_state_dict({k: weights[k] for k in state})
    return model, config, meta


def labelled_set(
    label_files: list[str], cfg: FinetuneConfig, rng: np.random.Generator
) -> LabelledSet:
    frames, targets, hards = [], [], []
    accepted = rejected = 0
    review_threshold = 0.0
    for path in label_files:
        labels = load_labels(path)
        # verdicts on sensor positions (ids "sensor_<kind>_<n>") judge persistent photosites,
        # which the one-frame model is not asked to find: they are no training targets here
        verdicts = [
            v
            for k, v in labels["labels"].items()
            if not k.startswith("sensor_") and v["label"] in ("accept", "reject")
        ]
        if not verdicts:
            continue  # a sensor-only review (no threshold, no report) or nothing judged
        out_dir = os.path.dirname(os.path.abspath(path))
        report = read_report(out_dir)
        seq = discover(labels["pattern"])
        masks = {int(r["frame"]): os.path.join(out_dir, r["mask"]) for r in report["frames"]}
        threshold = float(labels["threshold"])
        review_threshold = max(review_threshold, threshold)
        by_frame: dict[int, list[dict[str, Any]]] = {}
        for v in verdicts:
            by_frame.setdefault(int(v["frame"]), []).append(v)
        plan = dict(plan_windows(seq.frames, sorted(by_frame)))
        load = FrameCache(lambda n, seq=seq: read_display(seq.path(n), n), keep=8)  # type: ignore[misc]
        for frame, items in sorted(by_frame.items()):
            window = [load(n) for n in plan[frame]]
            centre = len(window) // 2
            target_full = np.zeros(window[centre].shape[:2], np.float32)
            hard_full = np.zeros_like(target_full)
            mask = read_display(masks[frame], frame)[..., 0] if frame in masks else None
            for v in items:
                x0, y0, x1, y1 = v["bbox"]
                if v["label"] == "accept":
                    accepted += 1
                    box = (slice(y0, y1), slice(x0, x1))
                    on = mask[box] >= threshold if mask is not None else True
                    target_full[box] = np.where(on, 1.0, target_full[box])
                else:
                    rejected += 1
                    hard_full[max(y0 - 2, 0) : y1 + 2, max(x0 - 2, 0) : x1 + 2] = 1.0
            hard_full = np.where(target_full > 0, 0.0, hard_full)
            for v in items:
                for _ in range(cfg.crops):
                    cx = v["x"] + rng.uniform(-cfg.patch / 4, cfg.patch / 4)
                    cy = v["y"] + rng.uniform(-cfg.patch / 4, cfg.patch / 4)
                    frames.append(_patch(window, cx, cy, cfg.patch))
                    targets.append(_patch([target_full[..., None]], cx, cy, cfg.patch)[0, 0])
                    hards.append(_patch([hard_full[..., None]], cx, cy, cfg.patch)[0, 0])
    if not frames:
        raise InputError(
            f"no accepted or rejected detections in {', '.join(label_files)} (verdicts on "
            "sensor positions do not train the detector); review them with hotpixel review first"
        )
    return LabelledSet(
        torch.from_numpy(np.stack(frames)),
        torch.from_numpy(np.stack(targets)[:, None]),
        torch.from_numpy(np.stack(hards)[:, None]),
        accepted,
        rejected,
        review_threshold,
    )


def _patch(window: list[np.ndarray], cx: float, cy: float, size: int) -> np.ndarray:
    """``(T, C, size, size)`` crops of each ``(H, W, C)`` image around (cx, cy), zero outside."""
    x0, y0 = int(np.floor(cx)) - size // 2, int(np.floor(cy)) - size // 2
    h, w, c = window[0].shape
    out = np.zeros((len(window), size, size, c), np.float32)
    sx0, sy0, sx1, sy1 = max(x0, 0), max(y0, 0), min(x0 + size, w), min(y0 + size, h)
    if sx1 > sx0 and sy1 > sy0:
        for i, image in enumerate(window):
            out[i, sy0 - y0 : sy1 - y0, sx0 - x0 : sx1 - x0] = image[sy0:sy1, sx0:sx1]
    tiles: np.ndarray = out.transpose(0, 3, 1, 2)
    return tiles


def finetune(
    label_files: list[str],
    base: str,
    out_path: str,
    version: str,
    cfg: FinetuneConfig = FinetuneConfig(),
    log: Callable[[str], None] = print,
) -> str:
    """Fine-tune ``base`` on the labels; export ``out_path`` with lineage; return its path."""
    t0 = time.perf_counter()
    rng = np.random.default_rng(cfg.seed)
    torch.manual_seed(cfg.seed)
    gen = torch.Generator().manual_seed(cfg.seed)
    model, config, meta = model_from_onnx(base)
    data = labelled_set(label_files, cfg, rng)
    log(
        f"{len(data.frames)} labelled patches from {data.accepted} accepted and "
        f"{data.rejected} rejected detections"
    )
    pool_config = replace(config, pool=cfg.synthetic_pool)
    pool = make_pool(pool_config, rng) if cfg.synthetic_share > 0 else None
    n_syn = round(cfg.batch * cfg.synthetic_share) if pool is not None else 0
    n_lab = cfg.batch - n_syn
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    model.train()
    history: list[float] = []
    for step in range(cfg.steps):
        li = torch.randint(0, len(data.frames), (n_lab,), generator=gen)
        parts = [data.frames[li], data.target[li], data.hard[li], torch.ones_like(data.hard[li])]
        if pool is not None and n_syn:
            si = torch.randint(0, cfg.synthetic_pool, (n_syn,), generator=gen)
            parts = [
                torch.cat([parts[0], pool["frames"][si].float()]),
                torch.cat([parts[1], pool["target"][si]]),
                torch.cat([parts[2], pool["hard"][si]]),
                torch.cat([parts[3], pool["keep"][si]]),
            ]
        frames, target, hard, keep = augment(parts, gen)
        loss = loss_fn(model.logits(frames), target, hard, config, keep)
        opt.zero_grad()
        loss.backward()  # type: ignore[no-untyped-call]
        opt.step()
        history.append(float(loss.detach()))
        if (step + 1) % max(cfg.steps // 10, 1) == 0:
            seconds = time.perf_counter() - t0
            log(f"step {step + 1}/{cfg.steps} loss {np.mean(history[-25:]):.4f} ({seconds:.0f}s)")
    model.eval()
    base_version = meta.get("model_version", "unknown")
    lineage = (
        f"{meta.get('lineage', '')} -> finetuned from {base_version} on "
        f"{data.accepted} accepted / {data.rejected} rejected detections "
        f"({', '.join(os.path.abspath(p) for p in label_files)}), {cfg.steps} steps, "
        f"synthetic share {cfg.synthetic_share}, seed {cfg.seed}"
    ).lstrip(" ->")
    threshold = cfg.threshold if cfg.threshold is not None else data.review_threshold
    log(
        f"operating threshold {threshold:g} ("
        + ("given" if cfg.threshold is not None else "the threshold the labels were reviewed at")
        + f"; the base model's is {meta.get('threshold', '0.5')})"
    )
    lineage += f", operating threshold {threshold:g}"
    export_model(model, config, out_path, version, lineage, "", threshold)
    log(f"wrote {out_path} ({time.perf_counter() - t0:.0f}s)")
    return out_path
