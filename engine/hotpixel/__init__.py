"""Hot, dead and stuck pixel QC for film and episodic plates.

The engine never imports Nuke: Nuke, the CLI and render farms are clients of it.

Array conventions, used everywhere and checked at public boundaries:
frames are ``(H, W, C)`` float32, scene-linear as decoded, top-left origin, indexed ``[y, x]``;
windows are ``(T, H, W, C)``; probability maps are ``(H, W)`` float32 in 0..1.
"""

__version__ = "0.1.0"
