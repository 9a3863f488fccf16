"""Every fact about Nuke this plugin relies on, in one place, with how sure we are of it.

A studio that finds one of these wrong in its Nuke corrects it here, in one line. Each fact is
one constant whose comment starts with its tag:

* VERIFIED: read in Foundry's documentation, or in scripts saved by a real Nuke;
* INFERRED: derived from public Nuke code or saved scripts, not stated by Foundry;
* UNVERIFIED: could not be checked without a Nuke.

``nuke -t nuke_plugin/hotpixel_selfcheck.py`` checks every INFERRED and UNVERIFIED fact in a
real Nuke and prints one line per fact (a test keeps that list complete). Each comment names its
source: a Foundry page, a script saved by Nuke, or ``repo@path``, a public GitHub file.
"""

# --- the mask channel -------------------------------------------------------------------------
MASK_CHANNEL = "hotpixel.mask"  # VERIFIED: channel "mask" (not an rgba name, so it round-trips)

# --- Read and Write nodes ---------------------------------------------------------------------
READ_FILE = "file"  # VERIFIED
READ_FIRST = "first"  # VERIFIED (real scripts): a Read's first frame
READ_LAST = "last"  # VERIFIED (real scripts): a Read's last frame
READ_FRAME_EXPR = "frame"  # INFERRED: non-empty when the Read remaps frames (offset/expression)
WRITE_FILE_TYPE = ("file_type", "exr")  # VERIFIED (real Write block)
WRITE_CHANNELS = ("channels", "rgba")  # VERIFIED (real Write block uses "channels all")
WRITE_RAW = ("raw", True)  # VERIFIED (Write node, "raw data"): scene-linear, no colour transform

# --- colour: the Read's colour space and the script's OCIO config -----------------------------
READ_COLORSPACE = "colorspace"  # VERIFIED (real scripts): the colour space a Read decodes with
# A Read left on its default shows "default (<space>)"; public pipeline code strips the wrapper
# (ayon-nuke's get_colorspace_from_node). Older enums show a role as "scene_linear (X)".
COLORSPACE_DEFAULT = "default"  # INFERRED
# Nuke 17 enum items carry TAB-separated fields after the name (family path, aliases); only the
# first field is the colour space (public Write-preset code).
COLORSPACE_FIELD_SEP = "\t"  # INFERRED
# Project Settings > Color: "colorManagement" is "Nuke" or "OCIO"; "OCIO_config" names a stock
# config or "custom", whose file is "customOCIOConfigPath" (public Deadline and OCIO test code).
ROOT_COLOR_MANAGEMENT = ("colorManagement", "OCIO")  # INFERRED
ROOT_OCIO_CONFIG = ("OCIO_config", "custom")  # INFERRED
ROOT_CUSTOM_OCIO = "customOCIOConfigPath"  # INFERRED
# Nuke's own colour management (and its nuke-default config) names spaces its own way (public
# scripts: Read.colorspace "AlexaV3LogC", "Cineon", "linear", "sRGB"); the engine's built-in
# config knows them as these. Nuke's are curves only: each gets its camera's usual gamut, and
# Cineon the engine's film-scan choice (docs/colour.md). Others pass through unchanged, and the
# engine's "close matches" error names the fix.
LEGACY_COLORSPACES = {  # INFERRED
    "linear": "Linear Rec.709 (sRGB)",
    "sRGB": "sRGB Encoded Rec.709 (sRGB)",
    "rec709": "Camera Rec.709",
    "Gamma1.8": "Gamma 1.8 Encoded Rec.709",
    "Gamma2.2": "Gamma 2.2 Encoded Rec.709",
    "Gamma2.4": "Gamma 2.4 Encoded Rec.709",
    "AlexaV3LogC": "ARRI LogC3 (EI800)",
    "SLog3": "S-Log3 S-Gamut3",
    "Log3G10": "Log3G10 REDWideGamutRGB",
    "Cineon": "ADX10",
}

# --- Tracker4 ---------------------------------------------------------------------------------
# No Foundry Python API writes tracks. The saved form of the `tracks` knob is a table: a header
# `{ 1 31 N }`, 31 column descriptors, then one brace group of 31 cells per track
# (Vincannes/NukeAPI@tests/083_060-cmp-base-v016.nk, a script saved by Nuke 13.2v8).
TRACKER_CLASS = "Tracker4"  # VERIFIED
TRACKS_KNOB = "tracks"  # VERIFIED (real scripts)
TRACK_COLUMNS = 31  # VERIFIED (real 13.2 script): flat index = track * 31 + column
TRACKS_HEADER = (1, 31)  # VERIFIED: the table starts `{ 1 31 N }` (N = number of tracks)
# The column descriptors, in order, as every saved Tracker4 and every public importer writes them
# (the real script above; TrellixVulnTeam/LukeTools_WNXN@sb_convertCornerPin.py): VERIFIED.
TRACK_COLUMN_SPECS = (
    "5 1 20 enable e 1",
    "3 1 75 name name 1",
    "2 1 58 track_x track_x 1",
    "2 1 58 track_y track_y 1",
    "2 1 63 offset_x offset_x 1",
    "2 1 63 offset_y offset_y 1",
    "4 1 27 T T 1",
    "4 1 27 R R 1",
    "4 1 27 S S 1",
    "2 0 45 error error 1",
    "1 1 0 error_min error_min 1",
    "1 1 0 error_max error_max 1",
    "1 1 0 pattern_x pattern_x 1",
    "1 1 0 pattern_y pattern_y 1",
    "1 1 0 pattern_r pattern_r 1",
    "1 1 0 pattern_t pattern_t 1",
    "1 1 0 search_x search_x 1",
    "1 1 0 search_y search_y 1",
    "1 1 0 search_r search_r 1",
    "1 1 0 search_t search_t 1",
    "2 1 0 key_track key_track 1",
    "2 1 0 key_search_x key_search_x 1",
    "2 1 0 key_search_y key_search_y 1",
    "2 1 0 key_search_r key_search_r 1",
    "2 1 0 key_search_t key_search_t 1",
    "2 1 0 key_track_x key_track_x 1",
    "2 1 0 key_track_y key_track_y 1",
    "2 1 0 key_track_r key_track_r 1",
    "2 1 0 key_track_t key_track_t 1",
    "2 1 0 key_centre_offset_x key_centre_offset_x 1",
    "2 1 0 key_centre_offset_y key_centre_offset_y 1",
)
COL_ENABLE = 0  # VERIFIED column order (the descriptors above)
COL_NAME = 1  # VERIFIED
COL_TRACK_X = 2  # VERIFIED
COL_TRACK_Y = 3  # VERIFIED
COL_OFFSET_X = 4  # VERIFIED
COL_OFFSET_Y = 5  # VERIFIED
COL_T = 6  # VERIFIED: the track's translate / rotate / scale switches
COL_R = 7  # VERIFIED
COL_S = 8  # VERIFIED
COL_ERROR = 9  # VERIFIED
# The pattern and search box cells (columns 12-19) of a new track: the values public importers
# write for small features (sb_convertCornerPin above writes -32..32 / -22..22).
TRACK_BOX_CELLS = (-15, -15, 15, 15, -10, -10, 10, 10)  # INFERRED
# How rows are written. True: the whole table through the knob's `fromScript` in the saved form
# above, which public tools use because "add_track" "may not work if the control panel is
# closed" (a public "Tracker4 shim" script; createTrackerHack in sb_convertCornerPin,
# "a workaround when creating trackers from a Python Panel"). False: the `add_track` button idiom
# (magnoborgo/RotoShapesToTrackers), which adds no row on a closed panel, nor in `nuke -t`.
TRACKS_FROM_SCRIPT = True  # INFERRED
ADD_TRACK_KNOB = "add_track"  # VERIFIED usage (public code executes this button)

# --- RotoPaint clone strokes -------------------------------------------------------------------
ROTOPAINT_CLASS = "RotoPaint"  # VERIFIED
CURVES_KNOB = "curves"  # VERIFIED (nuke.rotopaint.CurveKnob)
# Attribute keys of a stroke, as a clone stroke saved by Nuke 13.2 spells them
# (`{a ... opc x3dcccccd bs x439c8000 src 1 stx ... sty ... ltn ... ltm ... ltt 2 tt 19}`, the real
# script above): the saved keys are VERIFIED.
ATTR_BRUSH_SIZE = "bs"  # VERIFIED (saved key)
ATTR_TOOL = "tt"  # VERIFIED (saved key)
TOOL_CLONE = 19  # VERIFIED: a saved clone stroke has tt 19 (a paint Brush has 17)
ATTR_SOURCE = "src"  # VERIFIED (saved key): 1 = the node's first input (the plate)
SOURCE_INPUT = 1  # VERIFIED
ATTR_SOURCE_TX = "stx"  # VERIFIED (saved key): clone source translate x
ATTR_SOURCE_TY = "sty"  # VERIFIED (saved key): clone source translate y
ATTR_OPACITY = "opc"  # VERIFIED (saved key)
ATTR_HARDNESS = "h"  # VERIFIED (saved key)
ATTR_LIFETIME_TYPE = "ltt"  # VERIFIED (public Autolife code, a saved stroke)
ATTR_LIFETIME_START = "ltn"  # VERIFIED
ATTR_LIFETIME_END = "ltm"  # VERIFIED
LIFETIME_SINGLE_FRAME = 2  # VERIFIED: NDK eFrameRangeTypeSingle; a real single-frame stroke
# Nobody public sets tt/src/stx on a fresh `Stroke` from Python: saved scripts show the keys, not
# that setting them makes a clone. The self-check saves, reloads and reads them back. False makes
# Create Paint Fix build a HotPixelFix node (plain Nuke nodes, no strokes) instead.
CLONE_STROKES_FROM_PYTHON = True  # UNVERIFIED
# Which way a clone applies (stx, sty) (point - offset or point + offset) is not relied on: the
# paint module only picks offsets whose both signs land on clean pixels.

# --- nodes inside the HotPixelDetect gizmo (gizmos/HotPixelDetect.gizmo) ----------------------
MASK_READ = "MaskRead"  # the Read of the engine's masks; its knobs follow parent knobs
MASK_RELOAD_KNOB = "reload"  # VERIFIED (Read node reference): the Read's "Reload" button

# --- expressions ------------------------------------------------------------------------------
# Names an Expression node's temporary variable must not take: "The words 'frame', 't', and 'x'
# evaluate to the frame number" (https://learn.foundry.com/nuke/developers/latest/pythondevguide/
# _autosummary/nuke.expression.html); in an Expression node x, y are the pixel's position and
# r, g, b, a its channels; the rest are expression functions and variables
# (http://www.nukepedia.com/reference/Tcl/group__tcl__expressions.html). A temporary `t` reads
# the frame number, not the temporary.
EXPRESSION_RESERVED = (  # VERIFIED
    *("t", "frame", "x", "y", "z", "u", "v", "r", "g", "b", "a", "pi", "e"),
    *("width", "height", "format", "first_frame", "last_frame", "inputs", "pixel_aspect"),
)

# --- undo ---------------------------------------------------------------------------------------
UNDO_CALLS = ("begin", "end", "cancel")  # VERIFIED (Python API, nuke.Undo): begin(name)/end/cancel
UNDO_NAME_PAINT = "HotPixel paint fix"
UNDO_NAME_TRACKER = "HotPixel tracker"
UNDO_NAME_FIX = "HotPixel fix node"

# --- sessions, script, node paths ----------------------------------------------------------------
GUI_ATTR = "GUI"  # VERIFIED (Python dev guide): nuke.GUI is False in `nuke -t` / `nuke -x`
# "nuke.frame() is deprecated": Foundry points to the root's frame knob (the nuke.frame page of
# the 16.0 Python API reference); nuke.frame() stays the fallback for an old Nuke.
ROOT_FRAME_KNOB = "frame"  # VERIFIED
UNSAVED_ROOT_NAME = "Root"  # INFERRED: the root's name while the script is unsaved
# nuke.toNode resolves a name in the current group (inside a gizmo while its button runs);
# "root." + fullName() names a node from the top whatever the current group (public idiom, e.g.
# `nuke.toNode('root.' + '.'.join(node.fullName().split('.')[:-1])) or nuke.root()`).
ROOT_PREFIX = "root."  # INFERRED

# --- frame ranges -------------------------------------------------------------------------------
# Nuke writes a stepped range `1001-1100x2` (every 2nd frame from 1001; nuke.FrameRange,
# https://learn.foundry.com/NUKE/content/getting_started/managing_scripts/defining_frame_ranges.html).
FRAME_STEP_MARK = "x"  # VERIFIED
