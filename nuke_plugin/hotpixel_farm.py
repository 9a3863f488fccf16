"""``nuke -t`` entry point for farm and batch detection; see hotpixel_nuke/farm.py.

    nuke -t /path/to/nuke_plugin/hotpixel_farm.py --frames 1001-1010 --script comp.nk \
        --node HotPixelDetect1

Prints ``ERROR:`` lines and exits non-zero on failure, zero on success.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import nuke
from hotpixel_nuke import farm

sys.exit(farm.main(sys.argv[1:], getattr(nuke, "rawArgs", None)))
