"""The one place that imports Qt: PySide6, else PySide2."""

from __future__ import annotations

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
