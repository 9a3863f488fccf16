"""The one error hierarchy of the engine.

Every error the engine raises on purpose derives from :class:`HotPixelError` and carries a
message that names the file, the frame and the fix. The CLI maps each family to an exit code.
"""

from __future__ import annotations


class HotPixelError(Exception):
    """Root of every deliberate engine error."""

    exit_code = 1


class UsageError(HotPixelError):
    """The command line or a parameter is wrong (exit code 2)."""

    exit_code = 2


class InputError(HotPixelError):
    """A plate, pattern or frame cannot be used (exit code 3)."""

    exit_code = 3


class SequenceError(InputError):
    """The pattern matches no frames, frames are missing, or the range is wrong."""


class FrameReadError(InputError):
    """One frame could not be decoded or does not match the rest of the sequence."""

    def __init__(self, message: str, path: str = "", frame: int | None = None) -> None:
        super().__init__(message)
        self.path = path
        self.frame = frame


class OutputError(HotPixelError):
    """An output cannot be written, or writing it would touch an input (exit code 4)."""

    exit_code = 4


class ModelError(HotPixelError):
    """A detector or model file is missing, invalid or incompatible (exit code 5)."""

    exit_code = 5


class ChunkError(HotPixelError):
    """A chunk run in a separate process failed; carries that process's exit code."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code
