"""Training the cascade's real/bogus classifier on candidates from real video and stills.

``hotpixel train --detector cascade --out DIR [--seed N]`` (:func:`train_classifier`)
reproduces the shipped classifier: the same seed and clips give the same data.

Data: the training clips of :mod:`hotpixel.ml.realvideo` (whole clips; validation and test clips
never enter) with camera moves added (locked, pan, handheld, zoom), plus the bundled HDR stills
put in motion with the generator's hard negatives (persistent and moving lights, stuck pixels,
flashes, cuts: :func:`hotpixel.ml.synth.windows.make_window`). Every frame carries its own
one-frame defects from the generator, so neighbours carry other defects, as in a real plate.
The candidate stage runs on each window exactly as in detection; a candidate is positive when it
lies on an injected defect's footprint (grown 1 px), negative otherwise: real scene content that
got past the candidate stage (glints, edges, motion the flow missed), which is what the
classifier must learn to reject.

The threshold is chosen on the validation clip: the highest probability that still keeps
``--recall`` of the clear defects (at least 2x their local level).
"""

from __future__ import annotations

import itertools
import json
import os
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch
from scipy import ndimage
from torch import nn

from hotpixel.detect.cascade import candidates as cand
from hotpixel.detect.cascade.encoding import CHANNELS, PATCH, SCALARS, Encoded, encode_window
from hotpixel.detect.cascade.stage import find_candidates
from hotpixel.detect.model_file import CLASSIFIER_FORMAT
from hotpixel.detect.motion import MotionCache
from hotpixel.io.atomic import atomic_path, write_text
from hotpixel.ml import realvideo
from hotpixel.ml.evaluation.harness import THRESHOLDS
from hotpixel.ml.synth.defects import Defect
from hotpixel.ml.synth.plates import load_plate, training_plate_names
from hotpixel.ml.synth.windows import WindowConfig, make_window

HD = 1920 * 1080
CANDIDATE_THRESHOLD = 4.0  # sigmas: the classifier sees borderline candidates too


@dataclass
class Batch:
    """Encoded candidates with labels: ``label`` 1 on defects; ``contrast`` of the defect hit
    (0 on negatives); ``pixels`` of the frame they came from, for per-frame rates."""

    encoded: Encoded
    label: np.ndarray  # (N,) float32
    contrast: np.ndarray  # (N,) float32
    frames: int
    pixels: int
    defects: int  # injected defects (the recall denominator)
    defects_contrast: np.ndarray  # (D,) contrast of every injected defect
    region: np.ndarray  # (N,) int64 the defect footprint a candidate lies on (0: none)
    defect_region: np.ndarray  # (D,) int64 each defect's footprint id (unique over the batch)


def _label(
    found: cand.Candidates, target: np.ndarray, defects: list[Defect]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per candidate: on a defect (label), that defect's contrast, the footprint's id; per
    defect: its footprint's id (footprints grown 1 px; several defects may share one)."""
    regions, _ = ndimage.label(target > 0, np.ones((3, 3), int))
    grown = ndimage.grey_dilation(regions, size=(3, 3))
    on = grown[found.y, found.x]
    label = (on > 0).astype(np.float32)
    region_contrast: dict[int, float] = {}
    h, w = target.shape
    for d in defects:
        y, x = min(max(int(d.y), 0), h - 1), min(max(int(d.x), 0), w - 1)
        rid = int(grown[y, x])
        if rid:
            region_contrast[rid] = max(region_contrast.get(rid, 0.0), d.contrast)
    contrast = np.array([region_contrast.get(int(r), 0.0) for r in on], np.float32)
    ids = np.array(
        [grown[min(max(int(d.y), 0), h - 1), min(max(int(d.x), 0), w - 1)] for d in defects],
        np.int64,
    )
    return label, contrast, on.astype(np.int64), ids


def video_windows(
    split: str, motions: tuple[str, ...], frames: int, rng: np.random.Generator, defects: int = 6
) -> Iterator[tuple[np.ndarray, list[int], np.ndarray, list[Defect]]]:
    """``(window (5, H, W, 3), numbers, centre target (H, W), centre defects)`` from real clips.

    ``frames`` centre frames per clip and motion; each frame has its own defects.
    """
    for clip in realvideo.SPLITS[split]:
        for motion in motions:
            seg = realvideo.defected_clip(clip, motion, frames, rng, defects)
            for c in range(2, len(seg.frames) - 2):
                idx = list(range(c - 2, c + 3))
                yield seg.frames[idx], idx, seg.targets[c], seg.defects[c]


def still_windows(
    count: int, rng: np.random.Generator, size: tuple[int, int] = (256, 192), points: int = 10
) -> Iterator[tuple[np.ndarray, list[int], np.ndarray, list[Defect]]]:
    """Generator windows over the bundled training stills, hard negatives included: up to
    ``points`` persistent lights per window (still, moving with the scene or on their own)."""
    plates = [load_plate(n) for n in training_plate_names()]
    config = WindowConfig(size=size, defects=(2, 8), points=(2, points), speed=(0.0, 8.0))
    for _ in range(count):
        s = make_window(plates, rng, config)
        yield s.frames, [0, 1, 2, 3, 4], s.target, s.defects


def collect(
    windows: Iterator[tuple[np.ndarray, list[int], np.ndarray, list[Defect]]],
    params: cand.CandidateParams,
    preset: str = "medium",
) -> Batch:
    """Run the candidate stage on every window; encode and label the candidates."""
    enc_p: list[np.ndarray] = []
    enc_s: list[np.ndarray] = []
    labels: list[np.ndarray] = []
    contrasts: list[np.ndarray] = []
    all_contrast: list[float] = []
    regions: list[np.ndarray] = []
    defect_regions: list[np.ndarray] = []
    frames = pixels = defects = 0
    cache = MotionCache(preset)
    last: list[int] | None = None
    for window, numbers, target, placed in windows:
        if last is None or numbers[0] != last[0] + 1:
            cache = MotionCache(preset)  # a new segment: frame numbers start again
        last = numbers
        done = find_candidates(list(window), numbers, cache, params, cache.workers)
        found = done.found
        e = encode_window(done, PATCH)
        label, contrast, on, ids = _label(found, target, placed)
        offset = (frames + 1) << 20  # footprint ids unique over the batch; 0 stays "none"
        regions.append(np.where(on > 0, on + offset, 0))
        defect_regions.append(np.where(ids > 0, ids + offset, -1 - np.arange(len(ids))))
        enc_p.append(e.patches)
        enc_s.append(e.scalars)
        labels.append(label)
        contrasts.append(contrast)
        all_contrast.extend(d.contrast for d in placed)
        frames += 1
        pixels += window.shape[1] * window.shape[2]
        defects += len(placed)
    if not enc_p:  # no windows: an empty batch
        enc_p, enc_s = [np.zeros((0, CHANNELS, PATCH, PATCH), np.float32)], [_no_scalars()]
        labels = contrasts = regions = defect_regions = [np.zeros(0, np.float32)]
    return Batch(
        Encoded(np.concatenate(enc_p), np.concatenate(enc_s)),
        np.concatenate(labels),
        np.concatenate(contrasts),
        frames,
        pixels,
        defects,
        np.asarray(all_contrast, np.float32),
        np.concatenate(regions),
        np.concatenate(defect_regions),
    )


def _no_scalars() -> np.ndarray:
    return np.zeros((0, len(SCALARS)), np.float32)


def join(a: Batch, b: Batch) -> Batch:
    """Two batches as one (footprint ids of ``b`` moved past ``a``'s)."""
    shift = int(max(a.region.max(initial=0), a.defect_region.max(initial=0))) + 1
    return Batch(
        Encoded(
            np.concatenate([a.encoded.patches, b.encoded.patches]),
            np.concatenate([a.encoded.scalars, b.encoded.scalars]),
        ),
        np.concatenate([a.label, b.label]),
        np.concatenate([a.contrast, b.contrast]),
        a.frames + b.frames,
        a.pixels + b.pixels,
        a.defects + b.defects,
        np.concatenate([a.defects_contrast, b.defects_contrast]),
        np.concatenate([a.region, np.where(b.region > 0, b.region + shift, 0)]),
        np.concatenate(
            [
                a.defect_region,
                np.where(b.defect_region > 0, b.defect_region + shift, b.defect_region),
            ]
        ),
    )


class CascadeNet(nn.Module):
    """Cutouts ``(N, CHANNELS, 9, 9)`` and scalars ``(N, S)`` -> logit ``(N, 1)``."""

    def __init__(
        self, channels: int = CHANNELS, scalars: int = len(SCALARS), width: int = 32
    ) -> None:
        super().__init__()
        self.conv = nn.Sequential(
            nn.Conv2d(channels, width, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(width, width, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(width, width, 3, padding=1),
            nn.ReLU(),
        )
        self.scalar = nn.Sequential(nn.Linear(scalars, width), nn.ReLU())
        self.head = nn.Sequential(nn.Linear(3 * width, 64), nn.ReLU(), nn.Linear(64, 1))

    def forward(self, patches: torch.Tensor, scalars: torch.Tensor) -> torch.Tensor:
        f = self.conv(patches)  # (N, W, s, s)
        c = f.shape[-1] // 2
        centre = f[:, :, c - 1 : c + 2, c - 1 : c + 2].mean(dim=(2, 3))  # (N, W)
        glob = f.amax(dim=(2, 3))  # (N, W)
        out: torch.Tensor = self.head(torch.cat([centre, glob, self.scalar(scalars)], dim=1))
        return out


class Probability(nn.Module):
    """What is exported: the network with a sigmoid, output ``probability`` ``(N, 1)``."""

    def __init__(self, net: CascadeNet) -> None:
        super().__init__()
        self.net = net

    def forward(self, patches: torch.Tensor, scalars: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.net(patches, scalars))


def train_net(
    data: Batch, seed: int, epochs: int = 12, log: bool = True
) -> tuple[CascadeNet, list[float]]:
    """Fit the network to ``data`` (balanced by a positive weight); returns it and the losses."""
    torch.manual_seed(seed)
    net = CascadeNet()
    x = torch.from_numpy(data.encoded.patches)
    s = torch.from_numpy(data.encoded.scalars)
    y = torch.from_numpy(data.label)[:, None]
    pos = float(y.sum())
    weight = torch.tensor((len(y) - pos) / max(pos, 1.0)).clamp(1.0, 20.0)
    loss_fn = nn.BCEWithLogitsLoss(pos_weight=weight)
    opt = torch.optim.AdamW(net.parameters(), lr=2e-3, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, epochs)
    gen = torch.Generator().manual_seed(seed)
    losses = []
    for epoch in range(epochs):
        order = torch.randperm(len(y), generator=gen)
        total = 0.0
        for i in range(0, len(y), 256):
            b = order[i : i + 256]
            patches = x[b]
            if torch.rand(1, generator=gen).item() < 0.5:  # mirror: defects have no handedness
                patches = patches.flip(-1)
            loss = loss_fn(net(patches, s[b]), y[b])
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += float(loss.detach()) * len(b)
        sched.step()
        losses.append(total / len(y))
        if log:
            print(f"epoch {epoch + 1}/{epochs}: loss {losses[-1]:.4f}", file=sys.stderr)
    return net, losses


def predict(net: CascadeNet, encoded: Encoded) -> np.ndarray:
    net.eval()
    with torch.no_grad():
        logits = net(torch.from_numpy(encoded.patches), torch.from_numpy(encoded.scalars))
    out: np.ndarray = torch.sigmoid(logits).numpy().reshape(-1)
    return out


def rates(prob: np.ndarray, data: Batch, threshold: float) -> dict[str, float]:
    """Recall of defects (clear: contrast >= 1, i.e. at least 2x the local level; all: >= 0.5)
    and false alerts per 1080p-equivalent frame, at ``threshold``.

    A defect is found when a kept candidate lies on its footprint; a false alert is a kept
    candidate on no footprint.
    """
    keep = prob >= threshold
    hit = np.isin(data.defect_region, data.region[keep & (data.region > 0)])
    clear = data.defects_contrast >= 1.0
    some = data.defects_contrast >= 0.5
    scale = HD * data.frames / max(data.pixels, 1)
    return {
        "recall_clear": float(hit[clear].mean()) if clear.any() else 1.0,
        "recall_all": float(hit[some].mean()) if some.any() else 1.0,
        "false_alerts_per_frame": float((keep & (data.label == 0)).sum())
        / max(data.frames, 1)
        * scale,
    }


def reliability(prob: np.ndarray, label: np.ndarray, bins: int = 10) -> list[dict[str, float]]:
    """Calibration: per probability bin, the candidates in it and the share that are defects."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    out = []
    for lo, hi in itertools.pairwise(edges):
        inside = (prob >= lo) & ((prob < hi) | (hi == 1.0))
        share = float(label[inside].mean()) if inside.any() else float("nan")
        out.append(
            {"from": float(lo), "to": float(hi), "count": int(inside.sum()), "defects": share}
        )
    return out


def choose_threshold(prob: np.ndarray, data: Batch, recall: float) -> float:
    """The highest threshold (0.5 at least) that keeps ``recall`` of the clear defects."""
    best = 0.5
    for t in THRESHOLDS:  # the evaluation's grid, so the operating point is one it reports
        if t >= 0.5 and rates(prob, data, t)["recall_clear"] >= recall:
            best = t
    return best


def metadata(version: str, threshold: float, preset: str = "medium", **more: str) -> dict[str, str]:
    """The classifier file's metadata, as :func:`hotpixel.detect.model_file.load_classifier`
    reads it (``more``: recipe, seed and other notes kept beside the contract)."""
    return {
        "format": CLASSIFIER_FORMAT,
        "model_version": version,
        "patch": str(PATCH),
        "scalars": ",".join(SCALARS),
        "threshold": str(threshold),
        "candidates": str(CANDIDATE_THRESHOLD),
        "preset": preset,
        **more,
    }


def export(net: CascadeNet, path: str, meta: dict[str, str]) -> None:
    """Write the self-describing ONNX classifier atomically."""
    import onnx

    net.eval()
    model = Probability(net)
    patches = torch.zeros(2, CHANNELS, PATCH, PATCH)
    scalars = torch.zeros(2, len(SCALARS))
    with atomic_path(path) as tmp:
        torch.onnx.export(
            model,
            (patches, scalars),
            tmp,
            input_names=["patches", "scalars"],
            output_names=["probability"],
            dynamic_axes={"patches": {0: "n"}, "scalars": {0: "n"}, "probability": {0: "n"}},
            opset_version=17,
            dynamo=False,
        )
        proto = onnx.load(tmp)
        for k, v in meta.items():
            entry = proto.metadata_props.add()
            entry.key, entry.value = k, v
        onnx.save(proto, tmp)


@dataclass(frozen=True)
class CascadeTrainConfig:
    """How the classifier is trained; the defaults reproduce the shipped one."""

    seed: int = 2026
    frames: int = 16  # centre frames per training clip and camera move
    stills: int = 400  # generator windows over the bundled stills
    still_points: int = 10  # most persistent lights per still window
    epochs: int = 12
    recall: float = 0.995  # clear-defect recall the threshold keeps on validation
    version: str = "cascade-v1"
    preset: str = "medium"  # DIS flow preset the candidates are found behind


def train_classifier(config: CascadeTrainConfig, out: str, recipe: str = "") -> str:
    """Collect the training data, fit, choose the threshold on validation, export; return the
    ONNX path. ``out`` gets the model and ``hotpixel-<version>.train.json`` (its metadata and
    metrics); ``recipe`` is the command stored in the model's metadata."""
    os.makedirs(out, exist_ok=True)
    rng = np.random.Generator(np.random.PCG64(config.seed))
    params = cand.CandidateParams(threshold=CANDIDATE_THRESHOLD)
    motions = ("locked", "pan", "handheld", "zoom")
    t0 = time.perf_counter()
    video = collect(video_windows("train", motions, config.frames, rng), params, config.preset)
    stills = collect(
        still_windows(config.stills, rng, points=config.still_points), params, config.preset
    )
    data = join(video, stills)
    print(
        f"training data: {len(data.label)} candidates ({int(data.label.sum())} on defects) from "
        f"{data.frames} windows in {time.perf_counter() - t0:.0f} s",
        file=sys.stderr,
    )
    net, losses = train_net(data, config.seed, config.epochs)
    val = collect(
        video_windows("validation", ("locked", "pan", "handheld"), 24, rng), params, config.preset
    )
    val_prob = predict(net, val.encoded)
    threshold = choose_threshold(val_prob, val, config.recall)
    metrics = {
        **summary(net, data, val, val_prob, threshold),
        "losses": losses,
    }
    print(json.dumps(metrics, indent=1), file=sys.stderr)
    meta = metadata(config.version, threshold, config.preset, seed=str(config.seed), recipe=recipe)
    return write_model(net, out, config.version, meta, metrics)


def summary(
    net: CascadeNet, data: Batch, val: Batch, val_prob: np.ndarray, threshold: float
) -> dict[str, object]:
    """The metrics stored beside a classifier: rates on its training data and on validation at
    ``threshold``, a validation sweep and its reliability."""
    return {
        "train": rates(predict(net, data.encoded), data, threshold),
        "validation": rates(val_prob, val, threshold),
        "validation_candidates_only": rates(np.ones_like(val_prob), val, 0.5),
        "validation_sweep": {
            f"{t:.2f}": rates(val_prob, val, t) for t in (0.5, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99)
        },
        "threshold": threshold,
        "validation_reliability": reliability(val_prob, val.label),
        "candidates": len(data.label),
        "positives": int(data.label.sum()),
    }


def write_model(
    net: CascadeNet, out: str, version: str, meta: dict[str, str], metrics: dict[str, object]
) -> str:
    """Export ``hotpixel-<version>.onnx`` and its ``.train.json`` into ``out``; the ONNX path."""
    path = os.path.join(out, f"hotpixel-{version}.onnx")
    export(net, path, meta)
    write_record(os.path.join(out, f"hotpixel-{version}.train.json"), meta, metrics)
    return path


def write_record(path: str, meta: dict[str, str], metrics: dict[str, object]) -> None:
    """The ``.train.json`` beside a classifier: its metadata and how it measured."""
    write_text(path, json.dumps({"metadata": meta, "metrics": metrics}, indent=1) + "\n")
