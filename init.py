"""HotPixel for Nuke, when this checkout's root is on NUKE_PATH: load nuke_plugin/.

Runs in every Nuke session (farm too): no UI code. ``pluginAddPath`` called from an init.py
also runs nuke_plugin/init.py, which adds the gizmos.
"""

import inspect
import os

import nuke

try:
    _HERE = os.path.dirname(os.path.abspath(__file__))
except NameError:  # some Nuke versions run init.py without __file__
    _HERE = os.path.dirname(os.path.abspath(inspect.getsourcefile(lambda: 0)))

nuke.pluginAddPath(os.path.join(_HERE, "nuke_plugin"))
