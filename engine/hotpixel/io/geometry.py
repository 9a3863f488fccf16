"""Image geometry: display and data windows, and the coordinate contract.

Coordinates follow MISSION.md: ``x, y`` in pixels from the top-left of the display window,
the centre of pixel (column i, row j) at (i + 0.5, j + 0.5); Nuke's convention has its origin at
the bottom-left, so ``nuke_x = x`` and ``nuke_y = height - y``. OpenImageIO's windows are
top-left with y down, like ours, so a data window only adds an offset.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np


@dataclass(frozen=True)
class Geometry:
    """Display window (``full_*``) and data window (``x, y, width, height``) of one image."""

    x: int
    y: int
    width: int
    height: int
    full_x: int
    full_y: int
    full_width: int
    full_height: int

    @classmethod
    def simple(cls, width: int, height: int) -> Geometry:
        """Data window equal to the display window, origin 0."""
        return cls(0, 0, width, height, 0, 0, width, height)

    @property
    def offset(self) -> tuple[int, int]:
        """Top-left of the data window in display-window pixels: ``(dx, dy)``."""
        return self.x - self.full_x, self.y - self.full_y

    def describe(self) -> str:
        text = f"{self.full_width}x{self.full_height}"
        if (self.x, self.y, self.width, self.height) != (
            self.full_x,
            self.full_y,
            self.full_width,
            self.full_height,
        ):
            text += f" (data window {self.width}x{self.height} at {self.x},{self.y})"
        return text

    def as_dict(self) -> dict[str, int]:
        return {
            "display_x": self.full_x,
            "display_y": self.full_y,
            "display_width": self.full_width,
            "display_height": self.full_height,
            "data_x": self.x,
            "data_y": self.y,
            "data_width": self.width,
            "data_height": self.height,
        }


def to_nuke(x: float, y: float, display_height: int) -> tuple[float, float]:
    """Top-left display coordinates to Nuke's bottom-left ones (the one place this flip lives)."""
    return x, display_height - y


def paste(pixels: np.ndarray, src: Geometry, dst: Geometry) -> np.ndarray:
    """Place an ``(h, w, C)`` data-window array of ``src`` into ``dst``'s data window.

    Pixels outside ``src`` are zero; pixels of ``src`` outside ``dst`` are dropped. Used to align
    frames whose data windows differ inside one sequence.
    """
    out = np.zeros((dst.height, dst.width, *pixels.shape[2:]), dtype=pixels.dtype)
    x0, y0 = max(src.x, dst.x), max(src.y, dst.y)
    x1 = min(src.x + src.width, dst.x + dst.width)
    y1 = min(src.y + src.height, dst.y + dst.height)
    if x1 > x0 and y1 > y0:
        out[y0 - dst.y : y1 - dst.y, x0 - dst.x : x1 - dst.x] = pixels[
            y0 - src.y : y1 - src.y, x0 - src.x : x1 - src.x
        ]
    return out


class Tile(NamedTuple):
    """One tile of a frame: ``frame[src]`` goes in, ``result[crop]`` fills ``frame[out]``."""

    out: tuple[slice, slice]  # the tile itself
    src: tuple[slice, slice]  # the tile grown by the halo, clamped to the frame
    crop: tuple[slice, slice]  # the tile inside ``src``'s result


def tiles(h: int, w: int, tile: int, halo: int) -> Iterator[Tile]:
    """The ``tile``-sized tiles of an ``h`` x ``w`` frame, each read with ``halo`` of context."""
    for y0 in range(0, h, tile):
        for x0 in range(0, w, tile):
            y1, x1 = min(y0 + tile, h), min(x0 + tile, w)
            ya, xa = max(y0 - halo, 0), max(x0 - halo, 0)
            yb, xb = min(y1 + halo, h), min(x1 + halo, w)
            yield Tile(
                (slice(y0, y1), slice(x0, x1)),
                (slice(ya, yb), slice(xa, xb)),
                (slice(y0 - ya, y1 - ya), slice(x0 - xa, x1 - xa)),
            )
