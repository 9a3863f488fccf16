"""The one place that imports Qt (PySide6, else PySide2), and the check of what Qt needs from
the system before it opens a window."""

from __future__ import annotations

import ctypes
import os
import sys
from collections.abc import Callable, Mapping
from types import ModuleType

from hotpixel.errors import UsageError


def load_qt() -> tuple[ModuleType, ModuleType, ModuleType]:
    """``(QtCore, QtGui, QtWidgets)``; a :class:`UsageError` saying how to install Qt."""
    try:
        from PySide6 import QtCore, QtGui, QtWidgets
    except ImportError:
        try:
            from PySide2 import QtCore, QtGui, QtWidgets  # type: ignore[no-redef]
        except ImportError:
            raise UsageError(
                "the review app needs Qt: pip install 'hotpixel[review]' (PySide6), or PySide2"
            ) from None
    return QtCore, QtGui, QtWidgets


# What Qt 6's X11 platform plugin (libqxcb) loads beyond what a desktop usually has, as
# (shared library, Debian/Ubuntu package). A missing one makes Qt abort with "could not load
# the Qt platform plugin xcb" and no word of which library; libxcb-icccm4 and libxcb-keysyms1
# are the two a plain Debian lacks.
XCB_LIBRARIES = (
    ("libxcb-icccm.so.4", "libxcb-icccm4"),
    ("libxcb-keysyms.so.1", "libxcb-keysyms1"),
    ("libxcb-cursor.so.0", "libxcb-cursor0"),
    ("libxcb-image.so.0", "libxcb-image0"),
    ("libxcb-render-util.so.0", "libxcb-render-util0"),
    ("libxcb-shape.so.0", "libxcb-shape0"),
    ("libxcb-randr.so.0", "libxcb-randr0"),
    ("libxcb-xkb.so.1", "libxcb-xkb1"),
    ("libxkbcommon-x11.so.0", "libxkbcommon-x11-0"),
)


def uses_xcb(env: Mapping[str, str], platform: str) -> bool:
    """Whether Qt will open the window through X11 (xcb): Linux, not told otherwise, no
    Wayland session (Qt 6 prefers Wayland there)."""
    if not platform.startswith("linux"):
        return False
    chosen = env.get("QT_QPA_PLATFORM", "")
    if chosen:
        return chosen.split(";")[0].split(":")[0] == "xcb"
    return not env.get("WAYLAND_DISPLAY")


def check_system_libraries(
    env: Mapping[str, str] | None = None,
    platform: str | None = None,
    load: Callable[[str], object] = ctypes.CDLL,
) -> None:
    """Raise :class:`UsageError` naming the packages to install when Qt's X11 plugin would
    not load; nothing elsewhere (Wayland, macOS, Windows, ``QT_QPA_PLATFORM=offscreen``)."""
    env = os.environ if env is None else env
    if not uses_xcb(env, sys.platform if platform is None else platform):
        return
    missing = []
    for soname, package in XCB_LIBRARIES:
        try:
            load(soname)
        except OSError:
            missing.append(package)
    if not missing and not env.get("DISPLAY"):
        raise UsageError(
            "the review app needs a display and DISPLAY is not set: run it in a desktop "
            "session or over ssh -X"
        )
    if missing:
        raise UsageError(
            "the review app's window needs X11 libraries this machine lacks: "
            f"{', '.join(missing)}. Install them (Debian/Ubuntu: sudo apt-get install "
            f"{' '.join(missing)}), or use Wayland; docs/review.md lists what Qt needs"
        )
