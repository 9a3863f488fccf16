"""The one error hierarchy of the engine.

Every error the engine raises on purpose derives from :class:`HotPixelError` and carries a
message that names the file, the frame and the fix. The CLI maps each family to an exit code.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

T = TypeVar("T")


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


class Problems(HotPixelError):
    """Several independent problems found by one check, reported together so that one run
    shows everything to fix; the exit code is that of the first problem."""

    def __init__(self, errors: Sequence[HotPixelError]) -> None:
        flat: list[HotPixelError] = []
        for error in errors:
            flat += error.errors if isinstance(error, Problems) else [error]
        lines = "".join(f"\n  - {error}" for error in flat)
        super().__init__(f"{len(flat)} problems, each to fix:{lines}")
        self.errors: list[HotPixelError] = flat
        self.exit_code = flat[0].exit_code


class Gather:
    """Runs independent checks and keeps their errors: ``value = found.check(fn, arg)`` is
    ``fn(arg)``, or None after keeping its error; :meth:`raise_any` then raises them all."""

    def __init__(self) -> None:
        self.errors: list[HotPixelError] = []

    def add(self, error: HotPixelError) -> None:
        self.errors.append(error)

    def check(self, fn: Callable[..., T], *args: Any) -> T | None:
        try:
            return fn(*args)
        except HotPixelError as exc:
            self.errors.append(exc)
            return None

    def raise_any(self) -> None:
        """Raise the one error kept as it is, several as :class:`Problems`; nothing if none."""
        if len(self.errors) == 1:
            raise self.errors[0]
        if self.errors:
            raise Problems(self.errors)
