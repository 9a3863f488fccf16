"""Create Paint Fix: a RotoPaint node with one single-frame clone stroke per detection.

Each stroke is one dab at the detection's centroid (Nuke coordinates), alive on its frame only,
with a brush a little wider than the defect, cloning from clean pixels a few pixels away. The
strokes sit in one layer named ``hotpixel``, and the whole node is one undo step. Stroke
attribute names are in :mod:`nuke_facts`.

The clone offset is chosen so that the pixels at *both* ``centre + offset`` and ``centre -
offset`` are inside the image and clear of every other detection of that frame: whichever way
Nuke applies the source translate, the clone copies clean pixels.
"""

import nuke

from . import graph
from . import nuke_facts as facts
from . import report as report_mod
from .errors import PluginError

LAYER_NAME = "hotpixel"
MARGIN = 1.0  # pixels of brush beyond the defect on each side
GAP = 2.0  # clean pixels between the brush and its source
MIN_BRUSH = 3.0
DIRECTIONS = ((1, 0), (0, 1), (1, 1), (1, -1))


def stroke_specs(report):
    """One dict per detection: ``frame``, ``x``, ``y`` (Nuke), ``size``, ``offset`` (dx, dy)."""
    width, height = report_mod.size(report)
    found = report_mod.detections(report)
    by_frame = {}
    for d in found:
        by_frame.setdefault(d["frame"], []).append(d)
    specs = []
    for d in found:
        size = max(MIN_BRUSH, report_mod.diameter(d) + 2 * MARGIN)
        others = [report_mod.nuke_bbox(o, height) for o in by_frame[d["frame"]] if o is not d]
        offset = clean_offset(d["nuke_x"], d["nuke_y"], size, others, width, height)
        specs.append(
            {
                "frame": int(d["frame"]),
                "x": d["nuke_x"],
                "y": d["nuke_y"],
                "size": size,
                "offset": offset,
                "kind": d["kind"],
            }
        )
    return specs


def clean_offset(x, y, size, others, width, height):
    """The shortest offset whose two source discs (``±offset``) avoid ``others`` and stay in.

    ``others`` are Nuke boxes ``(x0, y0, x1, y1)``. Falls back to the first offset that stays
    inside the image when every direction touches another defect.
    """
    radius = size / 2.0
    fallback = None
    for step in (1.0, 1.5, 2.0, 3.0):
        dist = step * (size + GAP)
        for ux, uy in DIRECTIONS:
            norm = (ux * ux + uy * uy) ** 0.5
            dx, dy = round(dist * ux / norm), round(dist * uy / norm)
            sources = [(x + dx, y + dy), (x - dx, y - dy)]
            if not all(_inside(sx, sy, radius, width, height) for sx, sy in sources):
                continue
            fallback = fallback or (dx, dy)
            if not any(_touches(sx, sy, radius, box) for sx, sy in sources for box in others):
                return (dx, dy)
    if fallback is None:
        raise PluginError(f"the image ({width}x{height}) is too small to clone from")
    return fallback


def _inside(x, y, radius, width, height):
    return radius <= x <= width - radius and radius <= y <= height - radius


def _touches(x, y, radius, box):
    x0, y0, x1, y1 = box
    nearest_x, nearest_y = min(max(x, x0), x1), min(max(y, y0), y1)
    return (x - nearest_x) ** 2 + (y - nearest_y) ** 2 < (radius + 1.0) ** 2


def create(report, source_node):
    """Make the RotoPaint under ``source_node`` (in its group), one undo step. Returns it."""
    specs = stroke_specs(report)
    if not specs:
        raise PluginError("the report has no detections: nothing to paint")
    with graph.undo_step(facts.UNDO_NAME_PAINT), graph.inside(graph.parent_of(source_node)):
        node = getattr(nuke.nodes, facts.ROTOPAINT_CLASS)()
        node.setInput(0, source_node)
        graph.place_below(source_node, node, column=2)
        node["label"].setValue(f"hotpixel: {len(specs)} stroke(s)")
        add_strokes(node[facts.CURVES_KNOB], specs)
    return node


def add_strokes(curves, specs):
    """Add a ``hotpixel`` layer holding one clone stroke per spec to a RotoPaint's curves."""
    rp = nuke.rotopaint
    layer = rp.Layer(curves)
    layer.name = LAYER_NAME
    curves.rootLayer.append(layer)
    counts = {}
    for spec in specs:  # names as the engine's detection ids: <kind>_<frame>_<n>
        key = (spec["kind"], spec["frame"])
        n = counts.get(key, 0)
        counts[key] = n + 1
        stroke = rp.Stroke(curves)
        stroke.name = "{}_{}_{}".format(spec["kind"], spec["frame"], n)
        stroke.append(rp.AnimControlPoint(float(spec["x"]), float(spec["y"])))
        _set_attributes(stroke.getAttributes(), spec)
        layer.append(stroke)
    curves.changed()


def _set_attributes(attrs, spec):
    dx, dy = spec["offset"]
    values = (
        (facts.ATTR_TOOL, facts.TOOL_CLONE),
        (facts.ATTR_SOURCE, facts.SOURCE_INPUT),
        (facts.ATTR_BRUSH_SIZE, float(spec["size"])),
        (facts.ATTR_HARDNESS, 1.0),
        (facts.ATTR_OPACITY, 1.0),
        (facts.ATTR_SOURCE_TX, float(dx)),
        (facts.ATTR_SOURCE_TY, float(dy)),
        (facts.ATTR_LIFETIME_TYPE, facts.LIFETIME_SINGLE_FRAME),
        (facts.ATTR_LIFETIME_START, spec["frame"]),
        (facts.ATTR_LIFETIME_END, spec["frame"]),
    )
    for name, value in values:
        attrs.set(name, value)
