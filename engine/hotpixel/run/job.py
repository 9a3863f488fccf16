"""What a detection run is asked to do, what it hands back, and which frames it touches."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from hotpixel.errors import SequenceError
from hotpixel.io.sequence import FrameSequence, format_ranges, select_frames
from hotpixel.params import DetectParams


@dataclass
class DetectJob:
    """One detection run's inputs (what the CLI and the Nuke job file describe)."""

    pattern: str
    out_dir: str
    params: DetectParams = field(default_factory=DetectParams)
    frames: Sequence[int] | None = None
    exclude: Sequence[int] = ()  # frames treated as missing: never read, never processed
    allow_gaps: bool = False
    force: bool = False
    with_plate: bool = False
    workers: int = 1  # > 1: chunks run as that many processes (hotpixel.run.parallel)


@dataclass
class RunResult:
    report: dict[str, Any]
    report_path: str
    processed: int
    skipped: int
    recomputed: dict[str, list[int]] = field(default_factory=dict)  # reason -> frames
    rethresholded: int = 0  # of ``processed``: found again in stored maps, detector not run


def job_targets(seq: FrameSequence, job: DetectJob) -> list[int]:
    """The frames ``job`` processes: its ``frames`` (or all) less ``exclude``, gaps checked.

    A range lying wholly inside a hole of the shot (missing with ``allow_gaps``, or excluded)
    gives no frames rather than an error: a farm chunk that falls in a gap has nothing to do.
    """
    if not job.exclude and not job.allow_gaps:
        return select_frames(seq, job.frames, job.allow_gaps)
    wanted = list(job.frames or range(seq.first, seq.last + 1))
    kept = [f for f in wanted if f not in set(job.exclude)]
    inside = seq.first < min(wanted) and max(wanted) < seq.last
    if not any(f in seq.paths for f in kept):
        if inside:
            return []
        if not kept:
            raise SequenceError(f"--exclude leaves none of the frames {format_ranges(wanted)}")
    return select_frames(seq, kept, job.allow_gaps)


def context_frames(seq: FrameSequence, targets: list[int]) -> list[int]:
    """Frames windows may use: all that exist, except those left out inside the targets' span.

    Frames beyond the first and last target are read as context (a chunk then equals the whole
    shot); a frame the user left out between them (``--frames 1001-1004,1006-1010``) is treated
    as missing, so a damaged frame can be stepped over.
    """
    if not targets:
        return []
    first, last, chosen = targets[0], targets[-1], set(targets)
    return [f for f in seq.frames if not (first < f < last and f not in chosen)]
