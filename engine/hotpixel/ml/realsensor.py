"""Real image-sensor sequences in the shared data folder (``sensor/`` under
:func:`hotpixel.ml.realvideo.shared_data_dir`), read where they are, never copied.

Each folder holds one file per minute (``.pgm`` or ``.pgm.gz``): concatenated 16-bit big-endian
P5 PGM frames, each with ``#`` comment lines (exposure, sensor, temperature). Frames come back
as scene-linear grey in three equal channels: the counts less the camera's stated black level
(its ``"Ccd background"`` comment; 0 where it states none), over 65535.
"""

from __future__ import annotations

import gzip
import pathlib
import re

import numpy as np

from ..errors import InputError
from .realvideo import shared_data_dir

SEQUENCES = ("themis_ccd_allsky_120f", "trex_nir_ccd_60f", "trex_blueline_cmos_120f")
_BLACK = re.compile(r'"Ccd background"\s+(\d+)', re.IGNORECASE)
_NUMBER = re.compile(rb"\d+")


def folder(name: str) -> pathlib.Path:
    """The folder of sequence ``name``; InputError naming the folder when it is missing."""
    path = shared_data_dir() / "sensor" / name
    if not path.is_dir():
        raise InputError(
            f"sensor sequence {name!r}: {path} is missing; set HOTPIXEL_SHARED_DATA to the "
            "folder that holds sensor/"
        )
    return path


def load(name: str, count: int | None = None) -> np.ndarray:
    """The first ``count`` frames (None: all) of sequence ``name`` as ``(N, H, W, 3)`` float32."""
    frames: list[np.ndarray] = []
    black = 0.0
    for path in sorted(folder(name).glob("*.pgm*")):
        raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
        for counts, comments in _frames(raw, path):
            found = _BLACK.search(comments)
            black = float(found.group(1)) if found else black
            frames.append(counts)
            if count is not None and len(frames) >= count:
                break
        if count is not None and len(frames) >= count:
            break
    if not frames:
        raise InputError(f"sensor sequence {name!r}: no frames in {folder(name)}")
    grey = (np.stack(frames).astype(np.float32) - np.float32(black)) / np.float32(65535.0)
    out: np.ndarray = np.repeat(grey[..., None], 3, axis=3)
    return out


def _frames(raw: bytes, path: pathlib.Path) -> list[tuple[np.ndarray, str]]:
    """The ``(H, W)`` uint16 frames of one multi-frame PGM file and each one's comments."""
    out: list[tuple[np.ndarray, str]] = []
    i = raw.find(b"P5")
    while i >= 0:
        i += 2
        tokens: list[int] = []
        comments: list[str] = []
        while len(tokens) < 3:
            while raw[i : i + 1].isspace():
                i += 1
            if raw[i : i + 1] == b"#":
                end = raw.find(b"\n", i)
                comments.append(raw[i + 1 : end].decode("latin-1"))
                i = end + 1
                continue
            number = _NUMBER.match(raw, i)
            if number is None:
                raise InputError(f"{path}: frame {len(out) + 1} has a damaged PGM header")
            tokens.append(int(number.group()))
            i = number.end()
        w, h, top = tokens
        i += 1  # the one whitespace before the pixels
        size = w * h * (2 if top > 255 else 1)
        if i + size > len(raw):
            raise InputError(f"{path}: frame {len(out) + 1} is cut short")
        dtype = ">u2" if top > 255 else "u1"
        out.append((np.frombuffer(raw, dtype, w * h, i).reshape(h, w), "\n".join(comments)))
        i = raw.find(b"P5", i + size)
    return out
