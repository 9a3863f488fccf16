"""What a farm runs for one shot: chunk commands with the manager's frame tokens, then merge.

Each chunk is ``python -m hotpixel detect PATTERN --out OUT --frames START-END`` with the whole
run's parameters; a chunk reads the frames around it for temporal context, so the chunks'
outputs equal one run's, in whatever order the farm runs them. The merge task checks that every
frame of the shot is done (``hotpixel merge OUT --expect FIRST-LAST``) and fails otherwise.

Names (job, shot, show) follow one rule for every manager, OpenCue's, which is the strictest:
cuebot requires ``^[\\w.-]{3,}$`` (Java's ASCII ``\\w``), and its job-spec DTD makes the job name
an XML name token. A name derived from a plate is made to fit; a name given on the command line
that does not fit is refused.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import re
import sys
from dataclasses import dataclass, field

from hotpixel.errors import Gather, OutputError, UsageError
from hotpixel.io.sequence import FrameSequence, discover
from hotpixel.params import DetectParams
from hotpixel.run.chunks import chunk_command, frame_spec, left_out
from hotpixel.run.job import DetectJob, job_targets


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
    """Check the shot here (frames exist, range valid) and describe its farm job.

    Every problem found (chunk size, name, plate) is reported at once (:class:`Problems`).
    Paths are made absolute: the plate, the output folder, ``python`` when it names a file
    rather than a command on the hosts' PATH, and the ``model`` and ``ocio`` parameters.
    """
    found = Gather()
    chunk = int(options.get("chunk", 10))  # type: ignore[call-overload]
    if chunk < 1:
        found.add(UsageError(f"--chunk must be at least 1; got {chunk}"))
    given = str(options.get("name") or "")
    if given:
        found.check(check_name, "--name", given)
    allow_gaps = bool(options.get("allow_gaps", False))
    local = DetectJob(pattern, out_dir, frames=frames, exclude=exclude or (), allow_gaps=allow_gaps)
    planned = found.check(_targets, pattern, local)
    found.raise_any()
    assert planned is not None  # raise_any raised otherwise
    seq, targets, hole = planned
    name = given or _job_name(seq, targets)
    params = options.get("params", DetectParams())
    assert isinstance(params, DetectParams)
    return FarmJob(
        pattern=os.path.abspath(seq.pattern.display()),
        out_dir=os.path.abspath(out_dir),
        frames=tuple(targets),
        exclude=tuple(f for f in hole if targets[0] < f < targets[-1]),
        chunk=chunk,
        name=name,
        params=_absolute_params(params),
        allow_gaps=allow_gaps,
        with_plate=bool(options.get("with_plate", False)),
        python=_absolute_command(str(options.get("python") or sys.executable)),
    )


def _targets(pattern: str, local: DetectJob) -> tuple[FrameSequence, list[int], list[int]]:
    seq: FrameSequence = discover(pattern)
    targets = job_targets(seq, local)
    return seq, targets, left_out(seq, targets, local)


def _absolute_command(command: str) -> str:
    """``command`` as an absolute path when it names a file (``venv/bin/python``); a bare
    command name (``python3``) is left for each farm host's PATH to find."""
    return os.path.abspath(command) if os.sep in command or "/" in command else command


def _absolute_params(params: DetectParams) -> DetectParams:
    """``params`` with the file paths it holds (``model``, ``ocio``) made absolute; an OCIO
    ``ocio://`` URI is no path and is kept."""
    model = os.path.abspath(params.model) if params.model else ""
    ocio = params.ocio
    if ocio and "://" not in ocio:
        ocio = os.path.abspath(ocio)
    return dataclasses.replace(params, model=model, ocio=ocio)


# What a farm name may hold: cuebot's ``[\w.-]`` with Java's ASCII ``\w``. Every such character
# is also an XML name character, so a fitting name is a valid NMTOKEN for the DTD.
NAME_RULE = re.compile(r"[A-Za-z0-9_.-]{3,}")
_UNFIT = re.compile(r"[^A-Za-z0-9_.-]+")


def check_name(flag: str, name: str) -> str:
    """``name`` unchanged if it fits :data:`NAME_RULE`; otherwise a usage error naming ``flag``."""
    if NAME_RULE.fullmatch(name):
        return name
    suggestion = (_UNFIT.sub("_", name).strip("_") or "shot").ljust(3, "_")
    raise UsageError(
        f"{flag} {name!r} is not a name OpenCue accepts: use at least 3 of the letters A-Z and "
        f"a-z, the digits, '_', '.' and '-', for example {suggestion!r}"
    )


def fit_name(text: str) -> str:
    """``text`` with each run of characters a farm name may not hold replaced by ``_``.

    A text that had to change also gets 6 hex digits of its hash, so that two plates that differ
    only in such characters (``a b`` and ``a+b``) keep different job names: ``sh010`` stays
    ``sh010``, ``my shot+v2`` becomes ``my_shot_v2_`` and the hash. Length is not checked here.
    """
    fitted = _UNFIT.sub("_", text)
    if fitted == text:
        return text
    digest = hashlib.sha1(text.encode("utf-8")).hexdigest()[:6]
    return f"{fitted.strip('_') or 'shot'}_{digest}"


def _job_name(seq: FrameSequence, targets: list[int]) -> str:
    stem = os.path.basename(seq.pattern.prefix).rstrip("._-") or "shot"
    return f"hotpixel_{fit_name(stem)}_{targets[0]}-{targets[-1]}"


def check_priority(priority: int, lowest: int, highest: int, manager: str) -> int:
    """``priority`` unchanged if ``lowest <= priority <= highest``; otherwise a usage error."""
    if lowest <= priority <= highest:
        return priority
    raise UsageError(f"--priority {priority} is out of range: {manager} takes {lowest}-{highest}")


def engine_command(job: FarmJob) -> list[str]:
    return [job.python, "-m", "hotpixel"]


def detect_args(job: FarmJob, start: str, end: str) -> list[str]:
    """:func:`chunk_args` for ``start-end``: the manager's tokens for a task's first and last
    frame."""
    return chunk_args(job, f"{start}-{end}")


def chunk_args(job: FarmJob, frames: str) -> list[str]:
    """The chunk command (:func:`hotpixel.run.chunks.chunk_command`, as ``--workers`` runs it);
    ``frames`` is the manager's token for a task's frames, or a range made of its tokens."""
    run = DetectJob(
        job.pattern,
        job.out_dir,
        params=job.params,
        allow_gaps=job.allow_gaps,
        with_plate=job.with_plate,
    )
    return chunk_command(run, frames, job.exclude, python=job.python, progress="bar")


def merge_args(job: FarmJob, expect: str | None = None) -> list[str]:
    """The last task: fail unless every frame of the shot is done, then write the report.

    ``expect`` is the frames that must be done (default: the job's, as ``1001-1100``).
    """
    frames = frame_spec(job.frames) if expect is None else expect
    return [*engine_command(job), "merge", job.out_dir, "--expect", frames]


def task_ranges(first: int, last: int, chunk: int) -> list[tuple[int, int]]:
    """The (start, end) of each task a manager cuts from ``first-last`` by ``chunk``."""
    return [(s, min(s + chunk - 1, last)) for s in range(first, last + 1, chunk)]


def make_job_folder(folder: str) -> str:
    """``folder`` made if missing, as an absolute path; an :class:`OutputError` naming it and
    the fix when it cannot be."""
    folder = os.path.abspath(folder)
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as exc:
        raise OutputError(
            f"cannot create {folder!r} ({exc.strerror}); pass another --job-dir"
        ) from exc
    return folder
