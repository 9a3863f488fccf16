"""Real scene-linear frames bundled with the package, and stills put in camera motion.

The bundled plates are Blender's studio-light HDRIs (CC0, Greg Zaal / HDRI Haven): 1024x512
float EXRs of real scenes with real small bright things (stars, street lights, practicals).
"""

from __future__ import annotations

import os
from importlib import resources

import numpy as np
from scipy import ndimage

from hotpixel.io.images import read_rgb

EVAL_PLATES = ("night", "interior")  # held out of training; evaluation uses only these


def training_plate_names() -> list[str]:
    """Bundled plates used for training: all but :data:`EVAL_PLATES`."""
    return [n for n in bundled_plates() if n not in EVAL_PLATES]


def plate_folder() -> str:
    """Folder holding the bundled plates."""
    return str(resources.files("hotpixel") / "data" / "plates")


def bundled_plates() -> list[str]:
    """Names of the bundled plates (file stems), sorted."""
    return sorted(n[:-4] for n in os.listdir(plate_folder()) if n.endswith(".exr"))


def load_plate(name: str) -> np.ndarray:
    """A bundled plate as ``(H, W, 3)`` float32 scene-linear."""
    path = os.path.join(plate_folder(), f"{name}.exr")
    return read_rgb(path, f"bundled plate {name!r}")


def camera_path(rng: np.random.Generator, frames: int, speed: float, shake: float) -> np.ndarray:
    """``(frames, 2)`` sub-pixel (dx, dy) offsets: a steady pan plus hand-held shake, in pixels."""
    angle = rng.uniform(0, 2 * np.pi)
    pan = np.outer(np.arange(frames), speed * np.array([np.cos(angle), np.sin(angle)]))
    jitter = rng.normal(0.0, shake, size=(frames, 2))
    path: np.ndarray = pan + jitter
    return path


def put_in_motion(
    still: np.ndarray,
    path: np.ndarray,
    size: tuple[int, int],
    rng: np.random.Generator,
    grain: float = 0.01,
) -> list[np.ndarray]:
    """Frames ``(h, w, 3)`` cropped from ``still`` along ``path`` (bilinear), with grain.

    ``size`` is (w, h) and must leave room for the path inside the still. Grain is gaussian
    with a standard deviation of ``grain * sqrt(signal + 0.01)`` (photon-like, never zero).
    """
    w, h = size
    margin_x = (still.shape[1] - w) / 2
    margin_y = (still.shape[0] - h) / 2
    frames = []
    for dx, dy in path:
        ox, oy = margin_x + dx, margin_y + dy
        if not (0 <= ox <= still.shape[1] - w and 0 <= oy <= still.shape[0] - h):
            raise ValueError("camera path leaves the still; use a smaller size or speed")
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        coords = [yy + oy, xx + ox]
        frame = np.stack(
            [ndimage.map_coordinates(still[..., c], coords, order=1) for c in range(3)], axis=-1
        )
        sigma = grain * np.sqrt(np.maximum(frame, 0.0) + 0.01)
        frame = frame + rng.normal(0.0, 1.0, frame.shape).astype(np.float32) * sigma
        frames.append(frame.astype(np.float32))
    return frames
