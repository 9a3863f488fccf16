"""Menu entries, added once, in GUI sessions only (menu.py calls :func:`add_menus`)."""

import nuke

from . import graph

MENU = "HotPixel"
_added = []


def add_menus():
    """Add HotPixelDetect and HotPixelFix to the Nodes toolbar and the Nuke menu."""
    if _added or not graph.gui():
        return False
    for bar in (nuke.menu("Nodes"), nuke.menu("Nuke")):
        menu = bar.addMenu(MENU)
        menu.addCommand("HotPixelDetect", "nuke.createNode('HotPixelDetect')")
        menu.addCommand("HotPixelFix", "nuke.createNode('HotPixelFix')")
    _added.append(True)
    return True
