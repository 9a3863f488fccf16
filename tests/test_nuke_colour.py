"""Nuke plugin, colour: HotPixelDetect takes the plate's colour space from the Read
and the OCIO config from the script when its own knobs are empty, so the artist types it once."""

from __future__ import annotations

import json

import numpy as np
import pytest

from hotpixel.io.colour import BUILTIN_CONFIG, InputColour, encode
from imagegen import dark_plate, write_sequence
from nuke_stub import harness
from nuke_stub.harness import buttons, nodes, nuke

LOGC3 = "ARRI LogC3 (EI800)"


@pytest.fixture(autouse=True)
def session(monkeypatch, tmp_path):
    harness.fresh_session(monkeypatch, tmp_path)
    monkeypatch.delenv("OCIO", raising=False)


def _job(node):
    with open(nodes.prepare(node), encoding="utf-8") as fh:
        return json.load(fh)


def _node(tmp_path, read_colorspace, pattern=None, **knobs):
    pattern = pattern or harness.plate(tmp_path / "plate")
    node = harness.detect_node(pattern, tmp_path / "qc", params=knobs)
    node.input(0)["colorspace"].setValue(read_colorspace)
    return node


@pytest.mark.parametrize(
    ("shown", "meant"),
    [
        ("ARRI LogC3 (EI800)", LOGC3),
        ("default (ARRI LogC3 (EI800))", LOGC3),  # a Read left on its default
        ("scene_linear (ACES - ACEScg)", "ACES - ACEScg"),  # a role, in older enums
        ("ACEScct\tColorspaces/ACES/ACEScct\t\tACES - ACEScct,acescct_ap1", "ACEScct"),
        (
            "Input - ARRI - V3 LogC (EI800) - Wide Gamut",
            "Input - ARRI - V3 LogC (EI800) - Wide Gamut",
        ),
        ("default", ""),
        ("", ""),
    ],
)
def test_the_reads_colour_space_is_read_as_the_engine_names_it(shown, meant):
    read = nuke.nodes.Read()
    read["colorspace"].setValue(shown)
    assert harness.colour.read_colorspace(read) == meant


def test_an_empty_colorspace_knob_takes_the_reads(tmp_path):
    node = _node(tmp_path, "default (ARRI LogC3 (EI800))")
    job = _job(node)
    assert job["params"]["colorspace"] == LOGC3 and not job["params"]["ocio"]
    assert node["source_info"].value().endswith(f"(colour space {LOGC3!r} from Read1)")


def test_the_nodes_own_colour_space_wins(tmp_path):
    node = _node(tmp_path, LOGC3, colorspace="S-Log3 S-Gamut3")
    assert _job(node)["params"]["colorspace"] == "S-Log3 S-Gamut3"
    assert "colour space" not in node["source_info"].value()


def test_legacy_names_are_mapped_for_the_engines_config(tmp_path, monkeypatch):
    node = _node(tmp_path, "AlexaV3LogC")  # Nuke's own colour management
    assert _job(node)["params"]["colorspace"] == LOGC3
    assert f"colour space {LOGC3!r} ('AlexaV3LogC') from Read1" in node["source_info"].value()
    node.input(0)["colorspace"].setValue("REDLog")  # no counterpart: passed on as it is
    assert _job(node)["params"]["colorspace"] == "REDLog"
    monkeypatch.setenv("OCIO", str(tmp_path / "studio.ocio"))  # Nuke and the engine read $OCIO
    node.input(0)["colorspace"].setValue("AlexaV3LogC")
    assert _job(node)["params"]["colorspace"] == "AlexaV3LogC"


def test_the_scripts_custom_ocio_config_goes_with_the_colour_space(tmp_path):
    root = nuke.root()
    root["colorManagement"].setValue("OCIO")
    root["OCIO_config"].setValue("custom")
    root["customOCIOConfigPath"].setValue(str(tmp_path / "show" / "config.ocio"))
    node = _node(tmp_path, "AlexaV3LogC")
    job = _job(node)
    assert job["params"]["ocio"] == str(tmp_path / "show" / "config.ocio")
    assert job["params"]["colorspace"] == "AlexaV3LogC"  # the show config's own name
    node["ocio"].setValue(str(tmp_path / "mine.ocio"))
    assert _job(node)["params"]["ocio"] == str(tmp_path / "mine.ocio")
    node.input(0)["colorspace"].setValue("default")  # nothing to decode: no config either
    node["ocio"].setValue("")
    job = _job(node)
    assert (job["params"]["colorspace"], job["params"]["ocio"]) == ("", "")


def test_a_stock_config_leaves_the_config_to_the_engine(tmp_path):
    nuke.root()["colorManagement"].setValue("OCIO")
    nuke.root()["OCIO_config"].setValue("fn-nuke_cg-config-v1.0.0_aces-v1.3_ocio-v2.1")
    job = _job(_node(tmp_path, "ACEScct"))
    assert (job["params"]["colorspace"], job["params"]["ocio"]) == ("ACEScct", "")


def test_a_logc3_dpx_read_is_analysed_in_its_colour_space(tmp_path):
    """End to end: a LogC3 DPX without colour metadata, read as AlexaV3LogC: the engine decodes
    it from LogC3 because the Read says so, not by assumption, and finds the hot pixel."""
    rng = np.random.default_rng(7)
    frames = [np.abs(dark_plate(rng)) * 2 + 0.02 for _ in range(6)]
    frames[2][11, 20] = (3.0, 2.6, 2.2)
    to_log = InputColour(LOGC3, "flag", "test", BUILTIN_CONFIG, "ACEScg")
    pattern = write_sequence(
        str(tmp_path / "dpx"), [encode(f, to_log) for f in frames], ext="dpx", fmt="uint16",
        compression=None, bits=10,
    )  # fmt: skip
    node = _node(tmp_path, "AlexaV3LogC", pattern=pattern)
    rep = buttons.analyze(node)
    assert rep["colour"]["colorspace"] == LOGC3 and rep["colour"]["chosen_by"] == "flag"
    assert "colour_assumed" not in [w["code"] for w in rep["warnings"]]
    assert [(d["frame"], int(d["x"]), int(d["y"])) for d in rep["detections"]] == [(1003, 20, 11)]


def test_a_name_the_engine_does_not_know_says_what_to_type(tmp_path):
    nuke.GUI = True
    node = _node(tmp_path, "REDLog")
    buttons.analyze(node).join(60)
    assert node["status"].value().startswith("failed")
    assert "'REDLog' is not a colour space" in nuke._messages[-1]
    assert "close matches" in nuke._messages[-1]
