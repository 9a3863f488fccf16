"""The cascade's classifier network: its PyTorch definition, fitting, and the ONNX export.

What :func:`export` writes is what :func:`hotpixel.detect.model_file.load_classifier` reads:
inputs ``patches`` and ``scalars``, output ``probability``, and the metadata of
:func:`metadata`.
"""

from __future__ import annotations

import json
import sys

import numpy as np
import torch
from torch import nn

from hotpixel.detect.cascade.encoding import CHANNELS, PATCH, SCALARS, Encoded
from hotpixel.detect.model_file import CLASSIFIER_FORMAT
from hotpixel.io.atomic import atomic_path, write_text
from hotpixel.ml.training.cascade_data import CANDIDATE_THRESHOLD, Batch


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


def write_record(path: str, meta: dict[str, str], metrics: dict[str, object]) -> None:
    """The ``.train.json`` beside a classifier: its metadata and how it measured."""
    write_text(path, json.dumps({"metadata": meta, "metrics": metrics}, indent=1) + "\n")
