"""report.otio: the plate's clip and one marker per group, read back with OpenTimelineIO."""

from __future__ import annotations

import json
import os

import numpy as np
import opentimelineio as otio
import pytest

from hotpixel.outputs.merge import merge_report
from hotpixel.outputs.timeline import DEFAULT_RATE, KIND_COLOURS, build_timeline
from hotpixel.run.detect import run_detect
from imagegen import classical_job, dark_plate, write_sequence

FIRST, COUNT = 1001, 8
HITS = {1: (10, 20), 5: (30, 40)}  # frame index -> (y, x): one-frame hot pixels


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    rng = np.random.default_rng(32)
    frames = [dark_plate(rng, 64, 48) for _ in range(COUNT)]
    for i, (y, x) in HITS.items():
        frames[i][y, x] = (3.0, 0.2, 0.2)
    pattern = write_sequence(str(tmp_path_factory.mktemp("plate")), frames, first=FIRST)
    out = str(tmp_path_factory.mktemp("out"))
    run_detect(classical_job(pattern, out))  # type: ignore[arg-type]
    with open(os.path.join(out, "report.json"), encoding="utf-8") as fh:
        return pattern, out, json.load(fh)


def _clip(out: str) -> otio.schema.Clip:
    timeline = otio.adapters.read_from_file(os.path.join(out, "report.otio"))
    clips = list(timeline.find_clips())
    assert len(clips) == 1
    return clips[0]


def test_clip_has_the_plate_its_range_and_rate(run):
    pattern, out, _ = run
    clip = _clip(out)
    ref = clip.media_reference
    assert isinstance(ref, otio.schema.ImageSequenceReference)
    assert ref.name_prefix == "shot." and ref.name_suffix == ".exr"
    assert ref.frame_zero_padding == 4
    assert otio.url_utils.filepath_from_url(ref.target_url_for_image_number(0)) == (
        pattern.replace("####", f"{FIRST}")
    )
    rng = clip.source_range
    assert rng.start_time.to_frames() == FIRST
    assert rng.duration.to_frames() == COUNT
    assert rng.start_time.rate == DEFAULT_RATE
    assert clip.metadata["hotpixel"]["rate_assumed"] is True


def test_one_marker_per_group_named_coloured_and_placed(run):
    _, out, report = run
    markers = list(_clip(out).markers)
    groups = report["groups"]
    assert len(groups) == len(HITS)
    assert [m.name for m in markers] == [g["id"] for g in groups]
    for m, g in zip(markers, groups, strict=True):
        assert m.color == KIND_COLOURS[g["kind"]]
        assert m.marked_range.start_time.to_frames() == g["first_frame"]
        assert m.marked_range.duration.to_frames() == g["last_frame"] - g["first_frame"] + 1
        assert f"x {g['x']:.1f}, y {g['y']:.1f}" in m.comment
        assert f"score {g['score']:.3f}" in m.comment
        assert list(m.metadata["hotpixel"]["detections"]) == g["detections"]
    spans = {(g["first_frame"], g["last_frame"]) for g in groups}
    assert spans == {(FIRST + i, FIRST + i) for i in HITS}


def test_merge_rewrites_the_timeline(run):
    _, out, _ = run
    path = os.path.join(out, "report.otio")
    os.remove(path)
    merge_report(out)
    assert len(list(_clip(out).markers)) == len(run[2]["groups"])


def test_movie_reference_and_its_rate():
    report = {
        "source": {
            "pattern": "/shots/a.mov",
            "rate": 25.0,
            "first_frame": 90000,
            "last_frame": 90009,
        },
        "groups": [],
        "sensor": {
            "defects": [
                {
                    "id": 3,
                    "kind": "stuck",
                    "x": 4.5,
                    "y": 7.5,
                    "confidence": 0.9,
                    "first_frame": 90000,
                    "last_frame": 90009,
                    "frames_seen": "90000-90009",
                }
            ]
        },
    }
    timeline = otio.adapters.read_from_string(
        otio.adapters.write_to_string(build_timeline(report), "otio_json")
    )
    clip = next(iter(timeline.find_clips()))
    assert isinstance(clip.media_reference, otio.schema.ExternalReference)
    assert otio.url_utils.filepath_from_url(clip.media_reference.target_url) == "/shots/a.mov"
    assert clip.source_range.start_time.rate == 25.0
    assert otio.opentime.to_timecode(clip.source_range.start_time) == "01:00:00:00"
    (marker,) = clip.markers
    assert marker.name == "sensor_stuck_3" and marker.color == KIND_COLOURS["stuck"]
    assert marker.marked_range.duration.to_frames() == 10
    assert "(from 01:00:00:00)" in marker.comment
