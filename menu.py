"""HotPixel for Nuke, GUI startup, when this checkout's root is on NUKE_PATH (see init.py).

The menus are added once however many of this file and nuke_plugin/menu.py run.
"""

import hotpixel_nuke.ui

hotpixel_nuke.ui.add_menus()
