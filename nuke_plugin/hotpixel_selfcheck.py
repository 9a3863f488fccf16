"""Run in a real Nuke: ``nuke -t nuke_plugin/hotpixel_selfcheck.py`` (see selfcheck.py).

Works from a checkout without an install: it puts this folder on sys.path and the checkout's
gizmos/ on the plugin path itself. Prints one ``ok``/``FAIL`` line per fact.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import nuke
from hotpixel_nuke import selfcheck

nuke.pluginAddPath(
    os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "gizmos")
)
sys.exit(selfcheck.main())
