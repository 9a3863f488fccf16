"""The plate's colour space and OCIO config, taken from the script so the artist types them once.

HotPixelDetect's own ``colorspace`` and ``ocio`` knobs win. When its ``colorspace`` is empty and
the plate comes straight from a Read, the engine is given the colour space that Read decodes the
files with (its ``colorspace`` knob), and the script's OCIO config when the script names its own
file (Project Settings > Color > custom). A stock config or Nuke's own colour management leave
the config to the engine ($OCIO when set, as in Nuke, else its built-in ACES studio config, which
knows the stock configs' names and their aliases); Nuke's legacy names (``AlexaV3LogC``) are
mapped to that config's (:data:`nuke_facts.LEGACY_COLORSPACES`). A name the engine does not know
stops the run with its list of close matches, and the artist types the right one on the node.
"""

import os
import re

import nuke

from . import nuke_facts as facts

# "default (ARRI LogC3 (EI800))", "scene_linear (ACES - ACEScg)": a role or the default, and
# the colour space it stands for. Colour-space names themselves start with a capital or hold
# spaces ("ARRI LogC3 (EI800)", "Input - ARRI - V3 LogC (EI800) - Wide Gamut").
_INDIRECT = re.compile(r"^([a-z][a-z0-9_]*) \((.+)\)$")


def read_colorspace(read):
    """The colour space ``read`` decodes its files with, as the engine names it; ``""`` when
    the Read says nothing (an empty knob, or a bare ``default``)."""
    knob = read.knob(facts.READ_COLORSPACE)
    if knob is None:
        return ""
    text = str(knob.value()).split(facts.COLORSPACE_FIELD_SEP)[0].strip()
    match = _INDIRECT.match(text)
    if match:
        text = match.group(2).strip()
    return "" if text == facts.COLORSPACE_DEFAULT else text


def script_config():
    """The OCIO config file the script names (Project Settings > Color > custom), or ``""``
    for a stock config or Nuke's own colour management."""
    root = nuke.root()
    name, ocio = facts.ROOT_COLOR_MANAGEMENT
    managed = root.knob(name)
    if managed is not None and str(managed.value()) != ocio:
        return ""
    name, custom = facts.ROOT_OCIO_CONFIG
    config = root.knob(name)
    if config is None or str(config.value()).split(facts.COLORSPACE_FIELD_SEP)[0] != custom:
        return ""
    path = root.knob(facts.ROOT_CUSTOM_OCIO)
    return os.path.expanduser(str(path.value()).strip()) if path is not None else ""


def engine_name(name, config):
    """``name`` as the engine's config knows it: Nuke's legacy names mapped when the engine
    falls back to its built-in config (no ``config``, no $OCIO), passed through otherwise."""
    if config or os.environ.get("OCIO"):
        return name
    return facts.LEGACY_COLORSPACES.get(name, name)


def fill_in(params, read):
    """``params`` (the node's, see :func:`nodes.params`) with the colour space and config the
    script already holds where the node's knobs are empty; and a note for the node's
    ``source_info`` (``""`` when nothing was taken from the script).

    ``read`` is the Read the plate comes from, or None (a precomp: scene-linear EXRs)."""
    params = dict(params)
    note = ""
    if not params.get("colorspace") and read is not None:
        found = read_colorspace(read)
        if found:
            params["colorspace"] = engine_name(found, params.get("ocio") or script_config())
            shown = params["colorspace"]
            said = repr(shown) if shown == found else f"{shown!r} ({found!r})"
            note = f"colour space {said} from {read.name()}"
    if params.get("colorspace") and not params.get("ocio"):
        config = script_config()
        if config:
            params["ocio"] = config
            note = ", ".join(n for n in (note, f"OCIO config {config}") if n)
    return params, note
