"""Typed documents: what the engine writes matches outputs/schema.py, and the Nuke plugin's
copy of the schema names and versions matches the engine's."""

from __future__ import annotations

import ast
import pathlib
import typing

import numpy as np

from hotpixel.outputs import schema
from hotpixel.run.detect import run_detect
from imagegen import classical_job, dark_plate, write_sequence

PLUGIN = pathlib.Path(__file__).resolve().parents[1] / "nuke_plugin" / "hotpixel_nuke"


def _constants(path: pathlib.Path) -> dict[str, object]:
    """Module-level ``NAME = literal`` assignments of a plugin file (read, not imported)."""
    out: dict[str, object] = {}
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    out[target.id] = node.value.value
    return out


def _report(tmp_path) -> dict[str, typing.Any]:
    rng = np.random.default_rng(5)
    frames = [dark_plate(rng) for _ in range(5)]
    frames[2][7, 9] = (4.0, 3.0, 3.0)
    pattern = write_sequence(str(tmp_path / "plate"), frames)
    return run_detect(classical_job(pattern, str(tmp_path / "out"))).report


def test_report_has_exactly_the_typed_keys(tmp_path):
    report = _report(tmp_path)
    assert set(report) == set(typing.get_type_hints(schema.ReportDocument))
    assert set(report["source"]) <= set(typing.get_type_hints(schema.Source))
    assert report["schema"] == schema.REPORT_SCHEMA
    assert report["schema_version"] == schema.REPORT_VERSION
    (d,) = report["detections"]
    assert set(d) <= set(typing.get_type_hints(schema.DetectionRecord))
    assert d["kind"] in schema.KINDS


def test_plugin_schema_names_and_versions_match_the_engine():
    report = _constants(PLUGIN / "report.py")
    assert (report["SCHEMA"], report["SCHEMA_VERSION"]) == (
        schema.REPORT_SCHEMA,
        schema.REPORT_VERSION,
    )
    jobs = _constants(PLUGIN / "jobs.py")
    assert (jobs["SCHEMA"], jobs["SCHEMA_VERSION"]) == (schema.JOB_SCHEMA, schema.JOB_VERSION)


def test_plugin_reads_only_keys_the_report_has():
    """Every ``report["key"]`` / ``report.get("key")`` in the plugin names a typed key."""
    typed = set(typing.get_type_hints(schema.ReportDocument)) | {"_path"}  # set by the plugin
    read: set[str] = set()
    for path in PLUGIN.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            base = None
            if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant):
                base, key = node.value, node.slice.value
            elif (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "get"
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                base, key = node.func.value, node.args[0].value
            if isinstance(base, ast.Name) and base.id == "report" and isinstance(key, str):
                read.add(key)
    assert read, "the plugin reads the report somewhere"
    assert read <= typed
