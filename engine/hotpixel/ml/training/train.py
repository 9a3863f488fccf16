"""Training the temporal detector on synthetic defects over real plates.

``hotpixel train --out DIR [--config JSON] [--seed N]`` reproduces a model: the same seed and
config give the same pool of windows and the same initial weights. Checkpoints store the config
and the weights; a GPU is used when torch sees one.
"""

from __future__ import annotations

import json
import os
import pickle
import re
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np
import torch
from torch.nn import functional as F

from hotpixel.detect.detectors.network import ModelConfig, TemporalDetector
from hotpixel.errors import ModelError
from hotpixel.io.atomic import atomic_path
from hotpixel.ml.synth.plates import load_plate, training_plate_names
from hotpixel.ml.synth.windows import WindowConfig, make_window


@dataclass(frozen=True)
class TrainConfig:
    seed: int = 1
    steps: int = 5000
    batch: int = 24
    lr: float = 2e-3
    pool: int = 4000  # windows generated up front; flips and rotations add variety
    focal_gamma: float = 1.0  # gamma 2 left noise peaks in dark areas near p = 0.5
    positive_weight: float = 2.0
    hard_weight: float = 4.0  # false positives on hard negatives cost this much more
    # defects standing fewer grain sigmas than this above their background are left out of the
    # loss (neither hit nor miss): no detector can see them, and labelling them 1 taught the
    # network that a faint step is a coin toss even where the grain is far below it
    min_snr: float = 0.0
    model: ModelConfig = field(default_factory=ModelConfig)
    windows: WindowConfig = field(
        default_factory=lambda: WindowConfig(speed=(0.0, 6.0), points=(0, 8), mirror_rate=0.15)
    )

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TrainConfig:
        """Inverse of :meth:`as_dict` (lists from JSON become tuples)."""
        d = dict(d)
        model = ModelConfig(**d.pop("model", {}))
        win: dict[str, Any] = d.pop("windows", None) or {}
        fixed: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in win.items()}
        windows = WindowConfig(**fixed) if fixed else cls().windows
        return replace(cls(**d), model=model, windows=windows)


def training_plates() -> list[np.ndarray]:
    return [load_plate(n) for n in training_plate_names()]


def make_pool(config: TrainConfig, rng: np.random.Generator) -> dict[str, torch.Tensor]:
    """``frames`` (N, T, 3, h, w) float16; ``target``, ``hard`` and ``keep`` (N, 1, h, w).

    ``keep`` is 0 on the footprints of defects below ``config.min_snr``, 1 elsewhere.
    """
    plates = training_plates()
    samples = [make_window(plates, rng, config.windows) for _ in range(config.pool)]
    frames = np.stack([s.frames for s in samples]).transpose(0, 1, 4, 2, 3)
    frames = np.clip(frames, -65504, 65504).astype(np.float16)
    return {
        "frames": torch.from_numpy(frames),
        "target": torch.from_numpy(np.stack([s.target for s in samples])[:, None]),
        "hard": torch.from_numpy(np.stack([s.hard for s in samples])[:, None].astype(np.float32)),
        "keep": torch.from_numpy(
            1.0 - np.stack([s.faint(config.min_snr) for s in samples])[:, None].astype(np.float32)
        ),
    }


def augment(batch: list[torch.Tensor], gen: torch.Generator) -> list[torch.Tensor]:
    """The same random flip / 90-degree turn on every tensor (last two axes are H, W)."""
    k = int(torch.randint(0, 4, (1,), generator=gen))
    flip = bool(torch.randint(0, 2, (1,), generator=gen))
    out = [torch.rot90(t, k, dims=(-2, -1)) for t in batch]
    return [torch.flip(t, dims=(-1,)) for t in out] if flip else out


def loss_fn(
    logits: torch.Tensor,
    target: torch.Tensor,
    hard: torch.Tensor,
    config: TrainConfig,
    keep: torch.Tensor | None = None,
) -> torch.Tensor:
    """Focal BCE, positives and hard negatives weighted up, normalised by the positives.

    Pixels where ``keep`` is 0 do not count.
    """
    bce = F.binary_cross_entropy_with_logits(logits, target, reduction="none")
    pt = torch.exp(-bce)
    focal = (1 - pt) ** config.focal_gamma * bce
    weight = 1.0 + (config.positive_weight - 1.0) * target + config.hard_weight * hard
    if keep is not None:
        weight = weight * keep
        target = target * keep
    return (focal * weight).sum() / (target.sum() + 1.0)


def train(
    config: TrainConfig,
    out_dir: str,
    log: Callable[[str], None] = print,
) -> str:
    """Train, write ``out_dir/checkpoint.pt`` (config + weights + metrics); return its path."""
    os.makedirs(out_dir, exist_ok=True)
    rng = np.random.default_rng(config.seed)
    torch.manual_seed(config.seed)
    gen = torch.Generator().manual_seed(config.seed)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    t0 = time.perf_counter()
    pool = make_pool(config, rng)
    log(f"pool of {config.pool} windows made in {time.perf_counter() - t0:.0f}s on {device}")
    model = TemporalDetector(config.model).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=config.lr)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, config.lr, total_steps=config.steps)
    history = []
    for step in range(config.steps):
        idx = torch.randint(0, config.pool, (config.batch,), generator=gen)
        frames, target, hard, keep = augment(
            [
                pool["frames"][idx].float(),
                pool["target"][idx],
                pool["hard"][idx],
                pool["keep"][idx],
            ],
            gen,
        )
        logits = model.logits(frames.to(device))
        loss = loss_fn(logits, target.to(device), hard.to(device), config, keep.to(device))
        opt.zero_grad()
        loss.backward()  # type: ignore[no-untyped-call]
        opt.step()
        sched.step()
        history.append(float(loss.detach()))
        if (step + 1) % max(config.steps // 20, 1) == 0:
            log(
                f"step {step + 1}/{config.steps} loss {np.mean(history[-50:]):.4f} "
                f"({time.perf_counter() - t0:.0f}s)"
            )
    path = os.path.join(out_dir, "checkpoint.pt")
    with atomic_path(path) as tmp:
        torch.save(
            {
                "config": config.as_dict(),
                "state_dict": model.cpu().state_dict(),
                "final_loss": float(np.mean(history[-100:])),
                "seconds": time.perf_counter() - t0,
            },
            tmp,
        )
    return path


def load_checkpoint(path: str) -> tuple[TemporalDetector, TrainConfig]:
    """The model and config of a ``checkpoint.pt`` that :func:`train` wrote.

    Read with ``torch.load(weights_only=True)``: tensors and plain values only, so a
    checkpoint from elsewhere cannot run code when it is opened
    (https://pytorch.org/docs/stable/generated/torch.load.html). One that holds anything
    else, is damaged, or does not fit the model is refused with :class:`ModelError`.
    """
    try:
        blob = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:  # what weights_only=True raises on other objects
        found = re.search(r"Unsupported global: GLOBAL (\S+)", str(exc))
        what = f" ({found.group(1)})" if found else ""
        raise ModelError(
            f"checkpoint {path!r} holds Python objects{what} besides tensors and plain "
            "values; loading it could run code, so it is refused: pass a checkpoint.pt that "
            "`hotpixel train` wrote"
        ) from None
    except Exception as exc:  # zip, torch and pickle raise many kinds on a damaged file
        first = (str(exc).splitlines() or [type(exc).__name__])[0][:200]
        raise ModelError(
            f"checkpoint {path!r} cannot be read ({first}); it is damaged or not a torch "
            "checkpoint: pass a checkpoint.pt that `hotpixel train` wrote"
        ) from None
    try:
        config = TrainConfig.from_dict(blob["config"])
        model = TemporalDetector(config.model)
        model.load_state_dict(blob["state_dict"])
    except (KeyError, TypeError, ValueError, RuntimeError) as exc:
        raise ModelError(
            f"checkpoint {path!r} is not a hotpixel training checkpoint ({exc}); pass a "
            "checkpoint.pt that `hotpixel train` wrote"
        ) from None
    model.eval()
    return model, config


def config_from_file(path: str | None, seed: int | None) -> TrainConfig:
    config = TrainConfig()
    if path:
        with open(path, encoding="utf-8") as fh:
            config = TrainConfig.from_dict(json.load(fh))
    return replace(config, seed=seed) if seed is not None else config
