"""Temporal windows over a sequence, and the bounded read-ahead buffer that feeds them.

A window for frame t holds frames t-2..t+2 (for length 5). Where that crosses the end of a
contiguous run of frames (the sequence's ends, a gap), the missing side is mirrored about the
centre: at the start, t-2, t-1, t, t+1, t+2 becomes t+2, t+1, t, t+1, t+2. The centre frame is
never used as its own neighbour unless the run is a single frame: a one-frame defect repeated
in a neighbour slot would look persistent.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

import numpy as np

from hotpixel.io.sequence import runs

Item = TypeVar("Item")


@dataclass(frozen=True)
class Window:
    """The frames a detector sees for one centre frame.

    ``frames`` are ``(H, W, C)`` float32 arrays in window order (length T), ``numbers`` their
    frame numbers, ``centre`` the index of the frame being judged. ``has_context`` is False when
    no neighbour differs from the centre (a one-frame run): detectors must then use spatial
    evidence only.
    """

    frames: tuple[np.ndarray, ...]
    numbers: tuple[int, ...]
    centre: int

    @property
    def has_context(self) -> bool:
        return any(n != self.numbers[self.centre] for n in self.numbers)

    def array(self) -> np.ndarray:
        """The window stacked as ``(T, H, W, C)`` float32."""
        return np.stack(self.frames)


def window_frames(frame: int, segment: tuple[int, int], length: int = 5) -> tuple[int, ...]:
    """Frame numbers of the window centred on ``frame`` inside its contiguous ``segment``.

    A neighbour t+d outside the segment is replaced by t-d (mirrored about the centre), so the
    centre never stands in for a neighbour: at the start t+2, t+1, t, t+1, t+2; on the second
    frame t+2, t-1, t, t+1, t+2. Where neither side exists (runs shorter than the window), the
    nearest other frame of the run is used; only a one-frame run repeats the centre.
    """
    half = length // 2
    lo, hi = segment
    out = []
    for d in range(-half, half + 1):
        if d == 0 or lo <= frame + d <= hi:
            out.append(frame + d)
        elif lo <= frame - d <= hi:
            out.append(frame - d)
        else:
            out.append(_nearest_other(frame, frame + d, lo, hi))
    return tuple(out)


def _nearest_other(centre: int, wanted: int, lo: int, hi: int) -> int:
    """The frame of [lo, hi] closest to ``wanted`` that is not ``centre`` (if there is one)."""
    if lo == hi:
        return centre
    candidate = min(max(wanted, lo), hi)
    if candidate != centre:
        return candidate
    return centre + 1 if centre + 1 <= hi else centre - 1


def plan_windows(
    available: Sequence[int], targets: Sequence[int], length: int = 5
) -> list[tuple[int, tuple[int, ...]]]:
    """For each target frame, its window's frame numbers.

    ``available`` are all frames that exist (context may come from outside ``targets``, so a
    chunk of a shot sees the same windows as the whole shot).
    """
    segments = runs(available)
    plan = []
    for t in targets:
        seg = next(s for s in segments if s[0] <= t <= s[1])
        plan.append((t, window_frames(t, seg, length)))
    return plan


class ReadAhead(Generic[Item]):
    """Decode frames in a background thread, keep each only while a window still needs it.

    Memory is bounded by ``window length + lookahead`` frames whatever the sequence length.
    Each frame is decoded once. An exception raised while reading a frame is re-raised in the
    consumer when that frame is needed.
    """

    def __init__(
        self,
        plan: Sequence[tuple[int, tuple[int, ...]]],
        load: Callable[[int], Item],
        lookahead: int = 2,
    ) -> None:
        self._plan = list(plan)
        self._load = load
        order: list[int] = []
        self._last_use: dict[int, int] = {}
        for i, (_, numbers) in enumerate(self._plan):
            for n in sorted(set(numbers)):
                if n not in self._last_use:
                    order.append(n)
                self._last_use[n] = i
        self._order = order
        width = max((len(set(n)) for _, n in self._plan), default=1)
        self._capacity = width + lookahead
        self._cache: dict[int, Item | BaseException] = {}
        self._cond = threading.Condition()
        self._waiting = False
        self._stop = False
        self._thread = threading.Thread(target=self._run, name="hotpixel-read", daemon=True)

    def _run(self) -> None:
        for n in self._order:
            with self._cond:
                while len(self._cache) >= self._capacity and not self._waiting and not self._stop:
                    self._cond.wait()
                if self._stop:
                    return
            try:
                item: Item | BaseException = self._load(n)
            except BaseException as exc:  # handed to the consumer, which re-raises it
                item = exc
            with self._cond:
                self._cache[n] = item
                self._cond.notify_all()

    def _get(self, n: int) -> Item:
        with self._cond:
            while n not in self._cache:
                self._waiting = True
                self._cond.notify_all()
                self._cond.wait()
            self._waiting = False
            item = self._cache[n]
        if isinstance(item, BaseException):
            raise item
        return item

    def windows(self) -> Iterator[tuple[int, tuple[int, ...], tuple[Item, ...]]]:
        """Yield ``(frame, window frame numbers, loaded items)`` in plan order."""
        self._thread.start()
        try:
            for i, (frame, numbers) in enumerate(self._plan):
                yield frame, numbers, tuple(self._get(n) for n in numbers)
                with self._cond:
                    for n in set(numbers):
                        if self._last_use[n] <= i:
                            self._cache.pop(n, None)
                    self._cond.notify_all()
        finally:
            self.close()

    def close(self) -> None:
        with self._cond:
            self._stop = True
            self._cache.clear()
            self._cond.notify_all()
        if self._thread.is_alive():
            self._thread.join(timeout=10)
