"""HotPixel for Nuke, GUI startup (Nuke runs it after init.py in interactive sessions only):
the HotPixel menus in the Nodes toolbar and the Nuke menu, added once."""

import hotpixel_nuke.ui

hotpixel_nuke.ui.add_menus()
