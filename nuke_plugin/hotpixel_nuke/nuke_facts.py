"""Every fact about Nuke this plugin relies on, in one place, with how sure we are of it.

A studio that finds one of these wrong in its Nuke corrects it here, in one line. Tags:
VERIFIED (read in Foundry's documentation or a real script saved by Nuke), INFERRED (derived
from real saved scripts, not stated by Foundry), UNVERIFIED (could not be checked without a
Nuke; the first things to try in ``nuke -t`` are listed in the README's Nuke section).
Sources are in the project's research notes (reference/nuke.md).
"""

# --- the mask channel -------------------------------------------------------------------------
LAYER = "hotpixel"  # VERIFIED: Nuke reads the EXR channel "hotpixel.mask" as layer hotpixel
MASK_CHANNEL = "hotpixel.mask"  # VERIFIED: channel "mask" (not an rgba name, so it round-trips)

# --- Read and Write nodes ---------------------------------------------------------------------
READ_FILE = "file"  # VERIFIED
READ_FIRST = "first"  # VERIFIED (real scripts): a Read's first frame
READ_LAST = "last"  # VERIFIED (real scripts): a Read's last frame
READ_FRAME_EXPR = "frame"  # INFERRED: non-empty when the Read remaps frames (offset/expression)
WRITE_FILE_TYPE = ("file_type", "exr")  # VERIFIED (real Write block)
WRITE_CHANNELS = ("channels", "rgba")  # VERIFIED (real Write block uses "channels all")
WRITE_RAW = ("raw", True)  # UNVERIFIED: write scene-linear data without a colour transform

# --- Tracker4 (no Foundry Python API for tracks; public idiom) --------------------------------
TRACKER_CLASS = "Tracker4"  # VERIFIED
TRACKS_KNOB = "tracks"  # VERIFIED (real scripts)
ADD_TRACK_KNOB = "add_track"  # VERIFIED usage (public code executes this button)
TRACK_COLUMNS = 31  # VERIFIED (real 13.2 script): flat index = track * 31 + column
COL_TRACK_X = 2  # VERIFIED column order
COL_TRACK_Y = 3  # VERIFIED
COL_T = 6  # VERIFIED: the track's translate / rotate / scale switches
COL_R = 7  # VERIFIED
COL_S = 8  # VERIFIED
# UNVERIFIED: add_track keys the new track at the current frame; we remove that key when the
# current frame holds no detection of that track (the public idiom does the same).
ADD_TRACK_KEYS_CURRENT_FRAME = True

# --- RotoPaint clone strokes -------------------------------------------------------------------
ROTOPAINT_CLASS = "RotoPaint"  # VERIFIED
CURVES_KNOB = "curves"  # VERIFIED (nuke.rotopaint.CurveKnob)
# Attribute keys of a stroke, as a saved clone stroke spells them (`{a ... bs 313 ...}`).
ATTR_BRUSH_SIZE = "bs"  # INFERRED (kBrushSizeAttribute)
ATTR_TOOL = "tt"  # INFERRED (tool type)
TOOL_CLONE = 19  # INFERRED: a real clone stroke has tt 19 (a paint Brush has 17)
ATTR_SOURCE = "src"  # INFERRED: 1 = the node's first input (the plate)
SOURCE_INPUT = 1  # INFERRED
ATTR_SOURCE_TX = "stx"  # INFERRED: clone source translate x
ATTR_SOURCE_TY = "sty"  # INFERRED: clone source translate y
ATTR_OPACITY = "opc"  # INFERRED
ATTR_HARDNESS = "h"  # INFERRED (kHardnessAttribute)
ATTR_LIFETIME_TYPE = "ltt"  # VERIFIED (public Autolife code)
ATTR_LIFETIME_START = "ltn"  # VERIFIED
ATTR_LIFETIME_END = "ltm"  # VERIFIED
LIFETIME_SINGLE_FRAME = 2  # VERIFIED: NDK eFrameRangeTypeSingle; a real single-frame stroke
# UNVERIFIED: whether a clone copies from point - (stx, sty) or point + (stx, sty). The paint
# module only picks offsets whose both signs land on clean pixels, so either reading is safe.

# --- nodes inside the HotPixelDetect gizmo (gizmos/HotPixelDetect.gizmo) ----------------------
MASK_READ = "MaskRead"  # the Read of the engine's masks; its knobs follow parent knobs
MASK_RELOAD_KNOB = "reload"  # UNVERIFIED: the Read's "Reload" button (re-reads changed files)

# --- undo ---------------------------------------------------------------------------------------
# UNVERIFIED: nuke.Undo.begin(name) / nuke.Undo.end() group the edits into one undo step;
# nuke.Undo.cancel() drops a half-done group. Not in the stored documentation.
UNDO_NAME_PAINT = "HotPixel paint fix"
UNDO_NAME_TRACKER = "HotPixel tracker"

# --- sessions -------------------------------------------------------------------------------------
# nuke.GUI is True in interactive sessions and False in `nuke -t` / `nuke -x` (long-standing API,
# not in the stored notes: UNVERIFIED). A missing attribute is read as "no GUI".
GUI_ATTR = "GUI"

# --- current frame ------------------------------------------------------------------------------
# nuke.frame() with no argument returns the current frame: VERIFIED (only setting it through
# nuke.frame(f) is deprecated). The root's name is "Root" while the script is unsaved: INFERRED.
UNSAVED_ROOT_NAME = "Root"
