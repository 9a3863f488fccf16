"""Hits grouped by place, detection ids, the clean mask and the labelled hit sheet."""

from __future__ import annotations

import json

import numpy as np
import pytest

from hotpixel.detect.grouping import GROUP_SHARE
from hotpixel.outputs import groups as grouping
from hotpixel.outputs.groups import assign_ids, ensure_ids_and_groups, group_detections
from hotpixel.outputs.hit_sheet import build_sheet, context_frames, marked_box
from hotpixel.outputs.masks import FLOOR_SHARE, clean_mask, mask_floor
from hotpixel.run.detect import run_detect
from imagegen import classical_job, dark_plate, read_channel, write_sequence


def _hit(frame, x, y, kind="hot", score=0.9):
    return {"frame": frame, "x": x, "y": y, "kind": kind, "score": score}


def _grouped(hits):
    assign_ids(hits)
    return group_detections(hits)


def test_a_light_drifting_with_a_pan_is_one_group():
    """A light moving 1.5 px per frame, missed in two frames, stays one place."""
    light = [_hit(1001 + i, 100.5 + 1.5 * i, 50.5 + 0.5 * i) for i in range(12) if i not in (5, 6)]
    singles = [_hit(1003, 400.5, 300.5), _hit(1008, 20.5, 10.5), _hit(1008, 99.5, 200.5)]
    groups = _grouped(light + singles)
    assert [g["count"] for g in groups] == [10, 1, 1, 1]
    assert groups[0]["frames"] == "1001-1005, 1008-1012" and groups[0]["id"] == "g1"
    assert {d["group"] for d in light} == {"g1"}
    assert groups[0]["detections"] == [d["id"] for d in light]


def test_hot_pixels_of_other_frames_nearby_do_not_join_a_group():
    """Single-frame defects a few frames apart and far beyond the reach stay apart; kinds
    never mix."""
    hits = [
        _hit(1001, 50.5, 50.5),
        _hit(1002, 62.5, 50.5),  # 12 px: beyond the reach of one frame, and of four
        _hit(1003, 50.5, 50.5, kind="nonfinite"),
        _hit(1001 + grouping.MAX_GAP + 1, 50.5, 50.5),  # too many frames later
    ]
    assert [g["count"] for g in _grouped(hits)] == [1, 1, 1, 1]


def test_a_light_split_in_two_in_one_frame_stays_one_place():
    hits = [_hit(1001, 10.5, 10.5), _hit(1002, 11.5, 10.5), _hit(1002, 15.5, 12.5, score=0.99)]
    (group,) = _grouped(hits)
    assert group["count"] == 3 and group["frames"] == "1001-1002"
    assert group["representative"] == "hot_1002_1"  # the highest score stands for the place


def test_ids_follow_kind_frame_and_order_and_old_reports_get_them():
    hits = [_hit(1001, 1.5, 1.5), _hit(1001, 9.5, 9.5), _hit(1001, 5.5, 5.5, kind="nonfinite")]
    assert assign_ids(hits) == ["hot_1001_0", "hot_1001_1", "nonfinite_1001_0"]
    old = {"detections": [{k: v for k, v in h.items() if k != "id"} for h in hits]}
    detections, groups = ensure_ids_and_groups(old)
    assert [d["id"] for d in detections] == [h["id"] for h in hits] and len(groups) == 3
    assert "id" not in old["detections"][0]  # the report itself is left alone


def test_grouping_thousands_of_hits_is_quick():
    rng = np.random.default_rng(3)
    hits = [
        _hit(1001 + f, float(x), float(y))
        for f in range(100)
        for x, y in rng.uniform(0, 4096, size=(100, 2))
    ]
    assert len(_grouped(hits)) > 9000  # random places: almost all alone


# -- the mask --------------------------------------------------------------------------------


def test_mask_floor_is_the_grouping_level():
    assert FLOOR_SHARE == GROUP_SHARE  # nothing a group could hold is cut from the mask
    prob = np.array([[0.0, 0.02, 0.39], [0.4, 0.79, 0.95]], np.float32)
    clean = clean_mask(prob, 0.8)
    assert mask_floor(0.8) == pytest.approx(0.4)
    assert clean.dtype == np.float32
    assert np.array_equal(clean, np.array([[0, 0, 0], [0.4, 0.79, 0.95]], np.float32))
    assert np.array_equal(clean >= 0.8, prob >= 0.8)  # binarised: the same pixels


def test_detect_writes_a_clean_mask(tmp_path):
    """Regression: the mask was 0.01-0.05 over much of the frame."""
    rng = np.random.default_rng(4)
    frames = [dark_plate(rng, 64, 48) for _ in range(5)]
    frames[2][20, 30] = (4.0, 4.0, 4.0)
    pattern = write_sequence(str(tmp_path / "p"), frames)
    out = tmp_path / "out"
    report = run_detect(classical_job(pattern, str(out))).report
    assert report["mask"]["floor"] == pytest.approx(report["threshold"] * FLOOR_SHARE)
    mask, _ = read_channel(str(out / "masks" / "shot.hotpixel.1003.exr"), "hotpixel.mask")
    lit = mask > 0
    assert mask[20, 30] >= report["threshold"]
    assert lit.sum() <= 9 and (mask[lit] >= report["mask"]["floor"] - 1e-3).all()
    (d,) = report["detections"]
    assert (d["id"], d["group"]) == ("hot_1003_0", "g1")
    assert json.loads((out / "report.json").read_text())["groups"][0]["detections"] == [d["id"]]


# -- the hit sheet ---------------------------------------------------------------------------


def test_hit_sheet_rows_are_labelled_marked_and_say_no_frame():
    frame = np.full((40, 60, 3), 0.05, np.float32)
    frame[20, 30] = (4.0, 4.0, 4.0)
    det = {"id": "hot_1002_0", "frame": 1002, "x": 30.5, "y": 20.5, "kind": "hot",
           "score": 0.97, "bbox": [30, 20, 31, 21]}  # fmt: skip
    frames, own, labels = context_frames(det)
    assert frames == [1000, 1001, 1002, 1003, 1004] and own == 2
    assert labels[0] == "t-2 (1000)" and labels[2] == "t (1002)"
    assert marked_box(det) == (8, 8, 9, 9)
    sheet = build_sheet([det], lambda f: frame if f >= 1001 else None, zoom=8)
    blank = build_sheet([det], lambda f: frame if f >= 1001 else None, zoom=8)
    assert np.array_equal(sheet, blank)  # drawing is deterministic
    cell, head, label = 17 * 8 + 6, 20, 16
    text_rows = sheet[:head]
    assert (text_rows > 0.5).sum() > 200  # the caption is drawn
    tile_y, tile_x = head + label + 3, 2 * cell + 3
    centre = sheet[tile_y + 8 * 8 : tile_y + 9 * 8, tile_x + 8 * 8 : tile_x + 9 * 8]
    assert (centre > 0.9).all()  # the hot pixel itself, not covered by its outline
    assert np.allclose(sheet[tile_y + 8 * 8 - 2, tile_x + 8 * 8 + 2], (0.1, 0.9, 1.0))  # outline
    missing = sheet[tile_y : tile_y + 17 * 8, 3 : 3 + 17 * 8]
    assert np.allclose(missing, 0.18)  # t-2 does not exist: grey, no outline
