"""What a farm runs for one shot: chunk commands with the manager's frame tokens, then merge.

Each chunk is ``python -m hotpixel detect PATTERN --out OUT --frames START-END`` with the whole
run's parameters; a chunk reads the frames around it for temporal context, so the chunks'
outputs equal one run's, in whatever order the farm runs them. The merge task checks that every
frame of the shot is done (``hotpixel merge OUT --expect FIRST-LAST``) and fails otherwise.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field

from hotpixel.detect.parallel import frame_spec, left_out
from hotpixel.detect.run import DetectJob, job_targets
from hotpixel.errors import UsageError
from hotpixel.io.sequence import FrameSequence, discover
from hotpixel.params import DetectParams, to_flags


@dataclass(frozen=True)
class FarmJob:
    """One shot's farm job, with absolute paths (farm hosts do not share our working folder)."""

    pattern: str
    out_dir: str
    frames: tuple[int, ...]  # the frames to finish (sorted; holes are gaps or left out)
    exclude: tuple[int, ...] = ()  # frames inside the range that no task may read
    chunk: int = 10
    name: str = "hotpixel"
    params: DetectParams = field(default_factory=DetectParams)
    allow_gaps: bool = False
    with_plate: bool = False
    python: str = sys.executable  # the engine's interpreter on the farm hosts

    @property
    def first(self) -> int:
        return self.frames[0]

    @property
    def last(self) -> int:
        return self.frames[-1]

    @property
    def frame_range(self) -> str:
        return f"{self.first}-{self.last}"


def plan_job(
    pattern: str,
    out_dir: str,
    frames: list[int] | None = None,
    exclude: list[int] | None = None,
    **options: object,
) -> FarmJob:
    """Check the shot here (frames exist, range valid) and describe its farm job."""
    chunk = int(options.get("chunk", 10))  # type: ignore[call-overload]
    if chunk < 1:
        raise UsageError(f"--chunk must be at least 1; got {chunk}")
    seq: FrameSequence = discover(pattern)
    allow_gaps = bool(options.get("allow_gaps", False))
    local = DetectJob(pattern, out_dir, frames=frames, exclude=exclude or (), allow_gaps=allow_gaps)
    targets = job_targets(seq, local)
    hole = left_out(seq, targets, local)
    name = str(options.get("name") or _job_name(seq, targets))
    fields = {k: v for k, v in options.items() if k in ("params", "with_plate", "python")}
    return FarmJob(
        pattern=os.path.abspath(seq.pattern.display()),
        out_dir=os.path.abspath(out_dir),
        frames=tuple(targets),
        exclude=tuple(f for f in hole if targets[0] < f < targets[-1]),
        chunk=chunk,
        name=name,
        allow_gaps=allow_gaps,
        **fields,  # type: ignore[arg-type]
    )


def _job_name(seq: FrameSequence, targets: list[int]) -> str:
    stem = os.path.basename(seq.pattern.prefix).rstrip("._-") or "shot"
    return f"hotpixel_{stem}_{targets[0]}-{targets[-1]}"


def engine_command(job: FarmJob) -> list[str]:
    return [job.python, "-m", "hotpixel"]


def detect_args(job: FarmJob, start: str, end: str) -> list[str]:
    """The chunk command; ``start``/``end`` are the manager's tokens for the chunk's frames."""
    cmd = [*engine_command(job), "detect", job.pattern, "--out", job.out_dir]
    cmd += ["--frames", f"{start}-{end}", "--progress", "bar", "--no-html"]
    cmd += to_flags(job.params)
    if job.exclude:
        cmd += ["--exclude", frame_spec(job.exclude)]
    if job.allow_gaps:
        cmd.append("--allow-gaps")
    if job.with_plate:
        cmd.append("--with-plate")
    return cmd


def merge_args(job: FarmJob) -> list[str]:
    """The last task: fail unless every frame of the shot is done, then write the report."""
    return [*engine_command(job), "merge", job.out_dir, "--expect", frame_spec(job.frames)]


def task_ranges(first: int, last: int, chunk: int) -> list[tuple[int, int]]:
    """The (start, end) of each task a manager cuts from ``first-last`` by ``chunk``."""
    return [(s, min(s + chunk - 1, last)) for s in range(first, last + 1, chunk)]
