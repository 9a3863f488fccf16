"""Progress for people (a bar with frames per second) and for programs (JSON lines).

``json`` mode writes one object per line to stdout, flushed, for the Nuke plugin and farm
wrappers: ``{"event": "start"|"frame"|"recompute"|"warning"|"done"|"error"|"message", ...}``.
``bar`` writes to stderr: a redrawn line on a terminal, a line every 10% otherwise, headed by
the pass (``detect``, or ``sensor`` for the shot-level pass, whose frame events carry its own
counts instead of ``detections``). ``none``
writes no progress. Warnings reach every mode: a ``warning`` event in ``json``, a
``warning: ...`` line on stderr in ``bar`` and ``none``.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any, TextIO

MODES = ("bar", "json", "none")


class Progress:
    """Reports a run's progress in one of :data:`MODES`."""

    def __init__(self, mode: str = "bar", stream: TextIO | None = None) -> None:
        if mode not in MODES:
            raise ValueError(f"progress mode must be one of {MODES}; got {mode!r}")
        self.mode = mode
        self.stream = stream or (sys.stdout if mode == "json" else sys.stderr)
        self.total = 0
        self.done = 0
        self.label = "detect"
        self._t0 = time.perf_counter()
        self._last_decile = -1
        self.warnings: list[str] = []  # every warning given, once each

    def _emit(self, event: str, **fields: Any) -> None:
        print(json.dumps({"event": event, **fields}), file=self.stream, flush=True)

    def start(self, total: int, skipped: int = 0, label: str = "detect", **info: Any) -> None:
        """``total`` frames to go; ``label`` names the pass on the bar and in JSON (``pass``)."""
        self.total, self.done, self.label = total, 0, label
        self._t0 = time.perf_counter()
        if self.mode == "json":
            self._emit("start", total=total, skipped=skipped, **{"pass": label}, **info)
            return
        if self.mode == "bar" and info.get("summary"):
            self.message(str(info["summary"]))
        if self.mode == "bar" and skipped:
            self.message(f"resuming: {skipped} frame(s) already done, {total} to go")

    def shrink(self, skipped: int) -> None:
        """``skipped`` of the announced frames turned out done already (parallel resume)."""
        if skipped <= 0:
            return
        self.total = max(self.done, self.total - skipped)
        self.message(f"resuming: {skipped} frame(s) already done")

    def fps(self) -> float:
        elapsed = time.perf_counter() - self._t0
        return self.done / elapsed if elapsed > 0 else 0.0

    def frame(self, frame: int, detections: int) -> None:
        """A frame of ``detect`` is done, with its number of detections."""
        self.step(frame, detections=detections)

    def step(self, frame: int, **counts: Any) -> None:
        """A frame of the pass is done; ``counts`` are what the pass counts in it."""
        self.done += 1
        fps = self.fps()
        if self.mode == "json":
            fields = {"frame": frame, "done": self.done, "total": self.total, **counts}
            self._emit("frame", **fields, fps=round(fps, 3))
        elif self.mode == "bar":
            self._draw(fps)

    def _draw(self, fps: float) -> None:
        frac = self.done / self.total if self.total else 1.0
        eta = (self.total - self.done) / fps if fps > 0 else 0.0
        bar = "#" * int(frac * 30)
        line = f"{self.label} {self.done}/{self.total} [{bar:<30}] {fps:5.2f} fps  eta {eta:5.0f}s"
        if self.stream.isatty():
            end = "\n" if self.done == self.total else ""
            print("\r" + line, end=end, file=self.stream, flush=True)
        elif int(frac * 10) != self._last_decile:
            self._last_decile = int(frac * 10)
            print(line, file=self.stream, flush=True)

    def message(self, text: str) -> None:
        if self.mode == "json":
            self._emit("message", text=text)
        elif self.mode == "bar":
            print(text, file=self.stream, flush=True)

    def warning(self, text: str, code: str = "warning") -> None:
        """Something the user must know about the result; shown in every mode, once."""
        if text in self.warnings:
            return
        self.warnings.append(text)
        if self.mode == "json":
            self._emit("warning", code=code, message=text)
        else:  # none hides progress, never warnings
            stream = sys.stderr if self.mode == "none" else self.stream
            print(f"hotpixel: warning: {text}", file=stream, flush=True)

    def recompute(self, reasons: dict[str, list[int]], text: str) -> None:
        """Frames done before that are computed again, by reason (``text`` says it for people)."""
        if self.mode == "json":
            frames = sorted(f for fs in reasons.values() for f in fs)
            self._emit("recompute", count=len(frames), reasons=reasons, text=text)
        elif self.mode == "bar":
            self.message(text)

    def finish(self, **summary: Any) -> None:
        if self.mode == "json":
            self._emit("done", **summary)

    def error(self, text: str, code: int) -> None:
        if self.mode == "json":
            self._emit("error", message=text, exit_code=code)
