"""A shot cut into chunks, and the one command that runs a chunk in a process of its own.

Both ``hotpixel detect --workers N`` (:mod:`hotpixel.run.parallel`) and the render farm's tasks
(:mod:`hotpixel.farm.job`) run :func:`chunk_command`, so a chunk runs with exactly the
parameters of the whole run wherever it runs. Each chunk reads the frames around it for
temporal context, so the chunks' outputs equal one run's.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from hotpixel.errors import UsageError
from hotpixel.io.sequence import FrameSequence, format_ranges
from hotpixel.params import to_flags
from hotpixel.run.job import DetectJob


def split_chunks(frames: Sequence[int], count: int) -> list[list[int]]:
    """``frames`` in at most ``count`` contiguous chunks of near-equal length, in order."""
    if count < 1:
        raise UsageError(f"--workers must be at least 1; got {count}")
    count = min(count, len(frames))
    size, extra = divmod(len(frames), count)
    chunks: list[list[int]] = []
    start = 0
    for i in range(count):
        end = start + size + (1 if i < extra else 0)
        chunks.append(list(frames[start:end]))
        start = end
    return chunks


def frame_spec(frames: Sequence[int]) -> str:
    """``1001-1046,1048-1100``: the compact ``--frames`` value of ``frames``."""
    return format_ranges(frames).replace(" ", "")


def left_out(seq: FrameSequence, targets: Sequence[int], job: DetectJob) -> list[int]:
    """Frames a chunk must not read as context: those the whole run treats as missing."""
    first, last, chosen = targets[0], targets[-1], set(targets)
    skipped = {f for f in seq.frames if first < f < last and f not in chosen}
    return sorted(skipped | set(job.exclude))


def chunk_command(
    job: DetectJob,
    frames: str,
    exclude: Sequence[int] = (),
    *,
    python: str = sys.executable,
    progress: str = "json",
) -> list[str]:
    """``python -m hotpixel detect`` for the frames ``frames`` of ``job``, as an argument list.

    ``frames`` is a ``--frames`` value: a chunk's :func:`frame_spec`, or a farm manager's
    tokens for a task's frames (``<STARTFRAME>-<ENDFRAME>``). ``exclude`` is the run's
    :func:`left_out` frames; ``progress`` the chunk's ``--progress`` (``json`` for a parent
    process that follows it, ``bar`` for a farm log). Every parameter of ``job.params`` is
    passed (:func:`hotpixel.params.to_flags`); the chunk writes no QC page or contact sheet,
    the merge does.
    """
    cmd = [python, "-m", "hotpixel", "detect", job.pattern, "--out", job.out_dir]
    cmd += ["--frames", frames, "--progress", progress, "--no-html", "--no-contact-sheet"]
    cmd += to_flags(job.params)
    if exclude:
        cmd += ["--exclude", frame_spec(exclude)]
    switches = {
        "--allow-gaps": job.allow_gaps,
        "--force": job.force,
        "--with-plate": job.with_plate,
    }
    return cmd + [flag for flag, on in switches.items() if on]
