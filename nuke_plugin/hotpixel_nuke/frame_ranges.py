"""Frame ranges as Nuke users type them: ``1001``, ``1001-1100`` and ``1001-1100x2``.

``AxN`` steps as Nuke's own ranges do (``nuke.FrameRange("1001-1010x3")`` is 1001, 1004, 1007,
1010): every Nth frame from the first, the last included only when the step lands on it. Every
place the plugin takes a range (farm ``--frames``, Nuke's ``-F``, the node's first/last/every
knobs) goes through :func:`parse`, and the job file gets :meth:`FrameRange.spec`.
"""

import collections
import re

from . import nuke_facts as facts
from .errors import PluginError

PATTERN = re.compile(rf"^(-?\d+)(?:-(-?\d+)(?:{facts.FRAME_STEP_MARK}(\d+))?)?$")
HOW = "write FIRST-LAST, a single frame, or FIRST-LASTxSTEP (e.g. 1001-1100x2)"


class FrameRange(collections.namedtuple("FrameRange", "first last step")):
    """``first``..``last`` inclusive, every ``step``-th frame from ``first`` (step >= 1)."""

    __slots__ = ()

    def frames(self):
        """The frames analysed, in order."""
        return list(range(self.first, self.last + 1, self.step))

    def span(self):
        """``(first, last)`` of the frames read, neighbours in between included."""
        return self.first, self.last

    def spec(self):
        """``"1001-1100x2"``, ``"1001-1100"`` or ``"1001"``: the text the job file carries."""
        if self.first == self.last:
            return str(self.first)
        text = f"{self.first}-{self.last}"
        return text + f"{facts.FRAME_STEP_MARK}{self.step}" if self.step > 1 else text


def make(first, last, step=1):
    """A checked :class:`FrameRange`; raises :class:`PluginError` naming what is wrong."""
    first, last, step = int(first), int(last), int(step)
    if last < first:
        raise PluginError(f"frame range {first}-{last} is empty (last before first)")
    if step < 1:
        raise PluginError(f"frame step {step} must be 1 or more (1 analyses every frame)")
    return FrameRange(first, last, step)


def parse(text):
    """``"1001-1100x2"`` -> FrameRange(1001, 1100, 2); ``"1005"`` -> FrameRange(1005, 1005, 1)."""
    m = PATTERN.match(str(text).strip())
    if not m:
        raise PluginError(f"frame range {text!r} is not understood; {HOW}")
    first = int(m.group(1))
    last = int(m.group(2)) if m.group(2) is not None else first
    step = int(m.group(3)) if m.group(3) is not None else 1
    if last < first:
        raise PluginError(f"frame range {text!r} is empty (last before first); {HOW}")
    return make(first, last, step)


def looks_like_range(text):
    """True when ``text`` is a range or frame number (what ``nuke -t`` strips from argv)."""
    return bool(PATTERN.match(str(text).strip()))


def within(chunk, whole):
    """The frames of ``whole`` (the node's range and step) that fall in ``chunk`` (a farm task).

    A chunk given its own step keeps it; a plain chunk takes the node's step, counted from the
    node's first frame, so chunks of one shot analyse the same frames as one run would.
    """
    if chunk.step > 1 or whole.step == 1:
        return chunk
    first = chunk.first + (whole.first - chunk.first) % whole.step
    if first > chunk.last:
        raise PluginError(
            f"frames {chunk.spec()} hold no frame of {whole.spec()} (every {whole.step})"
        )
    return FrameRange(first, chunk.last, whole.step)
