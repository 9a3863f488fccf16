"""One shot on one workstation, in parallel: chunks run as separate processes, then merge.

``hotpixel detect --workers N`` splits the frames into N contiguous chunks and runs each as
``python -m hotpixel detect ... --frames CHUNK --progress json`` into the same output folder,
exactly as a render farm would run them. Each chunk reads the frames around it for temporal
context, so the chunks' outputs equal one run's; the report is merged when all are done.
Cancelling (Ctrl-C) stops every chunk; finished frames stay usable and a rerun resumes.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import tempfile
import threading
from dataclasses import dataclass, field
from typing import IO, Any

from hotpixel.errors import ChunkError, UsageError
from hotpixel.io.sequence import discover, format_ranges
from hotpixel.outputs.merge import merge_report
from hotpixel.progress import Progress
from hotpixel.run.chunks import chunk_command, frame_spec, left_out, split_chunks
from hotpixel.run.detect import announce_report, run_detect
from hotpixel.run.job import DetectJob, RunResult, job_targets
from hotpixel.run.layout import check_out_folder

THREADS_ENV = "HOTPIXEL_THREADS"  # inference threads per process (model_file reads it)


@dataclass
class _Chunk:
    frames: list[int]
    process: subprocess.Popen[str]
    stderr: IO[str]
    skipped: int = 0
    error: str = ""
    fingerprint: str = ""
    recomputed: dict[str, list[int]] = field(default_factory=dict)


def detect(job: DetectJob, progress: Progress | None = None) -> RunResult:
    """Run ``job``: in this process, or as ``job.workers`` chunk processes, then merged."""
    if job.workers < 1:
        raise UsageError(f"--workers must be at least 1; got {job.workers}")
    return run_parallel(job, progress) if job.workers > 1 else run_detect(job, progress)


def run_parallel(job: DetectJob, progress: Progress | None = None) -> RunResult:
    """Run ``job`` as ``job.workers`` chunk processes, then merge their report."""
    progress = progress or Progress("none")
    seq = discover(job.pattern)
    targets = job_targets(seq, job)
    check_out_folder(job.out_dir, seq)
    chunks = split_chunks(targets, job.workers)
    exclude = left_out(seq, targets, job)
    env = {**os.environ, THREADS_ENV: str(max(1, (os.cpu_count() or 1) // len(chunks)))}
    progress.start(len(targets), frames=format_ranges(targets), workers=len(chunks))
    events: queue.Queue[tuple[int, dict[str, Any] | None]] = queue.Queue()
    running: list[_Chunk] = []
    try:
        for i, frames in enumerate(chunks):
            running.append(_start(i, job, frames, exclude, env, events))
        _follow(running, events, progress)
    except BaseException:
        for c in running:
            if c.process.poll() is None:
                c.process.terminate()
        for c in running:
            c.process.wait()
        raise
    finally:
        for c in running:
            c.stderr.close()
    _raise_if_failed(running)
    fp = next((c.fingerprint for c in running if c.fingerprint), None)
    report = merge_report(job.out_dir, expect=targets, fp=fp)
    report_path = announce_report(progress, report, job.out_dir, len(targets), fp)
    skipped = sum(c.skipped for c in running)
    return RunResult(report, report_path, len(targets) - skipped, skipped, _recomputed(running))


def _raise_if_failed(running: list[_Chunk]) -> None:
    """:class:`ChunkError` for the first chunk that failed, with its last message."""
    failed = [c for c in running if c.process.returncode != 0]
    if not failed:
        return
    first = failed[0]
    others = f" ({len(failed) - 1} other chunk(s) failed too)" if len(failed) > 1 else ""
    raise ChunkError(
        f"chunk {format_ranges(first.frames)} failed (exit {first.process.returncode}): "
        f"{first.error}{others}; finished frames are kept, rerun to resume",
        first.process.returncode,
    )


def _recomputed(running: list[_Chunk]) -> dict[str, list[int]]:
    """Reason -> frames computed again, over all chunks."""
    recomputed: dict[str, list[int]] = {}
    for c in running:
        for reason, frames in c.recomputed.items():
            recomputed[reason] = sorted([*recomputed.get(reason, []), *frames])
    return recomputed


def _start(
    index: int,
    job: DetectJob,
    frames: list[int],
    exclude: list[int],
    env: dict[str, str],
    events: queue.Queue[tuple[int, dict[str, Any] | None]],
) -> _Chunk:
    stderr = tempfile.TemporaryFile("w+", encoding="utf-8")  # noqa: SIM115 - run_parallel closes it
    process = subprocess.Popen(
        chunk_command(job, frame_spec(frames), exclude),
        stdout=subprocess.PIPE,
        stderr=stderr,
        stdin=subprocess.DEVNULL,
        text=True,
        encoding="utf-8",
        env=env,
    )
    threading.Thread(
        target=_pump, args=(index, process, events), name=f"hotpixel-chunk-{index}", daemon=True
    ).start()
    return _Chunk(frames, process, stderr)


def _pump(
    index: int,
    process: subprocess.Popen[str],
    events: queue.Queue[tuple[int, dict[str, Any] | None]],
) -> None:
    """Forward one chunk's JSON progress lines; ``None`` marks its end."""
    assert process.stdout is not None
    for line in process.stdout:
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if isinstance(event, dict):
            events.put((index, event))
    process.wait()
    events.put((index, None))


def _follow(
    running: list[_Chunk],
    events: queue.Queue[tuple[int, dict[str, Any] | None]],
    progress: Progress,
) -> None:
    open_chunks = len(running)
    told = False  # the run's one-line summary, from the first chunk that starts
    while open_chunks:
        index, event = events.get()
        chunk = running[index]
        if event is None:
            open_chunks -= 1
            if chunk.process.returncode and not chunk.error:
                chunk.stderr.seek(0)
                lines = [ln.strip() for ln in chunk.stderr if ln.strip()]
                chunk.error = lines[-1] if lines else "no message"
            continue
        kind = event.get("event")
        if kind == "start":
            chunk.skipped = int(event.get("skipped", 0))
            progress.shrink(chunk.skipped)
            if not told and event.get("summary"):
                progress.message(f"{event['summary']}, {len(running)} worker processes")
                told = True
        elif kind == "frame":
            progress.frame(int(event["frame"]), int(event.get("detections", 0)))
        elif kind == "warning":  # each chunk warns of the same flags: Progress says it once
            progress.warning(str(event.get("message", "")), str(event.get("code", "warning")))
        elif kind == "recompute":
            chunk.recomputed = {str(k): list(v) for k, v in dict(event.get("reasons", {})).items()}
            progress.recompute(chunk.recomputed, str(event.get("text", "")))
        elif kind == "error":
            chunk.error = str(event.get("message", ""))
        elif kind == "done":
            chunk.fingerprint = str(event.get("fingerprint", ""))
