"""HotPixel for Nuke: the HotPixelDetect and HotPixelFix nodes, built on the hotpixel engine.

The engine runs in its own Python as a subprocess (see :mod:`engine_process`); this package
uses only the standard library and ``nuke`` and imports on Nuke 13-17 (Python 3.7-3.11).
Modules: ``config`` (where the engine is), ``frame_ranges`` (``1001-1100x2``), ``jobs`` (the
job file), ``engine_process`` (the subprocess and its progress), ``progress``, ``report``
(report.json), ``nodes`` (the HotPixelDetect node), ``tracker`` and ``tracks_table`` (Create
Tracker), ``paint`` (Create Paint Fix), ``fix_node`` (Create Fix), ``graph`` (where nodes go,
node lookup, the current frame), ``feedback`` (messages), ``buttons``, ``ui`` (menus), ``farm``
(``nuke -t``), ``selfcheck`` (checks for a real Nuke), ``nuke_facts`` (every fact about Nuke,
with how sure we are), ``errors``. Startup is the checkout root's init.py and menu.py.
"""

__version__ = "0.1.0"
