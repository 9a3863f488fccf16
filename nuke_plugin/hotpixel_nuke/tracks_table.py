"""The Tracker4 ``tracks`` knob in its saved (TCL) form: rows written as text, rows counted.

A saved table is three brace groups: the header ``{ 1 31 N }``, the 31 column descriptors, and
one group of 31 cells per track (layout and sources in :mod:`nuke_facts`). A cell is a number, a
quoted name, an animation ``{curve x1001 12.5 x1004 13}`` (a key at each ``x``-marked frame) or
``{}`` (empty). Writing the whole table with the knob's ``fromScript`` works whether or not the
node's control panel is open, unlike the ``add_track`` button.
"""

from . import nuke_facts as facts


def number(value):
    """A float as Nuke writes it: ``12.5``, ``3``, ``-0.25``."""
    return f"{float(value):.10g}"


def quoted(text):
    """A TCL double-quoted word."""
    for ch in '\\"[]$':
        text = text.replace(ch, "\\" + ch)
    return f'"{text}"'


def curve(keys, flag=""):
    """``{curve [K] x1001 10.5 x1003 11}`` for ``keys`` = {frame: value}."""
    words = ["curve"] + ([flag] if flag else [])
    for frame in sorted(keys):
        words += [f"x{int(frame)}", number(keys[frame])]
    return "{" + " ".join(words) + "}"


def row(name, xs, ys):
    """The 31 cells of one track keyed at the frames of ``xs``/``ys`` ({frame: value}).

    Enable, offsets and error are keyed once, at the track's first frame (as a saved track is at
    the frame it was made), never at another frame; T, R and S are off, so the reference points
    drive no transform. Returns the cells as text, in column order.
    """
    first = min(xs)
    cells = [None] * facts.TRACK_COLUMNS
    cells[facts.COL_ENABLE] = curve({first: 1}, "K")
    cells[facts.COL_NAME] = quoted(name)
    cells[facts.COL_TRACK_X] = curve(xs)
    cells[facts.COL_TRACK_Y] = curve(ys)
    cells[facts.COL_OFFSET_X] = curve({first: 0}, "K")
    cells[facts.COL_OFFSET_Y] = curve({first: 0}, "K")
    for col in (facts.COL_T, facts.COL_R, facts.COL_S):
        cells[col] = "0"
    cells[facts.COL_ERROR] = curve({first: 0})
    boxes = facts.COL_ERROR + 3  # error_min and error_max first
    cells[facts.COL_ERROR + 1 : boxes] = ["0", "0"]
    cells[boxes : boxes + len(facts.TRACK_BOX_CELLS)] = [str(v) for v in facts.TRACK_BOX_CELLS]
    return ["{}" if cell is None else cell for cell in cells]


def table(rows):
    """The whole knob text for ``rows`` (each a list of 31 cell texts)."""
    head = " ".join(str(v) for v in facts.TRACKS_HEADER)
    columns = " ".join("{ " + spec + " }" for spec in facts.TRACK_COLUMN_SPECS)
    body = "\n".join("{ " + " ".join(cells) + " }" for cells in rows)
    return f"{{ {head} {len(rows)} }}\n{{ {columns} }}\n{{\n{body}\n}}"


def words(text):
    """The top-level words of TCL list ``text``; braced words keep their braces (not quotes)."""
    out, i, n = [], 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
        elif ch == "{":
            depth, j = 0, i
            while j < n:
                if text[j] == "\\":
                    j += 2
                    continue
                depth += {"{": 1, "}": -1}.get(text[j], 0)
                if depth == 0:
                    break
                j += 1
            out.append(text[i : j + 1])
            i = j + 1
        elif ch == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append(text[i + 1 : j])
            i = j + 1
        else:
            j = i
            while j < n and not text[j].isspace():
                j += 1
            out.append(text[i:j])
            i = j
    return out


def inner(word):
    """The words inside a braced word."""
    return words(word[1:-1]) if word.startswith("{") and word.endswith("}") else [word]


def count(text):
    """``(tracks the header declares, rows present)`` of a ``tracks`` knob's saved text.

    An empty knob may save as nothing at all: that is ``(0, 0)``.
    """
    groups = words(text)
    if not groups:
        return 0, 0
    header = inner(groups[0])
    declared = int(header[2]) if len(header) >= 3 else 0
    rows = inner(groups[2]) if len(groups) >= 3 else []
    return declared, len(rows)
