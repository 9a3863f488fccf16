"""Atomic output: write to a temporary file beside the target, then rename over it.

A crash or a cancel never leaves a half-written output under the final name, and a reader
(Nuke, a farm merge step) sees either the old file or the new one.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator

from .errors import OutputError

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


def write_text(path: str, text: str) -> None:
    """Write UTF-8 text atomically."""
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(text)
