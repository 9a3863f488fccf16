"""Frame sequences: patterns, discovery on disk, frame ranges and gaps.

Accepted patterns (a ``#`` or ``@`` is one digit, as in Nuke):
``shot.####.exr``, ``shot.%04d.exr``, ``shot.%d.exr``, ``shot.$F4.exr``, ``shot.$F.exr``,
``shot.1001-1100#.exr`` (a range before the hashes; a lone ``#`` there means four digits, as in
fileseq), a directory holding exactly one sequence, a single image file (one frame), or a movie
file (:data:`MOVIE_SUFFIXES`; its frames are read by :mod:`hotpixel.io.movie`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from hotpixel.errors import SequenceError

IMAGE_SUFFIXES = (".exr", ".dpx", ".tif", ".tiff", ".png", ".jpg", ".jpeg", ".cin", ".hdr")
MOVIE_SUFFIXES = (".mov", ".mxf", ".mp4", ".m4v", ".mkv", ".avi")


def is_movie(path: str) -> bool:
    """Whether ``path`` names a movie file (by its suffix), whose frames are all in it."""
    return path.lower().endswith(MOVIE_SUFFIXES)


_TOKEN = re.compile(
    r"(?P<range>-?\d+-?-\d+|-?\d+)?(?P<hash>[#@]+)"  # 1001-1100#, ####, @@@@
    r"|%0?(?P<printf>\d*)d"  # %04d, %d
    r"|\$F(?P<houdini>\d*)"  # $F4, $F
)
# a '-' is a minus sign only when it does not follow a letter or digit: shot-1001.exr is 1001
_FILE_FRAME = re.compile(
    r"^(?P<prefix>.*?)(?P<frame>(?:(?<![A-Za-z0-9])-)?\d+)(?P<suffix>\.[A-Za-z0-9]+)$"
)


@dataclass(frozen=True)
class FramePattern:
    """A parsed pattern: ``directory/prefix<frame>suffix`` with ``padding`` digits (0 = any)."""

    directory: str
    prefix: str
    suffix: str
    padding: int
    embedded_range: tuple[int, int] | None = None
    movie: str = ""  # the movie file that holds every frame; "" for one file per frame

    def path(self, frame: int) -> str:
        """The file path of one frame."""
        if self.movie:
            return self.movie
        sign = "-" if frame < 0 else ""
        digits = str(abs(frame)).zfill(self.padding)
        return os.path.join(self.directory, f"{self.prefix}{sign}{digits}{self.suffix}")

    def display(self) -> str:
        """The pattern in Nuke's ``####`` form (a movie's own path), for messages and reports."""
        if self.movie:
            return self.movie
        hashes = "#" * self.padding if self.padding else "%d"
        return os.path.join(self.directory, f"{self.prefix}{hashes}{self.suffix}")

    def match(self, name: str) -> int | None:
        """The frame number of a file name in this sequence, or None."""
        if not (name.startswith(self.prefix) and name.endswith(self.suffix)):
            return None
        middle = name[len(self.prefix) : len(name) - len(self.suffix)]
        if not re.fullmatch(r"-?\d+", middle):
            return None
        digits = middle.lstrip("-")
        if self.padding and len(digits) < self.padding:
            return None
        if self.padding and len(digits) > self.padding and digits.startswith("0"):
            return None
        if not self.padding and len(digits) > 1 and digits.startswith("0"):
            return None
        return int(middle)


@dataclass(frozen=True)
class FrameSequence:
    """The frames of one pattern that exist on disk, sorted."""

    pattern: FramePattern
    frames: tuple[int, ...]
    paths: dict[int, str] = field(compare=False, repr=False)

    @property
    def first(self) -> int:
        return self.frames[0]

    @property
    def last(self) -> int:
        return self.frames[-1]

    def path(self, frame: int) -> str:
        return self.paths[frame]

    def missing(self) -> list[int]:
        """Frames between the first and the last that have no file."""
        have = set(self.frames)
        return [f for f in range(self.first, self.last + 1) if f not in have]

    def segments(self) -> list[tuple[int, int]]:
        """Contiguous runs of existing frames, as inclusive (first, last) pairs."""
        return runs(self.frames)


def runs(frames: Iterable[int]) -> list[tuple[int, int]]:
    """Group sorted frame numbers into inclusive contiguous runs."""
    out: list[tuple[int, int]] = []
    for f in sorted(set(frames)):
        if out and f == out[-1][1] + 1:
            out[-1] = (out[-1][0], f)
        else:
            out.append((f, f))
    return out


def format_ranges(frames: Iterable[int]) -> str:
    """``1001-1046, 1048-1100`` style text for messages and reports."""
    parts = [f"{a}" if a == b else f"{a}-{b}" for a, b in runs(frames)]
    return ", ".join(parts) if parts else "none"


def parse_frame_range(text: str) -> list[int]:
    """Parse ``1001-1100``, ``1001``, ``1001-1010,1020-1030`` (farm style) into frame numbers."""
    frames: list[int] = []
    for part in text.replace(" ", "").split(","):
        m = re.fullmatch(r"(-?\d+)(?:-(-?\d+))?", part)
        if not m and re.fullmatch(r"-?\d+-(-?\d+)x\d+", part):
            raise SequenceError(
                f"frame range {text!r} has a step ({part.rsplit('x', 1)[1]}): this engine "
                "analyses every frame of a range; give FIRST-LAST, e.g. "
                f"{part.rsplit('x', 1)[0]}"
            )
        if not m:
            raise SequenceError(
                f"frame range {text!r} is not understood; write it as FIRST-LAST, e.g. 1001-1100"
            )
        a = int(m.group(1))
        b = int(m.group(2)) if m.group(2) is not None else a
        if b < a:
            raise SequenceError(f"frame range {part!r} ends before it starts; write FIRST-LAST")
        frames.extend(range(a, b + 1))
    return sorted(set(frames))


def parse_pattern(text: str) -> FramePattern:
    """Parse a pattern string (not a directory) into a :class:`FramePattern`."""
    directory, name = os.path.split(text)
    tokens = list(_TOKEN.finditer(name))
    if not tokens:
        raise SequenceError(
            f"{text!r} has no frame token; use shot.####.exr, shot.%04d.exr or shot.$F4.exr"
        )
    m = tokens[-1]  # the frame number is the last token, as in every VFX tool
    embedded: tuple[int, int] | None = None
    if m.group("hash") is not None:
        hashes = m.group("hash")
        if m.group("range"):
            padding = 4 if hashes == "#" else len(hashes)
            bounds = parse_frame_range(m.group("range"))
            embedded = (bounds[0], bounds[-1])
        else:
            padding = len(hashes)
    elif m.group("printf") is not None:
        padding = int(m.group("printf") or 0)
    else:
        padding = int(m.group("houdini") or 0)
    return FramePattern(directory, name[: m.start()], name[m.end() :], padding, embedded)


def discover(text: str) -> FrameSequence:
    """Find the frames of a pattern, directory or single file on disk.

    Raises :class:`SequenceError` naming the pattern when nothing matches, and listing the
    sequences found when a directory holds more than one.
    """
    if os.path.isdir(text):
        return _discover_directory(text)
    if os.path.isfile(text) and is_movie(text):
        from hotpixel.io.movie import movie_sequence  # PyAV, loaded only for movies

        return movie_sequence(text)
    if os.path.isfile(text) and not _TOKEN.search(os.path.basename(text)):
        return _single_file(text)
    if not _TOKEN.search(os.path.basename(text)):
        raise SequenceError(_not_found(text))
    pattern = parse_pattern(text)
    folder = pattern.directory or "."
    if not os.path.isdir(folder):
        raise SequenceError(f"folder {folder!r} of pattern {text!r} does not exist")
    found = _scan(folder, pattern)
    if pattern.embedded_range is not None:
        lo, hi = pattern.embedded_range
        found = {f: p for f, p in found.items() if lo <= f <= hi}
    if not found:
        raise SequenceError(
            f"no frames match {pattern.display()}; check the path, the padding and the extension"
        )
    return FrameSequence(pattern, tuple(sorted(found)), found)


def _not_found(text: str) -> str:
    """Why a path without a frame token names nothing: a missing path, or a lost ``$F4``."""
    folder = os.path.dirname(text) or "."
    name = os.path.basename(text)
    if not os.path.isdir(folder):
        what = f"folder {folder!r} does not exist"
    else:
        what = f"{text!r} is neither a file nor a folder, and has no frame token"
    hint = "; pass shot.####.exr, shot.%04d.exr, shot.$F4.exr, a folder or a file"
    if re.search(r"\.\.|[._-]\.[A-Za-z0-9]+$|\.$", name) or name.endswith(("_", "-")):
        # `detect shot.$F4.exr` unquoted: the shell replaces $F4 by nothing -> shot..exr
        hint = (
            "; if you typed $F4 or $F, the shell replaced it with nothing: quote the pattern "
            "in single quotes, e.g. 'shot.$F4.exr', or use shot.####.exr"
        )
    return what + hint


def _scan(folder: str, pattern: FramePattern) -> dict[int, str]:
    found: dict[int, str] = {}
    for name in os.listdir(folder):
        frame = pattern.match(name)
        if frame is not None and os.path.isfile(os.path.join(folder, name)):
            found[frame] = os.path.join(pattern.directory, name)
    return found


def _single_file(path: str) -> FrameSequence:
    directory, name = os.path.split(path)
    m = _FILE_FRAME.match(name)
    if m:
        digits = m.group("frame").lstrip("-")
        pattern = FramePattern(directory, m.group("prefix"), m.group("suffix"), len(digits))
        frame = int(m.group("frame"))
    else:
        stem, ext = os.path.splitext(name)
        pattern = FramePattern(directory, stem + ".", ext, 0)
        frame = 1
    return FrameSequence(pattern, (frame,), {frame: path})


def _discover_directory(folder: str) -> FrameSequence:
    groups: dict[tuple[str, str], dict[int, str]] = {}
    widths: dict[tuple[str, str], list[str]] = {}
    for name in sorted(os.listdir(folder)):
        m = _FILE_FRAME.match(name)
        if not m or m.group("suffix").lower() not in IMAGE_SUFFIXES:
            continue
        key = (m.group("prefix"), m.group("suffix"))
        groups.setdefault(key, {})[int(m.group("frame"))] = os.path.join(folder, name)
        widths.setdefault(key, []).append(m.group("frame").lstrip("-"))
    if not groups:
        raise SequenceError(
            f"folder {folder!r} holds no image sequence (looked for {', '.join(IMAGE_SUFFIXES)})"
        )
    patterns = {key: FramePattern(folder, key[0], key[1], _padding(widths[key])) for key in groups}
    if len(groups) > 1:
        listing = "; ".join(p.display() for _, p in sorted(patterns.items()))
        raise SequenceError(
            f"folder {folder!r} holds {len(groups)} sequences ({listing}); pass one pattern"
        )
    key, found = next(iter(groups.items()))
    return FrameSequence(patterns[key], tuple(sorted(found)), found)


def _padding(digits: list[str]) -> int:
    """Padding of a sequence from its frame numbers' digits: 0001 -> 4, 998..1001 -> none.

    Frames past the padding (10000 in a #### sequence) have more digits, so the shortest width
    decides; unpadded numbers give 0 unless every one has four digits or more.
    """
    shortest = min(len(d) for d in digits)
    if any(len(d) > 1 and d.startswith("0") for d in digits) or shortest >= 4:
        return shortest
    return 0


def select_frames(
    seq: FrameSequence, requested: Sequence[int] | None, allow_gaps: bool
) -> list[int]:
    """The frames to process: ``requested`` (or all), checked for gaps.

    Without ``allow_gaps`` a missing frame is an error that names it, lists what exists and
    says how to proceed; with it, missing frames are skipped (the temporal window mirrors
    around them).
    """
    have = set(seq.frames)
    wanted = list(requested) if requested else list(range(seq.first, seq.last + 1))
    chosen = [f for f in wanted if f in have]
    if not chosen:
        raise SequenceError(
            f"none of the requested frames {format_ranges(wanted)} exist in "
            f"{seq.pattern.display()} (found {format_ranges(seq.frames)}); pass --frames "
            "within what was found"
        )
    missing = [f for f in wanted if f not in have]
    if missing and not allow_gaps:
        what = (
            f"frame {missing[0]} is"
            if len(missing) == 1
            else f"frames {format_ranges(missing)} are"
        )
        fix = (
            "pass --allow-gaps to skip them, or --frames within what was found"
            if requested
            else "pass --frames or --allow-gaps"
        )
        raise SequenceError(
            f"{what} missing from {seq.pattern.display()} (found {format_ranges(seq.frames)}); "
            + fix
        )
    return chosen
