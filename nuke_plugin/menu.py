"""HotPixel for Nuke, GUI startup: the HotPixel menus (added once, GUI sessions only)."""

import hotpixel_nuke.ui

hotpixel_nuke.ui.add_menus()
