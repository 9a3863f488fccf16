"""HotPixel for Nuke, startup: put the gizmos on the plugin path.

Nuke runs this in every session (GUI, ``nuke -t``, ``nuke -x`` renders on the farm), so it holds
no UI code. This folder is already on the plugin path (NUKE_PATH or ~/.nuke/init.py, see
install/install.py), which also puts it on sys.path for ``import hotpixel_nuke``.
"""

import inspect
import os

import nuke

try:
    _HERE = os.path.dirname(os.path.abspath(__file__))
except NameError:  # some Nuke versions run init.py without __file__
    _HERE = os.path.dirname(os.path.abspath(inspect.getsourcefile(lambda: 0)))

nuke.pluginAddPath(os.path.join(os.path.dirname(_HERE), "gizmos"))
