"""A strict stand-in for Nuke's ``nuke`` module, for testing the plugin without Nuke.

It implements only the documented calls the plugin uses (see reference/nuke.md), with the
behaviour the plugin relies on, and nothing else: any other attribute, knob, node class or
stroke attribute raises (AttributeError, NameError, KeyError or NotImplementedError), so a typo
in an API call fails a test. Test-only helpers start with an underscore (``_reset``,
``_parse``, ``_keys``...). .nk and .gizmo text is parsed with the TCL rules Nuke's files use
(brace groups, quoted strings with backslash escapes, the ``set``/``push`` input stack where the
stack top is input 0), so the plugin's gizmos are loaded from their real files.

Behaviours of the real Nuke that the plugin must survive are modelled: a Tracker4
whose control panel is closed (every node made by ``nuke.nodes``, and all of ``nuke -t``)
ignores its ``add_track`` button, and its ``tracks`` knob reads and writes the saved table;
``nuke.toNode`` resolves a name in the current group (the gizmo, while its button runs) unless
it starts with ``root.``; an Expression node's ``t``/``frame``/``x``/``y`` and channel names win
over temporary variables of the same name; ``nuke.frame()`` warns that it is deprecated.
"""

from __future__ import annotations

import os
import re
import runpy
import sys
import threading
import types
import warnings
from typing import ClassVar

GUI = False
NUKE_VERSION_MAJOR = 13
rawArgs: list[str] = []

# ----------------------------------------------------------------------------------- knobs


class Knob:
    def __init__(self, name, label=None, value=None):
        self._name = name
        self._label = name if label is None else label
        self._tooltip = ""
        self._flags: set[str] = set()
        self.node = None
        self.expression = None
        self._value = self.default() if value is None else self.convert(value)

    def default(self):
        return ""

    def convert(self, value):
        return value

    def name(self):
        return self._name

    def label(self):
        return self._label

    def value(self):
        if self.expression is not None:
            raise NotImplementedError(f"knob {self._name} is an expression; use _evaluate")
        return self._value

    getValue = value

    def setValue(self, value, index=None):
        if index is not None:
            raise NotImplementedError(f"{type(self).__name__}.setValue has no index")
        self.expression = None
        self._value = self.convert(value)
        return True

    def tooltip(self):
        return self._tooltip

    def setTooltip(self, text):
        self._tooltip = text

    def setFlag(self, flag):
        self._flags.add(flag)

    def toScript(self):
        value = self._value
        if isinstance(value, bool):
            return "true" if value else "false"
        text = str(value)
        return _quote(text) if not text or re.search(r'[\s"{}\[\]\\$;]', text) else text

    def fromScript(self, text):
        self.setValue(text)
        return True

    def _changed(self):
        """Whether a saved script would hold this knob (its value is not the default)."""
        return self.expression is not None or self._value != self.default()


class String_Knob(Knob):
    def convert(self, value):
        return str(value)


class File_Knob(String_Knob):
    pass


class Text_Knob(String_Knob):
    pass


class Tab_Knob(Knob):
    pass


class Int_Knob(Knob):
    def default(self):
        return 0

    def convert(self, value):
        if isinstance(value, bool) or float(value) != int(float(value)):
            raise TypeError(f"Int_Knob {self._name}: {value!r} is not a whole number")
        return int(float(value))


class Double_Knob(Knob):
    def default(self):
        return 0.0

    def convert(self, value):
        return float(value)


class Boolean_Knob(Knob):
    def default(self):
        return False

    def convert(self, value):
        if isinstance(value, str):
            if value not in ("true", "false", "0", "1"):
                raise ValueError(f"Boolean_Knob {self._name}: {value!r}")
            return value in ("true", "1")
        return bool(value)


class Enumeration_Knob(Knob):
    def __init__(self, name, label=None, items=()):
        self._items = list(items)
        super().__init__(name, label)

    def default(self):
        return self._items[0] if self._items else ""

    def convert(self, value):
        if isinstance(value, int) and not isinstance(value, bool):
            return self._items[value]
        if value not in self._items:
            raise ValueError(f"Enumeration_Knob {self._name}: {value!r} not in {self._items}")
        return value

    def values(self):
        return list(self._items)


class PyScript_Knob(Knob):
    """A Python button; ``execute`` runs its code with ``thisNode`` and the group context set."""

    def __init__(self, name, label=None, command=""):
        super().__init__(name, label, command)

    def execute(self):
        _context.nodes.append(self.node)
        _context.groups.append(self.node if isinstance(self.node, Group) else _current_group())
        try:
            exec(self._value, {"nuke": sys.modules[__name__], "__name__": "__knob__"})
        finally:
            _context.nodes.pop()
            _context.groups.pop()


class _ButtonKnob(Knob):
    """A built-in button: runs a Python callable the stub's node class gives it."""

    def __init__(self, name, action):
        super().__init__(name)
        self._action = action

    def execute(self):
        self._action(self.node)


class _TracksKnob(Knob):
    """Tracker4 ``tracks``: a table of 31 cells per track, flat index ``track * 31 + column``.

    A cell is a constant (float), the track's name (str), an animation ({frame: value}) or
    empty (None). ``toScript``/``fromScript`` use the saved form of a real script (reference/
    nuke.md 3.1): ``{ 1 31 N } { <31 column descriptors> } { {row} ... }``.
    """

    COLUMNS = 31
    NAMES = (
        "enable", "name", "track_x", "track_y", "offset_x", "offset_y", "T", "R", "S", "error",
        "error_min", "error_max", "pattern_x", "pattern_y", "pattern_r", "pattern_t", "search_x",
        "search_y", "search_r", "search_t", "key_track", "key_search_x", "key_search_y",
        "key_search_r", "key_search_t", "key_track_x", "key_track_y", "key_track_r",
        "key_track_t", "key_centre_offset_x", "key_centre_offset_y",
    )  # fmt: skip

    def default(self):
        self.rows = []  # each a list of 31 cells
        return None

    @property
    def count(self):
        return len(self.rows)

    def _changed(self):
        return bool(self.rows)

    def _cell(self, index):
        if not 0 <= index < self.count * self.COLUMNS:
            raise IndexError(f"tracks index {index} out of range ({self.count} track(s))")
        return self.rows[index // self.COLUMNS], index % self.COLUMNS

    def setValueAt(self, value, time, index):
        row, col = self._cell(index)
        if not isinstance(row[col], dict):
            row[col] = {}
        row[col][int(time)] = float(value)
        return True

    def setValue(self, value, index=None):
        if index is None:
            raise NotImplementedError("tracks.setValue needs an index")
        row, col = self._cell(index)
        row[col] = float(value)
        return True

    def removeKeyAt(self, time, index):
        row, col = self._cell(index)
        if isinstance(row[col], dict):
            row[col].pop(int(time), None)
        return True

    def valueAt(self, time, index):
        row, col = self._cell(index)
        cell = row[col]
        if isinstance(cell, dict):
            if int(time) in cell:
                return cell[int(time)]
            if len(cell) == 1:  # one key: constant
                return next(iter(cell.values()))
            raise NotImplementedError("stub tracks interpolate nothing: no key at that frame")
        if isinstance(cell, str):
            raise TypeError("the name column holds no number")
        return 0.0 if cell is None else cell

    def isKeyAt(self, time, index):
        row, col = self._cell(index)
        return isinstance(row[col], dict) and int(time) in row[col]

    def _keys(self, index):
        row, col = self._cell(index)
        return dict(row[col]) if isinstance(row[col], dict) else {}

    def _add_track(self):
        """The add_track button: a row keyed at the current frame, as the public idiom expects,
        but only while the node's control panel is open."""
        if not getattr(self.node, "_panel_open", False):
            return  # closed panel (nuke.nodes, nuke -t): nothing happens
        now = int(_root["frame"].value())
        row = [None] * self.COLUMNS
        row[0], row[1] = {now: 1.0}, f"track {self.count + 1}"
        row[2], row[3], row[4], row[5] = {now: 100.0}, {now: 100.0}, {now: 0.0}, {now: 0.0}
        row[6], row[7], row[8], row[9] = 1.0, 0.0, 0.0, {now: 0.0}
        self.rows.append(row)

    def toScript(self):
        def cell(c):
            if c is None:
                return "{}"
            if isinstance(c, str):
                return _quote(c)
            if isinstance(c, dict):
                keys = " ".join(f"x{f} {v:.10g}" for f, v in sorted(c.items()))
                return "{curve " + keys + "}"
            return f"{c:.10g}"

        head = f"{{ 1 {self.COLUMNS} {self.count} }}"
        cols = " ".join(f"{{ 2 1 0 {n} {n} 1 }}" for n in self.NAMES)
        rows = "\n".join("{ " + " ".join(cell(c) for c in row) + " }" for row in self.rows)
        return f"{head}\n{{ {cols} }}\n{{\n{rows}\n}}"

    def fromScript(self, text):
        """Strict: the header must say 1 31 N, there must be 31 columns and N rows of 31."""
        groups = _words(text)
        if len(groups) != 3:
            raise ValueError(f"tracks: {len(groups)} top-level groups, not header/columns/rows")
        head = _words(_unbrace(groups[0]))
        if head[:2] != ["1", str(self.COLUMNS)] or len(head) != 3:
            raise ValueError(f"tracks header {head}")
        columns = [_words(_unbrace(c)) for c in _words(_unbrace(groups[1]))]
        if [c[3] for c in columns] != list(self.NAMES):
            raise ValueError("tracks columns are not the Tracker4 columns")
        rows = []
        for row_text in _words(_unbrace(groups[2])):
            cells = _words(_unbrace(row_text))
            if len(cells) != self.COLUMNS:
                raise ValueError(f"a tracks row has {len(cells)} cells, not {self.COLUMNS}")
            rows.append([_parse_cell(c) for c in cells])
        if len(rows) != int(head[2]):
            raise ValueError(f"tracks header says {head[2]} rows; {len(rows)} given")
        self.rows = rows
        return True


class _Quoted(str):
    """A word that was written in double quotes (a name, never a number)."""


def _brace_end(text, i):
    """Index of the brace closing the one at ``text[i]`` (backslash escapes skipped), or
    ``len(text)`` or more when it never closes."""
    depth, j, n = 0, i, len(text)
    while j < n:
        if text[j] == "\\":
            j += 2
            continue
        depth += {"{": 1, "}": -1}.get(text[j], 0)
        if depth == 0:
            break
        j += 1
    return j


def _words(text):
    """Top-level TCL words of ``text``; braced words keep their braces, quoted words come back
    unescaped as :class:`_Quoted`."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if c.isspace():
            i += 1
        elif c == "{":
            j = _brace_end(text, i)
            if j >= n:
                raise ValueError(f"unbalanced braces in {text[:60]!r}")
            out.append(text[i : j + 1])
            i = j + 1
        elif c == '"':
            j, chars = i + 1, []
            while text[j] != '"':
                if text[j] == "\\":
                    chars.append({"n": "\n"}.get(text[j + 1], text[j + 1]))
                    j += 2
                else:
                    chars.append(text[j])
                    j += 1
            out.append(_Quoted("".join(chars)))
            i = j + 1
        else:
            j = i
            while j < n and not text[j].isspace():
                j += 1
            out.append(text[i:j])
            i = j
    return out


def _parse_cell(word):
    if isinstance(word, _Quoted):
        return str(word)
    if word == "{}":
        return None
    if word.startswith("{"):
        parts = _unbrace(word).split()
        if not parts or parts[0] != "curve":
            raise ValueError(f"tracks cell {word!r}")
        keys, frame = {}, None
        for p in parts[1:]:
            if p.startswith("x"):
                frame = int(p[1:])
            elif p.isalpha():
                continue  # flags such as K
            else:
                if frame is None:
                    raise ValueError(f"tracks curve {word!r} has a value before any x<frame>")
                keys[frame] = float(p)
                frame += 1
        return keys
    return float(word)


def _quote(text):
    for ch in '\\"[]$':
        text = text.replace(ch, "\\" + ch)
    return '"' + text.replace("\n", "\\n") + '"'


# ----------------------------------------------------------------------------------- nodes


_COMMON = ("name", "label", "xpos", "ypos", "disable", "tile_color", "selected", "help")
_INT_KNOBS = {"first", "last", "origfirst", "origlast", "xpos", "ypos", "first_frame", "last_frame"}
_BOOL_KNOBS = {"disable", "raw", "selected"}
_CLASS_KNOBS = {
    "Root": (
        *("first_frame", "last_frame", "format", "frame"),
        *("colorManagement", "OCIO_config", "customOCIOConfigPath"),  # Project Settings > Color
    ),
    "Read": (
        "file",
        "first",
        "last",
        "origfirst",
        "origlast",
        "before",
        "after",
        "on_error",
        "raw",
        "frame",
        "frame_mode",
        "format",
        "colorspace",
    ),
    "Write": ("file", "file_type", "channels", "raw", "datatype", "colorspace"),
    "Dot": (),
    "Input": ("number",),
    "Output": (),
    "AddChannels": ("channels",),
    "Copy": ("from0", "to0", "bbox", "maskChannelMask"),
    "Expression": (
        *("temp_name0", "temp_expr0", "temp_name1", "temp_expr1"),
        *("temp_name2", "temp_expr2", "temp_name3", "temp_expr3"),
        *("expr0", "expr1", "expr2", "expr3"),
    ),
    "Dilate": ("channels", "size"),
    "Median": ("channels", "size"),
    "Blur": ("channels", "size"),
    "Switch": ("which",),
    "Keymix": ("channels", "maskChannel", "mix"),
    "Grade": ("channels", "white"),
    "NoOp": (),
    "Tracker4": (),
    "RotoPaint": (),
    "Group": (),
}
_BUTTONS = {"Read": {"reload": lambda node: node._log.append("reload")}}
# knob values a new node starts with: a Read decodes with its file type's default colour space
_DEFAULTS = {"Read": {"colorspace": "default"}}


class Node:
    def __init__(self, cls, knobs=None):
        if cls not in _CLASS_KNOBS and not isinstance(self, Group):
            raise KeyError(f"stub nuke has no node class {cls!r}")
        self._class = cls
        self._knobs: dict[str, Knob] = {}
        self._inputs: list[Node | None] = []
        self._parent = None
        self._log: list[str] = []
        self._panel_open = False  # nuke.nodes never opens a control panel
        for name in _COMMON + _CLASS_KNOBS.get(cls, ()):
            kind = Int_Knob if name in _INT_KNOBS else String_Knob
            kind = Boolean_Knob if name in _BOOL_KNOBS else kind
            self._add(kind(name))
        for name, action in _BUTTONS.get(cls, {}).items():
            self._add(_ButtonKnob(name, action))
        if cls == "Tracker4":
            self._add(_TracksKnob("tracks"))
            self._add(_ButtonKnob("add_track", lambda node: node["tracks"]._add_track()))
        if cls == "RotoPaint":
            self._add(rotopaint.CurveKnob("curves"))
        for name, value in {**_DEFAULTS.get(cls, {}), **(knobs or {})}.items():
            self[name].setValue(value)

    def _add(self, knob):
        knob.node = self
        self._knobs[knob.name()] = knob

    def Class(self):
        return self._class

    def name(self):
        return self._knobs["name"]._value

    def setName(self, name):
        self._knobs["name"].setValue(name)

    def fullName(self):
        parent = self._parent
        if parent is None or parent is _root:
            return self.name()
        return f"{parent.fullName()}.{self.name()}"

    def knob(self, name):
        return self._knobs.get(name)

    def knobs(self):
        return dict(self._knobs)

    def __getitem__(self, name):
        if name not in self._knobs:
            raise NameError(f"knob {name} does not exist")
        return self._knobs[name]

    def addKnob(self, knob):
        self._add(knob)

    def input(self, i):
        return self._inputs[i] if i < len(self._inputs) else None

    def inputs(self):
        return len(self._inputs)

    def setInput(self, i, node):
        while len(self._inputs) <= i:
            self._inputs.append(None)
        self._inputs[i] = node
        return True

    def xpos(self):
        return self._knobs["xpos"]._value

    def ypos(self):
        return self._knobs["ypos"]._value

    def setXYpos(self, x, y):
        self._knobs["xpos"].setValue(x)
        self._knobs["ypos"].setValue(y)


class Group(Node):
    def __init__(self, cls="Group", knobs=None):
        self._children: list[Node] = []
        super().__init__(cls, knobs)

    def node(self, name):
        return next((n for n in self._children if n.name() == name), None)

    def nodes(self):
        return list(self._children)

    def begin(self):
        _context.groups.append(self)
        return self

    def end(self):
        if not _context.groups or _context.groups[-1] is not self:
            raise RuntimeError("Group.end() without a matching begin()")
        _context.groups.pop()

    def __enter__(self):
        return self.begin()

    def __exit__(self, *exc):
        self.end()


class _Root(Group):
    def __init__(self):
        super().__init__("Root")
        self._knobs["name"].setValue("Root")
        self._knobs["first_frame"].setValue(1)
        self._knobs["last_frame"].setValue(100)
        self._knobs["frame"] = Int_Knob("frame", value=1)
        # a new Nuke 13 script: Nuke's own colour management, its nuke-default config
        self._knobs["colorManagement"].setValue("Nuke")
        self._knobs["OCIO_config"].setValue("nuke-default")

    def firstFrame(self):
        return self["first_frame"].value()

    def lastFrame(self):
        return self["last_frame"].value()


class _Context(threading.local):
    def __init__(self):
        self.nodes: list[Node] = []
        self.groups: list[Group] = []


_context = _Context()
_root = _Root()


def _current_group():
    return _context.groups[-1] if _context.groups else _root


def _unique_name(group, cls):
    stem, i = cls.rstrip("0123456789") or cls, 1  # Tracker4 -> Tracker1, as Nuke names it
    while group.node(f"{stem}{i}") is not None:
        i += 1
    return f"{stem}{i}"


def _insert(node, group=None):
    group = group or _current_group()
    if not node.name():
        node.setName(_unique_name(group, node.Class()))
    if group.node(node.name()) is not None:
        raise ValueError(f"{node.name()} already exists in {group.name()}")
    node._parent = group
    group._children.append(node)
    return node


class _Nodes:
    """``nuke.nodes.Class(**knobs)``: only the classes the stub knows."""

    def __getattr__(self, cls):
        if cls not in _CLASS_KNOBS or cls == "Root":
            raise AttributeError(f"stub nuke.nodes has no class {cls!r}")

        def make(**knobs):
            inputs = knobs.pop("inputs", ())
            node = Group(cls) if cls == "Group" else Node(cls)
            name = knobs.pop("name", "")
            if name:
                node.setName(name)
            _insert(node)
            for k, v in knobs.items():
                node[k].setValue(v)
            for i, n in enumerate(inputs):
                node.setInput(i, n)
            return node

        return make


nodes = _Nodes()


# ----------------------------------------------------------------------- module functions


def root():
    return _root


def toNode(name):
    """Like Nuke: a name is looked up in the current group (the gizmo while its button runs);
    ``root.``-prefixed names from the top."""
    if name == "root":
        return _root
    node = _current_group()
    if name.startswith("root."):
        node, name = _root, name[len("root.") :]
    for part in name.split("."):
        if not isinstance(node, Group):
            return None
        node = node.node(part)
        if node is None:
            return None
    return node


def thisNode():
    return _context.nodes[-1] if _context.nodes else _root


def thisGroup():
    return _current_group()


def frame(*args):
    warnings.warn(
        "nuke.frame() is deprecated: use nuke.root()['frame']", DeprecationWarning, stacklevel=2
    )
    if args:
        raise NotImplementedError("nuke.frame(f) is deprecated: set the root's frame")
    knob = _root.knob("frame")
    return int(knob.value()) if knob is not None else 1


def delete(node):
    node._parent._children.remove(node)
    node._parent = None


def filename(node, flags=None):
    if flags is not None:
        raise NotImplementedError("stub nuke.filename takes no flags")
    if node.Class() not in ("Read", "Write"):
        raise NotImplementedError("stub nuke.filename only knows Read and Write")
    return node["file"].value() or None


_render_hook = None


def execute(node, start=None, end=None, incr=1, views=None, continueOnError=False):
    if _render_hook is None:
        raise NotImplementedError("no renderer: set nuke._render_hook in the test")
    if node.Class() != "Write":
        raise ValueError(f"cannot execute {node.Class()}")
    _render_hook(node, int(start), int(end), int(incr))


_messages: list[str] = []


def message(text):
    _messages.append(str(text))


class ProgressTask:
    """Records what it is told; ``_cancel_after`` frames of progress, then it is cancelled."""

    instances: ClassVar[list[ProgressTask]] = []

    def __init__(self, name):
        self.name = name
        self.messages: list[str] = []
        self.progress: list[int] = []
        ProgressTask.instances.append(self)

    def setMessage(self, text):
        self.messages.append(str(text))

    def setProgress(self, value):
        if not isinstance(value, int) or not 0 <= value <= 100:
            raise ValueError(f"ProgressTask.setProgress takes an int 0..100; got {value!r}")
        self.progress.append(value)

    def isCancelled(self):
        return False


_main_thread_calls: list[tuple] = []


def executeInMainThread(call, args=(), kwargs=None):
    _main_thread_calls.append((call, args))
    call(*args, **(kwargs or {}))


class Undo:
    """``nuke.Undo.begin(name)`` / ``end()`` / ``cancel()``; groups must not nest."""

    log: ClassVar[list[tuple[str, str]]] = []
    _open: ClassVar[list[str]] = []

    @staticmethod
    def begin(name=""):
        if Undo._open:
            raise RuntimeError("stub Undo groups do not nest")
        Undo._open.append(name)
        Undo.log.append(("begin", name))

    @staticmethod
    def end():
        Undo.log.append(("end", Undo._open.pop()))

    @staticmethod
    def cancel():
        Undo.log.append(("cancel", Undo._open.pop()))


_layers: dict[str, list[str]] = {}


def Layer(name, channels):
    _layers.setdefault(name, [])
    for c in channels:
        if c not in _layers[name]:
            _layers[name].append(c)
    return name


_plugin_path: list[str] = []


def pluginAddPath(path, addToSysPath=True):
    path = os.path.abspath(path)
    if path in _plugin_path:
        return
    _plugin_path.insert(0, path)
    if addToSysPath and path not in sys.path:
        sys.path.insert(0, path)
    init = os.path.join(path, "init.py")
    if os.path.isfile(init):  # pluginAddPath inside an init.py runs that folder's init.py
        runpy.run_path(init, run_name="__nuke_init__")


def pluginPath():
    return list(_plugin_path)


class _Menu:
    def __init__(self, name):
        self.name = name
        self.items: dict[str, object] = {}

    def addMenu(self, name, icon=None):
        return self.items.setdefault(name, _Menu(name))

    def addCommand(self, name, command=None, shortcut=None, icon=None):
        if name in self.items:
            raise ValueError(f"menu {self.name} already has {name}")
        self.items[name] = command


_menus: dict[str, _Menu] = {}


def menu(name):
    if name not in ("Nuke", "Nodes", "Viewer", "Node Graph", "Pane"):
        raise KeyError(f"no menu {name!r}")
    return _menus.setdefault(name, _Menu(name))


def createNode(cls, knobs="", inpanel=True):
    if knobs:
        raise NotImplementedError("stub createNode takes no knob string")
    gizmo = _find_gizmo(cls)
    node = _load_gizmo(gizmo, cls) if gizmo else getattr(nodes, cls)()
    node._panel_open = bool(inpanel and GUI)  # a GUI createNode opens the control panel
    return node


def scriptOpen(path):
    _reset_graph()
    with open(path, encoding="utf-8") as fh:
        _build(_parse(fh.read()), _root)
    _root["name"].setValue(os.path.abspath(path))


def scriptClear():
    _reset_graph()


def scriptSaveAs(filename, overwrite=-1):
    """Write the root's nodes as a .nk. The stub writes unconnected plain nodes only (what the
    self-check saves); anything else raises."""
    if os.path.exists(filename) and overwrite != 1:
        raise RuntimeError(f"{filename} exists (pass overwrite=1)")
    lines = ["version 13.2 v8", "Root {", " inputs 0"]
    lines += [f" {k.name()} {k.toScript()}" for k in _root._knobs.values() if k._changed()]
    lines.append("}")
    for node in _root._children:
        if isinstance(node, Group) or any(n is not None for n in node._inputs):
            raise NotImplementedError(f"stub scriptSaveAs cannot write {node.name()}")
        lines += [f"{node.Class()} {{", " inputs 0"]
        for knob in node._knobs.values():
            if isinstance(knob, (_ButtonKnob, PyScript_Knob)) or not knob._changed():
                continue
            if knob.expression is not None:
                raise NotImplementedError("stub scriptSaveAs writes no expressions")
            text = knob.toScript()
            braced = isinstance(knob, (_TracksKnob, _CurveKnob))
            lines.append(f" {knob.name()} {{{text}}}" if braced else f" {knob.name()} {text}")
        lines.append("}")
    with open(filename, "w", encoding="utf-8") as fh:
        fh.write("\n".join(lines) + "\n")
    _root["name"].setValue(os.path.abspath(filename))


class FrameRange:
    """``nuke.FrameRange("1001-1100x2")``: first, last, increment; iterates its frames."""

    def __init__(self, text):
        m = re.fullmatch(r"(-?\d+)(?:-(-?\d+)(?:x(\d+))?)?", str(text).strip())
        if not m:
            raise ValueError(f"bad frame range {text!r}")
        self._first = int(m.group(1))
        self._last = int(m.group(2)) if m.group(2) is not None else self._first
        self._step = int(m.group(3) or 1)

    def first(self):
        return self._first

    def last(self):
        return self._last

    def increment(self):
        return self._step

    def __iter__(self):
        return iter(range(self._first, self._last + 1, self._step))


# -------------------------------------------------------------------- .nk / .gizmo text


def _tokens(text):
    """Split TCL text into commands (lists of words); ``{...}`` words keep their braces."""
    commands, words, i, n = [], [], 0, len(text)
    while i < n:
        c = text[i]
        if c == "\n" or c == ";":
            if words:
                commands.append(words)
            words = []
            i += 1
        elif c in " \t\r":
            i += 1
        elif c == "#" and not words:
            i = text.find("\n", i)
            i = n if i < 0 else i
        elif c == "{":
            j = _brace_end(text, i)
            words.append(text[i : j + 1])
            i = j + 1
        elif c == '"':
            j, out = i + 1, []
            while text[j] != '"':
                if text[j] == "\\":
                    nxt = text[j + 1]
                    out.append({"n": "\n", "t": "\t"}.get(nxt, nxt))
                    j += 2
                else:
                    out.append(text[j])
                    j += 1
            words.append("".join(out))
            i = j + 1
        else:
            m = re.compile(r"[^\s;]+").match(text, i)
            words.append(m.group(0))
            i = m.end()
    if words:
        commands.append(words)
    return commands


def _unbrace(word):
    return word[1:-1] if word.startswith("{") and word.endswith("}") else word


def _parse(text):
    """Commands of a .nk/.gizmo as ``(kind, ...)`` tuples, in order."""
    out = []
    for words in _tokens(text):
        head = words[0]
        if head in ("version", "define_window_layout_xml"):
            continue
        if head == "add_layer":
            parts = _unbrace(words[1]).split()
            out.append(("layer", parts[0], parts[1:]))
        elif head == "set":
            out.append(("set", words[1]))
        elif head == "push":
            out.append(("push", words[1]))
        elif head == "end_group":
            out.append(("end_group",))
        elif len(words) == 2 and words[1].startswith("{"):
            out.append(("node", head, _tokens(_unbrace(words[1]))))
        else:
            raise ValueError(f"cannot parse {' '.join(words)[:80]!r}")
    return out


_USER_KNOBS = {
    1: String_Knob,
    2: File_Knob,
    3: Int_Knob,
    4: Enumeration_Knob,
    6: Boolean_Knob,
    7: Double_Knob,
    20: Tab_Knob,
    22: PyScript_Knob,
    26: Text_Knob,
}


def _user_knob(spec):
    words = [w for ws in _tokens(_unbrace(spec)) for w in ws]
    kind, name, rest = int(words[0]), words[1], words[2:]
    if kind not in _USER_KNOBS:
        raise KeyError(f"stub knows no user knob type {kind}")
    opts, flags, i = {}, set(), 0
    while i < len(rest):
        w = rest[i]
        if w[0] in "+-" and w[1:].isupper():
            flags.add(w)
            i += 1
        elif w == "R":
            opts["R"] = (float(rest[i + 1]), float(rest[i + 2]))
            i += 3
        elif w in ("l", "t", "T", "M"):
            opts[w] = rest[i + 1]
            i += 2
        else:
            raise ValueError(f"addUserKnob {name}: unexpected {w!r}")
    cls = _USER_KNOBS[kind]
    if cls is Enumeration_Knob:
        knob = cls(name, opts.get("l"), [w for ws in _tokens(_unbrace(opts["M"])) for w in ws])
    else:
        knob = cls(name, opts.get("l"))
        if "T" in opts:
            knob.setValue(opts["T"])
    knob.setTooltip(opts.get("t", ""))
    knob._flags |= flags
    knob.range = opts.get("R")
    return knob


def _apply_knobs(node, lines):
    for words in lines:
        name, value = words[0], " ".join(words[1:])
        if name == "addUserKnob":
            node.addKnob(_user_knob(words[1]))
        elif name == "inputs":
            continue
        elif isinstance(node.knob(name), (_TracksKnob, _CurveKnob)):
            node[name].fromScript(_unbrace(value))
        elif value.startswith("{{") or value.startswith('{"') or "[" in value:
            node[name].expression = _unbrace(value)  # NameError for a knob the class lacks
        else:
            node[name].setValue(_unbrace(value))


def _inputs_of(lines):
    for words in lines:
        if words[0] == "inputs":
            return sum(int(p) for p in words[1].split("+"))
    return None


def _build(commands, group, gizmo_classes=()):
    """Create the nodes of parsed ``commands`` in ``group`` (stack semantics of .nk files)."""
    stack, names, groups = [], {}, [group]
    for cmd in commands:
        kind = cmd[0]
        if kind == "layer":
            Layer(cmd[1], cmd[2])
        elif kind == "set":
            names[cmd[1]] = stack[-1]
        elif kind == "push":
            stack.append(None if cmd[1] == "0" else names[cmd[1].lstrip("$")])
        elif kind == "end_group":
            groups.pop()
            stack.append(groups[-1]._children[-1])
        else:
            cls, lines = cmd[1], cmd[2]
            if cls == "Root":
                _apply_knobs(group, lines)
                continue
            gizmo = _find_gizmo(cls)
            if cls == "Gizmo" or cls == "Group":
                node = Group(cls if cls == "Group" else gizmo_classes[0])
            elif gizmo:
                node = _load_gizmo(gizmo, cls, insert=False)
            else:
                node = Node(cls)
            count = _inputs_of(lines)
            count = (0 if cls in ("Input", "Read") else 1) if count is None else count
            inputs = [stack.pop() if stack else None for _ in range(count)]  # top = input 0
            _apply_knobs(node, lines)
            _insert(node, groups[-1])
            for i, n in enumerate(inputs):
                node.setInput(i, n)
            if cls in ("Gizmo", "Group"):
                groups.append(node)
            else:
                stack.append(node)
    return group


def _find_gizmo(cls):
    for folder in _plugin_path:
        path = os.path.join(folder, cls + ".gizmo")
        if os.path.isfile(path):
            return path
    return None


def _load_gizmo(path, cls, insert=True):
    with open(path, encoding="utf-8") as fh:
        commands = _parse(fh.read())
    holder = Group("Group")
    _build(commands, holder, gizmo_classes=(cls,))
    (node,) = holder._children
    node._parent = None
    node.setName("")  # named where it is inserted
    if insert:
        _insert(node)
    return node


def _evaluate(node, knob_name):
    """Evaluate the expression forms the gizmos use: ``[value parent.K]``, ``{parent.K}``,
    ``{!parent.K}``, against the group holding ``node``."""
    knob = node[knob_name]
    if knob.expression is None:
        return knob.value()
    parent = node._parent
    expr = knob.expression.strip()
    m = re.fullmatch(r"\[value parent\.(\w+)\]", expr)
    if m:
        return str(parent[m.group(1)].value())
    m = re.fullmatch(r"\{(!?)parent\.(\w+)\}", expr)
    if m:
        value = parent[m.group(2)].value()
        return (not value) if m.group(1) else value
    raise NotImplementedError(f"stub cannot evaluate {expr!r}")


def _pixel(node, rgba, x=0.5, y=0.5):
    """What Expression ``node`` outputs for one input pixel ``rgba`` at (x, y), current frame.

    As in Nuke, ``t``/``frame`` (the frame), ``x``/``y`` (the pixel) and ``r g b a`` (its
    channels) are the expression's own names: a temporary variable with one of those names is
    set, then shadowed, so ``a >= t`` compares alpha with the frame number. Supports
    arithmetic, comparisons, ``parent.KNOB`` and one ``cond ? a : b``.
    """
    if node.Class() != "Expression":
        raise NotImplementedError("stub _pixel evaluates Expression nodes only")
    now = float(_root["frame"].value())
    own = {"t": now, "frame": now, "x": float(x), "y": float(y)}
    own.update(zip("rgba", rgba, strict=True))
    temps: dict[str, float] = {}
    for i in range(4):
        name = node[f"temp_name{i}"].value().strip()
        if name:
            temps[name] = _expression(node, node[f"temp_expr{i}"].value(), {**temps, **own})
    names = {**temps, **own}  # Nuke's names win
    out = []
    for i, channel in enumerate("rgba"):
        text = node[f"expr{i}"].value().strip()
        out.append(_expression(node, text, names) if text else own[channel])
    return tuple(out)


def _expression(node, text, names):
    py = re.sub(r"\bparent\.(\w+)", lambda m: repr(float(node._parent[m.group(1)].value())), text)
    m = re.fullmatch(r"(.+?)\?(.+):(.+)", py)
    if m:
        py = f"({m.group(2)}) if ({m.group(1)}) else ({m.group(3)})"
    return float(eval(py, {"__builtins__": {}}, dict(names)))


# -------------------------------------------------------------------------------- rotopaint


rotopaint = types.ModuleType("nuke.rotopaint")
sys.modules["nuke.rotopaint"] = rotopaint

# attribute keys a saved stroke uses (reference/nuke.md 4.3); anything else is a typo
_STROKE_ATTRS = {
    "opc",
    "bs",
    "bu",
    "src",
    "stx",
    "sty",
    "str",
    "spx",
    "spy",
    "sb",
    "ltn",
    "ltm",
    "ltt",
    "tt",
    "h",
    "ro",
    "go",
    "bo",
    "ao",
}


class _AnimAttributes:
    def __init__(self):
        self.values = {}

    def set(self, *args):
        if len(args) != 2:
            raise NotImplementedError("stub AnimAttributes.set(name, value) only")
        name, value = args
        if name not in _STROKE_ATTRS:
            raise KeyError(f"unknown stroke attribute {name!r}")
        self.values[name] = float(value)
        return True

    def getValue(self, time, name):
        return self.values[name]


class _AnimControlPoint:
    def __init__(self, x, y):
        self.x, self.y = float(x), float(y)


class _Element:
    def __init__(self, curves):
        if not isinstance(curves, _CurveKnob):
            raise TypeError("rotopaint elements take the RotoPaint's curves knob")
        self.curves = curves
        self.name = ""


class _Stroke(_Element):
    def __init__(self, curves):
        super().__init__(curves)
        self.points = []
        self._attrs = _AnimAttributes()

    def append(self, point):
        if not isinstance(point, _AnimControlPoint):
            raise TypeError("Stroke.append takes an AnimControlPoint")
        self.points.append(point)

    def getAttributes(self):
        return self._attrs

    def serialise(self):
        """Roughly the saved form: ``{cubiccurve NAME ... {a key value ...}}``."""
        points = " ".join(f"{{p {p.x} {p.y}}}" for p in self.points)
        attrs = " ".join(f"{k} {v:.10g}" for k, v in self._attrs.values.items())
        return f"{{cubiccurve {self.name} 512 catmullrom {{cc {points}}} {{a {attrs} }}}}"


class _Layer(_Element):
    def __init__(self, curves):
        super().__init__(curves)
        self.children = []

    def append(self, element):
        if not isinstance(element, _Element):
            raise TypeError("Layer.append takes a Stroke, Shape or Layer")
        self.children.append(element)

    def __iter__(self):
        return iter(self.children)

    def serialise(self):
        return "{layer " + " ".join([self.name] + [c.serialise() for c in self.children]) + "}"


def _roto_element(curves, word):
    """A Layer or Stroke from the stub's saved form (``{layer ...}``, ``{cubiccurve ...}``)."""
    parts = _words(_unbrace(word))
    if parts[0] == "layer":
        layer = _Layer(curves)
        layer.name = parts[1]
        layer.children = [_roto_element(curves, w) for w in parts[2:]]
        return layer
    if parts[0] != "cubiccurve":
        raise ValueError(f"stub roto cannot read {parts[0]!r}")
    stroke = _Stroke(curves)
    stroke.name = parts[1]
    for group in parts[4:]:
        inner = _words(_unbrace(group))
        if inner[0] == "cc":
            for p in inner[1:]:
                _, x, y = _words(_unbrace(p))
                stroke.append(_AnimControlPoint(float(x), float(y)))
        elif inner[0] == "a":
            for key, value in zip(inner[1::2], inner[2::2], strict=True):
                stroke.getAttributes().set(key, float(value))
    return stroke


class _CurveKnob(Knob):
    def default(self):
        self.rootLayer = _Layer.__new__(_Layer)
        self.rootLayer.curves, self.rootLayer.name, self.rootLayer.children = self, "Root", []
        self.changed_calls = 0
        return None

    def changed(self):
        self.changed_calls += 1

    def _changed(self):
        return bool(self.rootLayer.children)

    def toScript(self):
        return self.rootLayer.serialise()

    def fromScript(self, text):
        self.rootLayer = _roto_element(self, text)
        return True

    def toElement(self, path):
        element = self.rootLayer
        for part in path.split("/"):
            element = next(e for e in element.children if e.name == part)
        return element


rotopaint.Stroke = _Stroke
rotopaint.Layer = _Layer
rotopaint.AnimControlPoint = _AnimControlPoint
rotopaint.CurveKnob = _CurveKnob


# ------------------------------------------------------------------------------------ reset


def _reset_graph():
    global _root
    _root = _Root()
    _context.nodes.clear()
    _context.groups.clear()


def _reset():
    """A fresh session: empty graph and logs, no GUI, default ProgressTask and renderer."""
    global GUI, rawArgs, _render_hook, ProgressTask
    _reset_graph()
    GUI, rawArgs, _render_hook = False, [], None
    ProgressTask = _DefaultProgressTask
    ProgressTask.instances.clear()
    _messages.clear()
    _main_thread_calls.clear()
    Undo.log.clear()
    Undo._open.clear()
    _layers.clear()
    _menus.clear()
    for path in _plugin_path:
        if path in sys.path:
            sys.path.remove(path)
    _plugin_path.clear()


_DefaultProgressTask = ProgressTask
