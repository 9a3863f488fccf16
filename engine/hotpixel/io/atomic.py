"""Atomic output: write to a temporary file beside the target, then rename over it.

A crash or a cancel never leaves a half-written output under the final name, and a reader
(Nuke, a farm merge step) sees either the old file or the new one.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator

from hotpixel.errors import OutputError

# mkstemp makes 0600 files; outputs should get the usual permissions (farm and Nuke users read
# them). The umask is read once at import, before any writer thread exists.
_UMASK = os.umask(0)
os.umask(_UMASK)


@contextlib.contextmanager
def atomic_path(path: str) -> Iterator[str]:
    """Yield a temporary path (same folder, same extension) that becomes ``path`` on success.

    The extension is kept so that writers choosing a format by suffix (OpenImageIO) work.
    On any exception the temporary file is removed and ``path`` is untouched.
    """
    folder, name = os.path.split(os.path.abspath(path))
    _, ext = os.path.splitext(name)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=f".tmp{ext}", dir=folder)
    except OSError as exc:
        raise OutputError(
            f"cannot write in {folder!r} ({exc.strerror}); choose an output folder you can write to"
        ) from exc
    os.close(fd)
    try:
        yield tmp
        os.chmod(tmp, 0o666 & ~_UMASK)
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise OutputError(
            f"cannot write {path!r} ({exc.strerror or exc}); check free space, permissions "
            "and that no folder has the output's name"
        ) from exc
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def folder_lock(folder: str) -> Iterator[None]:
    """Hold an exclusive lock on ``folder`` (a ``.lock`` file in it) while the block runs.

    Separate processes writing one shot's chunks into the same folder take it to rebuild the
    shared report, so the last one to finish sees every finished frame. Where the platform has
    no ``fcntl`` (Windows) the block runs unlocked; ``hotpixel merge`` then repairs the report.
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    path = os.path.join(folder, ".lock")
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666 & ~_UMASK)
    except OSError as exc:
        raise OutputError(
            f"cannot create the lock file {path!r} ({exc.strerror}); pass an --out you can write to"
        ) from exc
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def ensure_folders(root: str, subfolders: tuple[str, ...]) -> None:
    """Create ``root/<sub>`` for each sub, writable, or raise :class:`OutputError` saying so."""
    for sub in subfolders:
        path = os.path.join(root, sub)
        try:
            os.makedirs(path, exist_ok=True)
        except OSError as exc:
            raise OutputError(
                f"cannot create output folder {path!r} ({exc.strerror}); pass --out with a "
                "folder you can write to"
            ) from exc
        if not os.access(path, os.W_OK):
            raise OutputError(f"output folder {path!r} is not writable; pass another --out")


def write_text(path: str, text: str) -> None:
    """Write UTF-8 text atomically."""
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(text)
