"""Many shots in one go: a shot list in, one status table out, rerunnable.

The list is a text file (one plate pattern per line, optionally followed by a frame range; a
line starting with ``#`` is a comment) or a CSV with a header holding ``pattern`` and optionally
``name``, ``out`` and ``frames``. Each shot is detected into ``ROOT/<name>`` (or its ``out``);
one shot's failure is recorded with its error and the others go on. The status table is
rewritten atomically after every shot, so an interrupted batch shows where it stopped, and a
rerun redoes failed shots while finished frames of the others are skipped by the usual resume.
"""

from __future__ import annotations

import csv
import io
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hotpixel.errors import HotPixelError, InputError
from hotpixel.io.atomic import write_text
from hotpixel.io.sequence import parse_frame_range, parse_pattern
from hotpixel.params import DetectParams
from hotpixel.progress import Progress
from hotpixel.run.job import DetectJob, RunResult

STATUS_COLUMNS = (
    "shot",
    "status",
    "frames",
    "detections",
    "frames_with_detections",
    "exit_code",
    "error",
    "report",
    "seconds",
    "pattern",
)


@dataclass(frozen=True)
class Shot:
    name: str
    pattern: str
    out: str
    frames: tuple[int, ...] | None = None


@dataclass
class ShotStatus:
    shot: Shot
    status: str = "pending"  # pending | done | failed | interrupted
    frames: int = 0
    detections: int = 0
    frames_with_detections: int = 0
    exit_code: int = 0
    error: str = ""
    report: str = ""
    seconds: float = 0.0

    def row(self) -> dict[str, Any]:
        return {
            "shot": self.shot.name,
            "status": self.status,
            "frames": self.frames,
            "detections": self.detections,
            "frames_with_detections": self.frames_with_detections,
            "exit_code": self.exit_code,
            "error": self.error,
            "report": self.report,
            "seconds": f"{self.seconds:.1f}",
            "pattern": self.shot.pattern,
        }


@dataclass
class BatchOptions:
    params: DetectParams = field(default_factory=DetectParams)
    allow_gaps: bool = False
    force: bool = False
    workers: int = 1


def read_shot_list(path: str, root: str) -> list[Shot]:
    """The shots of ``path`` (text or CSV), with outputs under ``root`` unless given."""
    try:
        with open(path, encoding="utf-8-sig") as fh:
            text = fh.read()
    except OSError as exc:
        raise InputError(f"cannot read the shot list {path!r} ({exc.strerror})") from exc
    base = os.path.dirname(os.path.abspath(path))
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.strip().startswith("#")]
    if not lines:
        raise InputError(f"the shot list {path!r} names no shots; put one plate pattern per line")
    first = lines[0]
    is_csv = path.lower().endswith(".csv") or "pattern" in [
        c.strip().lower() for c in first.split(",")
    ]
    rows = _csv_rows("\n".join(lines), path) if is_csv else _text_rows(text, path)
    if not rows:
        raise InputError(f"the shot list {path!r} names no shots; put one plate pattern per line")
    shots: list[Shot] = []
    seen: dict[str, int] = {}
    for line, row in rows:
        pattern = row["pattern"]
        if not os.path.isabs(pattern):
            pattern = os.path.join(base, pattern)  # relative to the list, not to the caller
        name = row.get("name") or _shot_name(pattern)
        seen[name] = seen.get(name, 0) + 1
        if seen[name] > 1:
            name = f"{name}_{seen[name]}"
        try:
            frames = tuple(parse_frame_range(row["frames"])) if row.get("frames") else None
        except HotPixelError as exc:
            raise InputError(f"{path!r} line {line}: {exc}") from exc
        out = row.get("out") or os.path.join(root, name)
        shots.append(Shot(name, pattern, os.path.abspath(out), frames))
    return shots


def _text_rows(text: str, path: str) -> list[tuple[int, dict[str, str]]]:
    rows = []
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):  # whole-line comments; patterns hold '#'
            continue
        parts = line.rsplit(None, 1)
        if len(parts) == 2 and re.fullmatch(r"[-\d,]+", parts[1]):
            rows.append((n, {"pattern": parts[0], "frames": parts[1]}))
        else:
            rows.append((n, {"pattern": line}))
    return rows


def _csv_rows(text: str, path: str) -> list[tuple[int, dict[str, str]]]:
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip().lower() for h in reader.fieldnames or []]
    if "pattern" not in header:
        raise InputError(
            f"the shot list {path!r} has no 'pattern' column (found {', '.join(header)}); "
            "its header needs pattern[,name,out,frames]"
        )
    rows = []
    for n, row in enumerate(reader, 2):
        clean = {k.strip().lower(): (v or "").strip() for k, v in row.items() if k}
        if clean.get("pattern") and not clean["pattern"].startswith("#"):
            rows.append((n, clean))
    return rows


def _shot_name(pattern: str) -> str:
    try:
        prefix = parse_pattern(pattern).prefix
    except HotPixelError:
        prefix = pattern
    stem = os.path.basename(prefix.rstrip("/\\")).rstrip("._-")
    return stem or os.path.basename(os.path.dirname(prefix)) or "shot"


def run_batch(
    shots: list[Shot],
    options: BatchOptions,
    status_path: str,
    progress: Callable[[Shot], Progress],
    announce: Callable[[int, ShotStatus], None] | None = None,
) -> list[ShotStatus]:
    """Detect every shot in order; keep going past failures; keep ``status_path`` current."""
    from hotpixel.run.parallel import detect  # the run's imports stay out of list parsing

    table = [ShotStatus(s) for s in shots]
    write_status(status_path, table)
    for i, entry in enumerate(table):
        shot = entry.shot
        job = DetectJob(
            shot.pattern,
            shot.out,
            params=options.params,
            frames=shot.frames,
            allow_gaps=options.allow_gaps,
            force=options.force,
            workers=options.workers,
        )
        t0 = time.perf_counter()
        try:
            result: RunResult = detect(job, progress(shot))
        except HotPixelError as exc:
            entry.status, entry.exit_code, entry.error = "failed", exc.exit_code, str(exc)
        except KeyboardInterrupt:
            entry.status, entry.exit_code, entry.error = "interrupted", 130, "interrupted"
            entry.seconds = time.perf_counter() - t0
            write_status(status_path, table)
            raise
        else:
            summary = result.report["summary"]
            entry.status = "done"
            entry.frames = summary["frames_processed"]
            entry.detections = summary["detections"]
            entry.frames_with_detections = summary["frames_with_detections"]
            entry.report = result.report_path
        entry.seconds = time.perf_counter() - t0
        write_status(status_path, table)
        if announce is not None:
            announce(i, entry)
    return table


def write_status(path: str, table: list[ShotStatus]) -> None:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=STATUS_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for entry in table:
        writer.writerow(entry.row())
    write_text(path, buf.getvalue())


def format_table(table: list[ShotStatus]) -> str:
    """The status table for people: one line per shot."""
    width = max([len(e.shot.name) for e in table] + [4])
    lines = [f"{'shot':<{width}}  {'status':<11} {'frames':>6} {'hits':>6}  error"]
    for e in table:
        lines.append(
            f"{e.shot.name:<{width}}  {e.status:<11} {e.frames:>6} {e.detections:>6}  {e.error}"
        )
    return "\n".join(lines)
