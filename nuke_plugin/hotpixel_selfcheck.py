"""Run in a real Nuke: ``nuke -t nuke_plugin/hotpixel_selfcheck.py`` (see selfcheck.py)."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from hotpixel_nuke import selfcheck

sys.exit(selfcheck.main())
