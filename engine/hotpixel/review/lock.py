"""Who else reviews this folder: ``OUT/review.lock``, with user, host and process.

A review writes every verdict to ``labels.json`` at once, so two reviews of one folder would
overwrite each other's verdicts. While a review is open it holds ``OUT/review.lock``::

    {"user": "anna", "host": "qc-03", "pid": 4242, "started": "2026-12-07T15:30:00+00:00",
     "refreshed": 1796650200.0}

and refreshes ``refreshed`` (seconds since the epoch) every :data:`REFRESH_S` seconds. A second
review of the folder is told who holds it. A lock is stale, and taken over, when its process is
gone (same host, where the process can be asked), or when it was not refreshed for
:data:`STALE_S` seconds (another host, or a machine that crashed).
"""

from __future__ import annotations

import datetime
import json
import os
import socket
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from hotpixel.io.atomic import write_text
from hotpixel.outputs.labels import user_name

LOCK_NAME = "review.lock"
REFRESH_S = 60
STALE_S = 10 * 60


@dataclass(frozen=True)
class Holder:
    """A review that holds (or held) a folder."""

    user: str
    host: str
    pid: int
    started: str
    refreshed: float

    def describe(self) -> str:
        return f"{self.user} on {self.host} (process {self.pid}, since {self.started})"


def lock_path(out_dir: str) -> str:
    return os.path.join(out_dir, LOCK_NAME)


def read_lock(out_dir: str) -> Holder | None:
    """The folder's lock, or None when there is none or it is not one (a broken lock protects
    nothing: it is taken over)."""
    try:
        with open(lock_path(out_dir), encoding="utf-8") as fh:
            data: dict[str, Any] = json.load(fh)
        return Holder(
            str(data["user"]),
            str(data["host"]),
            int(data["pid"]),
            str(data["started"]),
            float(data["refreshed"]),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def process_alive(pid: int) -> bool | None:
    """Whether process ``pid`` of this machine runs; None where that cannot be asked (Windows:
    its ``os.kill`` would end the process)."""
    if sys.platform.startswith("win"):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    return True


def is_stale(
    holder: Holder,
    now: float | None = None,
    host: str | None = None,
    alive: Callable[[int], bool | None] = process_alive,
) -> bool:
    """Whether ``holder`` no longer reviews (module docstring)."""
    now = time.time() if now is None else now
    if (host or socket.gethostname()) == holder.host:
        running = alive(holder.pid)
        if running is not None:
            return not running
    return now - holder.refreshed > STALE_S


class ReviewLock:
    """This review's claim on ``out_dir``: :meth:`acquire` it, :meth:`refresh` it now and then,
    :meth:`release` it at the end."""

    def __init__(self, out_dir: str) -> None:
        self.out_dir = out_dir
        self.mine: Holder | None = None
        self.stale: Holder | None = None  # a lock left by a review that ended uncleanly

    def acquire(self) -> Holder | None:
        """Hold the folder; return the live review that holds it already (the folder stays
        theirs, and this review is told), else None. A stale lock is taken over."""
        other = read_lock(self.out_dir)
        if other is not None and not is_stale(other):
            return other
        self.stale = other
        started = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
        self.mine = Holder(user_name(), socket.gethostname(), os.getpid(), started, time.time())
        self._write()
        return None

    def _write(self) -> None:
        if self.mine is not None:
            write_text(lock_path(self.out_dir), json.dumps(asdict(self.mine)) + "\n")

    def refresh(self) -> None:
        """Say this review still runs (a lock not refreshed for STALE_S is taken over)."""
        if self.mine is not None and read_lock(self.out_dir) == self.mine:
            self.mine = Holder(**{**asdict(self.mine), "refreshed": time.time()})
            self._write()

    def release(self) -> None:
        """Remove the lock if it is still this review's."""
        if self.mine is not None and read_lock(self.out_dir) == self.mine:
            os.unlink(lock_path(self.out_dir))
        self.mine = None


def busy_warning(out_dir: str, other: Holder) -> str:
    """What to tell a reviewer who opens a folder that ``other`` reviews."""
    return (
        f"{out_dir} is being reviewed by {other.describe()}: both reviews save "
        f"{os.path.join(out_dir, 'labels.json')} and each save replaces the other's verdicts. "
        f"Close one of them, or, if that review has ended, delete {lock_path(out_dir)}"
    )
