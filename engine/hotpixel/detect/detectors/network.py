"""The temporal hot-pixel network.

Input ``(B, T, 3, H, W)`` raw decoded pixels (scene-linear or display-referred, NaN-free);
output ``(B, 1, H, W)`` probabilities for the centre frame, at input resolution. The input
transform lives inside the network, so the ONNX file is self-contained:

    t = (log2(max(x, 0) + 2^-8) + 8) / 8        0 -> 0, 1.0 -> ~1, 65504 -> ~3

A log curve turns "10% above the local level" into the same step at every exposure. From the
transformed window the network builds temporal features explicitly (centre minus each
neighbour; centre minus the neighbours' brightest value within +-``reach`` pixels, which gives
motion tolerance; optionally the same within +-``far_reach`` pixels, so a light that moves
faster than ``reach`` per frame is still seen in the neighbouring frames), then a small stack
of 3x3 convolutions, two of them dilated, for context.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

LOG_FLOOR = 2.0**-8


@dataclass(frozen=True)
class ModelConfig:
    window: int = 5
    width: int = 16
    reach: int = 3  # motion tolerance of the explicit temporal feature, pixels
    far_reach: int = 0  # a second, wider tolerance for fast lights (0: none, as v1 and v2)
    temporal: bool = True  # False: the single-frame variant (centre frame repeated)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def context(self) -> int:
        """How far, in pixels, the temporal features look around a pixel."""
        return max(self.reach, self.far_reach)


def normalise(x: torch.Tensor) -> torch.Tensor:
    """The documented input transform (see module docstring)."""
    return (torch.log2(torch.clamp(x, min=0.0) + LOG_FLOOR) + 8.0) / 8.0


class TemporalDetector(nn.Module):
    """``(B, T, 3, H, W)`` -> ``(B, 1, H, W)`` probability of a one-frame defect."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        w = config.width
        features = 3 + 3 * (config.window - 1) + 3 + (3 if config.far_reach > 0 else 0)
        self.stem = nn.Conv2d(features, w, 3, padding=1)
        self.body = nn.ModuleList(
            [
                nn.Conv2d(w, w, 3, padding=1),
                nn.Conv2d(w, w, 3, padding=2, dilation=2),
                nn.Conv2d(w, w, 3, padding=4, dilation=4),
            ]
        )
        self.head = nn.Sequential(nn.Conv2d(2 * w, w, 1), nn.ReLU(), nn.Conv2d(w, 1, 1))

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, T, 3, H, W)`` -> ``(B, F, H, W)`` explicit temporal features."""
        t = normalise(x)
        centre_index = self.config.window // 2
        if not self.config.temporal:
            t = t[:, centre_index : centre_index + 1].expand(-1, self.config.window, -1, -1, -1)
        centre = t[:, centre_index]  # (B, 3, H, W)
        others = torch.cat(
            [t[:, :centre_index], t[:, centre_index + 1 :]], dim=1
        )  # (B, T-1, 3, H, W)
        diffs = centre.unsqueeze(1) - others  # (B, T-1, 3, H, W)
        b, n, c, h, w = others.shape
        k = 2 * self.config.reach + 1
        reach = F.max_pool2d(others.reshape(b, n * c, h, w), k, stride=1, padding=self.config.reach)
        nearest = reach.reshape(b, n, c, h, w).amax(dim=1)  # (B, 3, H, W)
        parts = [centre, diffs.reshape(b, n * c, h, w), centre - nearest]
        if self.config.far_reach > 0:
            parts.append(centre - _box_max(others.amax(dim=1), self.config.far_reach))
        return torch.cat(parts, dim=1)

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        return self.convolve(self.features(x))

    def convolve(self, features: torch.Tensor) -> torch.Tensor:
        """Logits from the explicit features: the learned part (reduced precision may run it)."""
        f = F.relu(self.stem(features))
        first = f
        for conv in self.body:
            f = F.relu(conv(f)) + f
        logits: torch.Tensor = self.head(torch.cat([f, first], dim=1))
        return logits

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.logits(x))


def _box_max(x: torch.Tensor, radius: int) -> torch.Tensor:
    """Max over the ``(2 radius + 1)`` square around each pixel, as two 1-D passes."""
    k = 2 * radius + 1
    rows = F.max_pool2d(x, (1, k), stride=1, padding=(0, radius))
    return F.max_pool2d(rows, (k, 1), stride=1, padding=(radius, 0))


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def macs_per_pixel(model: TemporalDetector) -> int:
    """Multiply-adds per output pixel of the convolutions (pooling and features excluded)."""
    total = 0
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            kh, kw = m.kernel_size
            total += m.in_channels * m.out_channels * kh * kw
    return total
