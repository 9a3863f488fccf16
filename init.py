"""HotPixel for Nuke: put this checkout's root on NUKE_PATH (install/install.py does it).

The one startup pair of the plugin (this file and menu.py, next to it). Nuke runs init.py in
every session, GUI, ``nuke -t`` and ``nuke -x`` renders on the farm, so it holds no UI code: it
puts gizmos/ on the plugin path and nuke_plugin/ on the plugin path and sys.path (for
``import hotpixel_nuke``).
"""

import inspect
import os

import nuke

try:
    _HERE = os.path.dirname(os.path.abspath(__file__))
except NameError:  # some Nuke versions run init.py without __file__
    _HERE = os.path.dirname(os.path.abspath(inspect.getsourcefile(lambda: 0)))

nuke.pluginAddPath(os.path.join(_HERE, "gizmos"))
nuke.pluginAddPath(os.path.join(_HERE, "nuke_plugin"))
