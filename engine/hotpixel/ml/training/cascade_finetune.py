"""Fine-tuning the cascade's classifier from review verdicts on real footage.

For every frame with at least one ``accept`` or ``reject`` verdict (``skip`` and verdicts on
sensor positions are ignored), the frame's window is read and decoded as ``hotpixel detect``
read it (the report's colour settings, the same mirroring at the ends) and the candidate stage
runs on it exactly as in detection: :func:`~hotpixel.detect.cascade.stage.find_candidates` at
the report's flow scale, behind the base classifier's flow preset and candidate threshold, and
:func:`~hotpixel.detect.cascade.encoding.encode_window` cuts the classifier's input. A candidate
inside an accepted detection's box (grown by :data:`GROW` px: a candidate paints its footprint
up to 3 px around it) is a positive, one inside a rejected box a negative; other candidates on
the frame were never shown to the reviewer, and frames without verdicts never enter.

The labelled candidates are mixed with a replay of the classifier's own training data (real
clips with camera moves, stills with lights, :mod:`hotpixel.ml.training.cascade_data`: the
first fold's training clips and the stills),
each clip's cached on disk after the first run (:mod:`hotpixel.ml.training.candidate_cache`), so
that what the reviewer did not see (every other kind of
defect) is not forgotten. The network starts from the base file's weights. The operating
threshold is chosen with recall held (:func:`held_threshold`) on the first fold's validation
clips, which the replay set leaves out, unless ``threshold`` is given: the highest threshold
whose clear-defect recall there is at least the base classifier's at its own threshold, so a
review buys fewer false alerts and never pays for them in recall. The verdicts' own candidates
are scored before and after, and the new file records its lineage.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np
import onnx
import torch
from onnx import numpy_helper

from hotpixel.detect.cascade import candidates as cand
from hotpixel.detect.cascade.encoding import PATCH, Encoded, encode_window
from hotpixel.detect.cascade.stage import find_candidates
from hotpixel.detect.model_file import CLASSIFIER_FORMAT
from hotpixel.detect.motion import FlowScale, MotionCache
from hotpixel.detect.windows import plan_windows
from hotpixel.errors import InputError, ModelError, UsageError
from hotpixel.io.canvas import choose_colour, load_frame, scan_geometry
from hotpixel.io.colour import Decoder
from hotpixel.io.sequence import discover
from hotpixel.ml import realvideo
from hotpixel.ml.evaluation.harness import THRESHOLDS
from hotpixel.ml.training import candidate_cache
from hotpixel.ml.training import cascade_data as cdata
from hotpixel.ml.training import cascade_net as net_mod
from hotpixel.ml.training.cascade import MOTIONS
from hotpixel.outputs.labels import load_labels
from hotpixel.outputs.report import read_report

GROW = 2  # px a verdict's box is grown by to take in the candidates that painted it


@dataclass(frozen=True)
class ClassifierFinetune:
    """How the classifier is fine-tuned.

    ``epochs`` passes over the labelled candidates, each with ``replay`` times as many drawn
    from the replay set; labelled candidates weigh ``weight`` times a replayed one.
    ``replay_frames`` / ``replay_stills`` size the replay set (centre frames per training clip
    and camera move; generator windows over the stills), ``validation_frames`` the set the
    threshold is chosen on. ``recall``: the clear-defect recall the threshold keeps there at
    most asks for; the bar is the base classifier's own recall there when that is lower
    (:func:`held_threshold`).
    """

    epochs: int = 30
    lr: float = 3e-4
    replay: float = 16.0
    weight: float = 4.0
    replay_frames: int = 6
    replay_stills: int = 150
    validation_frames: int = 12
    recall: float = 0.995
    seed: int = 0
    threshold: float | None = None  # the operating threshold to store; None: chosen


@dataclass
class Verdicts:
    """The labelled candidates of one or more reviews."""

    encoded: Encoded
    label: np.ndarray  # (N,) float32: 1 accepted, 0 rejected
    accepted: int  # verdicts
    rejected: int
    unmatched: int  # verdicts with no candidate in their box (another candidate stage)


def load_classifier_net(path: str) -> tuple[net_mod.CascadeNet, dict[str, str]]:
    """The network of a cascade classifier file, trainable, and the file's metadata."""
    try:
        proto = onnx.load(path)
    except Exception as exc:  # onnx raises several untyped errors
        raise ModelError(f"cannot read classifier {path!r} ({exc})") from exc
    meta = {p.key: p.value for p in proto.metadata_props}
    if meta.get("format") != CLASSIFIER_FORMAT:
        raise ModelError(
            f"{path!r} is not a cascade classifier (format {meta.get('format')!r}); pass the "
            "cascade's .onnx file, or a dense model with --detector neural"
        )
    net = net_mod.CascadeNet()
    weights = {i.name: numpy_helper.to_array(i) for i in proto.graph.initializer}
    state = net.state_dict()
    missing = [k for k in state if f"net.{k}" not in weights]
    if missing:
        raise ModelError(f"{path!r} lacks weights {', '.join(missing)}; not this architecture")
    net.load_state_dict({k: torch.from_numpy(weights[f"net.{k}"].copy()) for k in state})
    return net, meta


def verdict_candidates(label_files: list[str], meta: dict[str, str]) -> Verdicts:
    """Run the candidate stage on every judged frame; label the candidates (module doc)."""
    params = cand.CandidateParams(threshold=float(meta.get("candidates", "4.0")))
    parts: list[tuple[Encoded, np.ndarray]] = []
    counts = {"accept": 0, "reject": 0, "unmatched": 0}
    for path in label_files:
        labels = load_labels(path)
        verdicts = [
            v
            for k, v in labels["labels"].items()
            if not k.startswith("sensor_") and v["label"] in ("accept", "reject")
        ]
        if verdicts:
            parts += _review_candidates(path, labels, verdicts, params, meta, counts)
    if not parts:
        raise InputError(
            f"no accepted or rejected detections in {', '.join(label_files)} (verdicts on "
            "sensor positions do not train the detector); review them with hotpixel review first"
        )
    encoded = Encoded(
        np.concatenate([e.patches for e, _ in parts]), np.concatenate([e.scalars for e, _ in parts])
    )
    label = np.concatenate([lab for _, lab in parts]).astype(np.float32)
    return Verdicts(encoded, label, counts["accept"], counts["reject"], counts["unmatched"])


def _review_candidates(
    path: str,
    labels: dict[str, Any],
    verdicts: list[dict[str, Any]],
    params: cand.CandidateParams,
    meta: dict[str, str],
    counts: dict[str, int],
) -> list[tuple[Encoded, np.ndarray]]:
    """The labelled candidates of one review folder (``path`` is its labels.json)."""
    report = read_report(os.path.dirname(os.path.abspath(path)))
    seq = discover(labels["pattern"])
    run_params = report.get("params", {})
    by_frame: dict[int, list[dict[str, Any]]] = {}
    for v in verdicts:
        by_frame.setdefault(int(v["frame"]), []).append(v)
    plan = dict(plan_windows(seq.frames, sorted(by_frame)))
    missing = sorted(set(by_frame) - set(plan))
    if missing:
        raise InputError(f"frames {missing} of {path} are not in {labels['pattern']} any more")
    read = sorted({n for f in by_frame for n in plan[f]})
    canvas, _ = scan_geometry(seq, read)
    colour = choose_colour(
        seq, list(seq.frames[:1]), run_params.get("colorspace", ""), run_params.get("ocio", "")
    )
    decoder = Decoder(colour)
    scale = FlowScale.parse(str(run_params.get("flow_scale", "auto"))).at(canvas.width)
    cache = MotionCache(meta.get("preset", "medium"), scale=scale)
    dx, dy = canvas.offset
    out = []
    for frame, items in sorted(by_frame.items()):
        numbers = list(plan[frame])
        frames = [load_frame(seq, n, canvas, decoder).rgb for n in numbers]
        done = find_candidates(frames, numbers, cache, params, cache.workers)
        label = np.full(len(done.found), -1.0, np.float32)  # -1: not judged
        for v in items:
            x0, y0, x1, y1 = v["bbox"]  # display pixels, end exclusive
            inside = (
                (done.found.x >= x0 - dx - GROW)
                & (done.found.x < x1 - dx + GROW)
                & (done.found.y >= y0 - dy - GROW)
                & (done.found.y < y1 - dy + GROW)
            )
            counts[v["label"]] += 1
            if not inside.any():
                counts["unmatched"] += 1
            # an accepted box wins over a rejected one that overlaps it
            value = 1.0 if v["label"] == "accept" else 0.0
            label[inside] = np.maximum(label[inside], value)
        judged = label >= 0
        chosen = done.found.select(np.flatnonzero(judged))
        encoded = encode_window(replace(done, found=chosen), PATCH)
        out.append((encoded, label[judged]))
    return out


def replay_set(
    meta: dict[str, str], cfg: ClassifierFinetune, log: Callable[[str], None]
) -> tuple[cdata.Batch, cdata.Batch]:
    """The replay (training) and validation candidates, each clip's from the disk cache when
    there (:mod:`hotpixel.ml.training.candidate_cache`)."""
    t0 = time.perf_counter()
    params = cand.CandidateParams(threshold=float(meta.get("candidates", "4.0")))
    preset = meta.get("preset", "medium")
    fold = realvideo.folds()[0]

    def clip(name: str, motions: tuple[str, ...], frames: int) -> cdata.Batch:
        return candidate_cache.clip_batch(name, motions, frames, cfg.seed, params, preset)

    def stills() -> cdata.Batch:
        rng = np.random.Generator(np.random.PCG64([cfg.seed, 0]))
        return cdata.collect(cdata.still_windows(cfg.replay_stills, rng), params, preset)

    key = {"stills": cfg.replay_stills, "seed": cfg.seed, "preset": preset}
    parts = [candidate_cache.cached("stills", {**key, "candidates": params.threshold}, stills)]
    if cfg.replay_frames > 0:  # 0: stills only (no clip to fetch), for quick runs and tests
        parts += [clip(c, MOTIONS, cfg.replay_frames) for c in fold.train]
    train = cdata.join_all(parts)
    if cfg.validation_frames > 0:
        val = cdata.join_all([clip(c, MOTIONS[:3], cfg.validation_frames) for c in fold.validation])
    else:  # no validation: the threshold must be given
        val = cdata.collect(iter(()), params, preset)
    log(f"replay set: {len(train.label)} candidates, ready in {time.perf_counter() - t0:.0f}s")
    return train, val


def fit(
    net: net_mod.CascadeNet,
    verdicts: Verdicts,
    replay: cdata.Batch,
    cfg: ClassifierFinetune,
    log: Callable[[str], None],
) -> list[float]:
    """Fine-tune ``net`` in place on the verdicts mixed with the replay set; the losses."""
    gen = torch.Generator().manual_seed(cfg.seed)
    torch.manual_seed(cfg.seed)
    lab_x = torch.from_numpy(verdicts.encoded.patches)
    lab_s = torch.from_numpy(verdicts.encoded.scalars)
    lab_y = torch.from_numpy(verdicts.label)[:, None]
    rep_x = torch.from_numpy(replay.encoded.patches)
    rep_s = torch.from_numpy(replay.encoded.scalars)
    rep_y = torch.from_numpy(replay.label)[:, None]
    pos = float(rep_y.sum())
    # the replay set's defects are rare among its candidates and weigh as its other candidates
    # together (at most 20x); the verdicts weigh ``weight`` each, accepted or rejected, so a
    # review made mostly of accepts does not push every candidate towards "defect"
    pos_weight = float(np.clip((len(rep_y) - pos) / max(pos, 1.0), 1.0, 20.0))
    loss_fn = torch.nn.BCEWithLogitsLoss(reduction="none")
    opt = torch.optim.AdamW(net.parameters(), lr=cfg.lr, weight_decay=1e-4)
    n_rep = max(1, round(cfg.replay * len(lab_y)))
    losses = []
    net.train()
    for epoch in range(cfg.epochs):
        pick = torch.randint(0, len(rep_y), (n_rep,), generator=gen)
        x = torch.cat([lab_x, rep_x[pick]])
        s = torch.cat([lab_s, rep_s[pick]])
        y = torch.cat([lab_y, rep_y[pick]])
        w = torch.cat(
            [torch.full_like(lab_y, cfg.weight), 1.0 + (pos_weight - 1.0) * y[len(lab_y) :]]
        )
        order = torch.randperm(len(y), generator=gen)
        total = 0.0
        for i in range(0, len(y), 256):
            b = order[i : i + 256]
            patches = x[b].flip(-1) if torch.rand(1, generator=gen).item() < 0.5 else x[b]
            loss = (loss_fn(net(patches, s[b]), y[b]) * w[b]).sum() / w[b].sum()
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += float(loss.detach()) * len(b)
        losses.append(total / len(y))
        if (epoch + 1) % max(cfg.epochs // 5, 1) == 0:
            log(f"epoch {epoch + 1}/{cfg.epochs}: loss {losses[-1]:.4f}")
    net.eval()
    return losses


@dataclass(frozen=True)
class HeldThreshold:
    """The threshold :func:`held_threshold` chose, the recall bar and whether it was kept."""

    threshold: float
    bar: float  # clear-defect recall the threshold had to keep on the validation clips
    recall: float  # what it keeps there
    kept: bool


def held_threshold(
    prob: np.ndarray, base_prob: np.ndarray, val: cdata.Batch, base_threshold: float, recall: float
) -> HeldThreshold:
    """The highest threshold of the evaluation's grid whose clear-defect recall on ``val`` is
    at least the bar: ``recall``, or the base classifier's own recall at ``base_threshold``
    (``base_prob``) where that is lower. Where no threshold keeps the bar, the grid's lowest,
    with ``kept`` false: the fine-tuned classifier lost recall the threshold cannot buy back."""
    bar = min(recall, cdata.rates(base_prob, val, base_threshold)["recall_clear"])
    t = cdata.choose_threshold(prob, val, bar, floor=min(THRESHOLDS))
    got = cdata.rates(prob, val, t)["recall_clear"]
    return HeldThreshold(t, bar, got, got >= bar)


def verdict_rates(prob: np.ndarray, verdicts: Verdicts, threshold: float) -> dict[str, float]:
    """Shares of the labelled candidates kept at ``threshold``: accepted and rejected ones."""
    keep = prob >= threshold
    acc, rej = verdicts.label == 1, verdicts.label == 0
    return {
        "accepted_kept": float(keep[acc].mean()) if acc.any() else 1.0,
        "rejected_kept": float(keep[rej].mean()) if rej.any() else 0.0,
    }


def finetune_classifier(
    label_files: list[str],
    base: str,
    out_path: str,
    version: str,
    cfg: ClassifierFinetune = ClassifierFinetune(),
    log: Callable[[str], None] = print,
) -> str:
    """Fine-tune the classifier ``base`` on the verdicts; export ``out_path``; return it."""
    t0 = time.perf_counter()
    net, meta = load_classifier_net(base)
    verdicts = verdict_candidates(label_files, meta)
    log(
        f"{len(verdicts.label)} labelled candidates ({int(verdicts.label.sum())} accepted) from "
        f"{verdicts.accepted} accepted and {verdicts.rejected} rejected detections"
        + (f"; {verdicts.unmatched} verdicts matched no candidate" if verdicts.unmatched else "")
    )
    replay, val = replay_set(meta, cfg, log)
    if cfg.threshold is None and len(val.label) == 0:
        raise UsageError("no validation candidates to choose the threshold on; pass --threshold")
    base_threshold = float(meta["threshold"])
    before = verdict_rates(net_mod.predict(net, verdicts.encoded), verdicts, base_threshold)
    base_val = net_mod.predict(net, val.encoded)
    losses = fit(net, verdicts, replay, cfg, log)
    val_prob = net_mod.predict(net, val.encoded)
    held = (
        held_threshold(val_prob, base_val, val, base_threshold, cfg.recall)
        if len(val.label)
        else None
    )
    if held is not None and not held.kept:
        log(
            f"warning: no threshold keeps the base classifier's clear recall {held.bar:.3f} on "
            f"the validation clips (at most {held.recall:.3f}); the fine-tuned classifier lost "
            f"recall, so the lowest threshold {held.threshold:g} is stored: review more "
            "frames or raise --replay"
        )
    chosen = held.threshold if held is not None else None
    threshold = cfg.threshold if cfg.threshold is not None else float(chosen or 0.5)
    after = verdict_rates(net_mod.predict(net, verdicts.encoded), verdicts, threshold)
    metrics = {
        "verdicts_before": before,
        "verdicts_after": after,
        "validation": cdata.rates(val_prob, val, threshold),
        "threshold": threshold,
        "threshold_chosen_on_validation": chosen,
        "recall_held": asdict(held) if held is not None else None,
        "validation_before": cdata.rates(base_val, val, base_threshold),
        "losses": losses,
        "config": asdict(cfg),
    }
    validation = (
        f"validation clear recall {metrics['validation']['recall_clear']:.3f}"  # type: ignore[index]
        if len(val.label)
        else "no validation set"
    )
    log(
        f"labelled candidates kept, before -> after: accepted {before['accepted_kept']:.2f} -> "
        f"{after['accepted_kept']:.2f}, rejected {before['rejected_kept']:.2f} -> "
        f"{after['rejected_kept']:.2f}; {validation}, threshold {threshold:g}"
    )
    lineage = (
        f"{meta.get('lineage', '')} -> finetuned from {meta.get('model_version', 'unknown')} on "
        f"{verdicts.accepted} accepted / {verdicts.rejected} rejected detections "
        f"({', '.join(os.path.abspath(p) for p in label_files)}), {cfg.epochs} epochs, "
        f"replay {cfg.replay:g}x, seed {cfg.seed}, operating threshold {threshold:g}"
    ).lstrip(" ->")
    new_meta = net_mod.metadata(
        version,
        threshold,
        meta.get("preset", "medium"),
        candidates=meta.get("candidates", str(cdata.CANDIDATE_THRESHOLD)),
        lineage=lineage,
        finetuned_from=meta.get("model_version", "unknown"),
    )
    folder = os.path.dirname(os.path.abspath(out_path))
    os.makedirs(folder, exist_ok=True)
    net_mod.export(net, out_path, new_meta)
    record = os.path.splitext(out_path)[0] + ".train.json"
    net_mod.write_record(record, new_meta, metrics)
    log(f"wrote {out_path} ({time.perf_counter() - t0:.0f}s)")
    return out_path
