"""Dead, stuck and persistent hot photosites over a shot: `hotpixel sensor`."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest

from hotpixel.cli.main import main
from hotpixel.errors import InputError
from hotpixel.io.geometry import Geometry
from hotpixel.ml.synth.persistent import PersistentDefect, inject, shot_path
from hotpixel.ml.synth.plates import load_plate, put_in_motion
from hotpixel.sensor import SensorParams, ShotAnalysis, as_detections, load_sensor_result
from hotpixel.sensor.background import log_tone, residual
from hotpixel.sensor.motion import MotionEvidence
from imagegen import CLASSICAL, read_channel, write_image, write_sequence

W, H, FRAMES = 128, 96, 20
MOTIONS = {"first", "static", "moving", "changed"}
REPORT_TRACK = re.compile(r"^[a-z]+_-?\d+_\d+\.txt$")  # report.write_tracks deletes these

# hand-placed where the city plate is lit, at least 8 px apart
DEFECTS = [
    PersistentDefect("dead", "single", ((20, 20),), (1.0, 1.0, 1.0), 0.0005),
    PersistentDefect("stuck", "single", ((60, 24),), (1.0, 0.2, 0.15), 0.8),
    PersistentDefect("hot", "single", ((100, 30),), (1.0, 1.0, 1.0), 3.0),
    PersistentDefect("dead", "pair", ((30, 60), (31, 60)), (1.0, 1.0, 1.0), 0.0),
    PersistentDefect("dead", "column", tuple((80, 50 + i) for i in range(6)), (1, 1, 1), 0.0),
    PersistentDefect("hot", "triple", ((105, 70), (106, 70), (105, 71)), (1.0, 0.3, 1.0), 4.0),
]


def _shot(motion: str, seed: int = 7, defects=DEFECTS) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    path = shot_path(rng, FRAMES, motion, speed=2.0)
    plate = put_in_motion(load_plate("city"), path - path.mean(axis=0), (W, H), rng)
    return inject(plate, list(defects), rng)


def _analyse(frames: list[np.ndarray], params: SensorParams | None = None):
    analysis = ShotAnalysis(H, W, params)
    for i, f in enumerate(frames):
        analysis.add(1001 + i, f)
    return analysis.finish(Geometry.simple(W, H))


def _match(found: list[dict], defect: PersistentDefect) -> list[dict]:
    pixels = {(x + 0.5, y + 0.5) for x, y in defect.pixels}
    return [d for d in found if pixels & {tuple(m) for m in d["members"]}]


def test_plate_is_lit_where_defects_sit():
    frame = _shot("moving")[0]
    for d in DEFECTS:
        x, y = d.pixels[0]
        assert np.median(frame[y - 3 : y + 4, x - 3 : x + 4].max(axis=-1)) > 0.02, d


def test_moving_shot_finds_each_defect_with_kind_and_coordinates():
    findings = _analyse(_shot("moving"))
    assert not findings.warnings
    for d in DEFECTS:
        hits = _match(findings.defects, d)
        assert len(hits) == 1, (d, hits)
        hit = hits[0]
        assert hit["kind"] == d.kind
        assert {tuple(m) for m in hit["members"]} == {(x + 0.5, y + 0.5) for x, y in d.pixels}
        assert hit["x"] == pytest.approx(d.x, abs=1e-3)
        assert hit["y"] == pytest.approx(d.y, abs=1e-3)
        assert hit["nuke_y"] == pytest.approx(H - d.y, abs=1e-3)
        assert hit["area"] == len(d.pixels)
        assert 0.5 < hit["confidence"] <= 1.0
        assert hit["first_frame"] >= 1001 and hit["seen_count"] >= FRAMES // 2
    assert len(findings.defects) <= len(DEFECTS) + 1  # at most one false position
    column = _match(findings.defects, DEFECTS[4])[0]
    assert column["bbox"] == [80, 50, 81, 56]


def test_clean_moving_shot_reports_nothing():
    findings = _analyse(_shot("moving", defects=[]))
    assert len(findings.defects) <= 1
    assert findings.evidence_frames >= 8


def test_static_shot_warns_and_does_not_flood():
    findings = _analyse(_shot("static"))
    assert findings.evidence_frames == 0
    messages = [w["message"] for w in findings.warnings]
    assert len(messages) == 1
    assert messages[0].startswith(
        "insufficient motion to separate sensor defects from scene content in frames 1001-1020"
    )
    # no persistent hot pixel can be confirmed without motion; dead/stuck only by invariance
    assert not [d for d in findings.defects if d["kind"] == "hot"]
    truth = {(x + 0.5, y + 0.5) for d in DEFECTS for x, y in d.pixels}
    false = [d for d in findings.defects if not truth & {tuple(m) for m in d["members"]}]
    assert len(false) <= 1
    assert all(d["evidence"] == "invariance" for d in findings.defects)
    assert _match(findings.defects, DEFECTS[1])  # the stuck photosite does not vary in time


def test_partial_motion_finds_defects_and_names_the_static_frames():
    findings = _analyse(_shot("partial"))
    for d in DEFECTS:
        hits = _match(findings.defects, d)
        assert hits and hits[0]["kind"] == d.kind, d
    assert len(findings.warnings) == 1
    assert "in frames 1001-10" in findings.warnings[0]["message"]
    spans = findings.spans
    assert spans[0]["motion"] == "static" and spans[-1]["motion"] == "moving"


def test_nonfinite_values_do_not_crash_or_count():
    frames = _shot("moving")
    frames[3][10, 10] = np.nan
    frames[5][40:42, 40] = np.inf
    frames[6][:] = np.nan  # a whole broken frame
    findings = _analyse(frames)
    assert len(_match(findings.defects, DEFECTS[2])) == 1
    assert not any(tuple(m) == (10.5, 10.5) for d in findings.defects for m in d["members"])


def test_motion_evidence_follows_the_content_under_each_photosite():
    """A camera move of 5, -3 px makes a frame evidence nearly everywhere, and the key's
    residual is taken from where the content came from; the same frame again is evidence
    nowhere."""
    rng = np.random.default_rng(3)
    path = np.array([[0.0, 0.0], [5.0, -3.0], [5.0, -3.0]])
    frames = put_in_motion(load_plate("city"), path, (W, H), rng, grain=0.0)
    tracker = MotionEvidence(H, W)
    steps = []
    for f in frames:
        r, _, _ = residual(log_tone(f), 3.0)
        steps.append(tracker.observe(f, r))
    assert steps[0].label == "first" and steps[0].evidence is None
    moved = steps[1]
    assert moved.label == "moving" and moved.evidence is not None
    assert moved.evidence[10:-10, 10:-10].mean() > 0.8
    assert moved.low is not None and moved.high is not None
    # the content moved -5, +3 in the frame: the key range brackets the new residual
    r1, _, _ = residual(log_tone(frames[1]), 3.0)
    inner = moved.evidence[..., None] & (np.abs(r1) > 0.05)
    inside = (moved.low - 0.02 <= r1) & (r1 <= moved.high + 0.02)
    assert inside[inner].mean() > 0.9
    assert steps[2].evidence is None and steps[2].label == "static"


@pytest.fixture(scope="module")
def plate(tmp_path_factory):
    folder = tmp_path_factory.mktemp("plate")
    return write_sequence(str(folder), _shot("moving"))


def test_cli_writes_json_mask_and_tracks(plate, tmp_path, capsys):
    out = tmp_path / "qc"
    assert main(["sensor", plate, "--out", str(out), "--quiet"]) == 0
    result = load_sensor_result(str(out))
    assert result is not None and result["schema"] == "hotpixel-sensor"
    assert result["schema_version"] == 1
    assert result["source"]["frames"] == "1001-1020" and result["source"]["width"] == W
    assert result["summary"]["defects"] == len(result["defects"]) >= len(DEFECTS)
    mask, spec = read_channel(str(out / "sensor" / "sensor.hotpixel.exr"), "hotpixel.mask")
    assert (spec.full_width, spec.full_height) == (W, H)
    members = [(int(x), int(y)) for d in result["defects"] for x, y in d["members"]]
    assert int(mask.sum()) == len(members) and all(mask[y, x] == 1.0 for x, y in members)
    for d in result["defects"]:
        name = d["track"].split("/")[-1]
        assert not REPORT_TRACK.match(name)
        lines = (out / "tracks" / name).read_text().splitlines()
        assert len(lines) == d["seen_count"]
        first, nx, ny = lines[0].split()
        assert int(first) == d["first_frame"]
        assert (float(nx), float(ny)) == (d["nuke_x"], d["nuke_y"])
    per_frame = as_detections(result)
    assert {e["kind"] for e in per_frame} <= {"dead", "stuck", "hot"}
    assert len(per_frame) == sum(d["seen_count"] for d in result["defects"])
    assert capsys.readouterr().err == ""


def test_detect_into_same_folder_keeps_sensor_tracks(plate, tmp_path):
    out = tmp_path / "qc"
    assert main(["sensor", plate, "--out", str(out), "--quiet"]) == 0
    before = sorted(os.listdir(out / "tracks"))
    assert main(["detect", *CLASSICAL, plate, "--out", str(out), "--quiet"]) == 0
    after = os.listdir(out / "tracks")
    assert set(before) <= set(after)


def test_cli_subprocess_json_progress(plate, tmp_path):
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    cmd = [sys.executable, "-m", "hotpixel", "sensor", plate, "--out", str(tmp_path / "o")]
    proc = subprocess.run(
        [*cmd, "--progress", "json", "--frames", "1001-1010"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    events = [json.loads(line) for line in proc.stdout.splitlines()]
    assert events[0]["event"] == "start" and events[0]["total"] == 10
    assert events[0]["pass"] == "sensor"
    assert events[-1]["event"] == "done" and events[-1]["result"].endswith("sensor.json")
    frames = [e for e in events if e["event"] == "frame"]
    assert len(frames) == 10 and all("detections" not in e for e in frames)  # its own counts
    assert all(e["departing"] >= 0 and e["motion"] in MOTIONS for e in frames)
    assert {e["motion"] for e in frames[1:]} & {"moving", "changed"}  # the shot pans


def test_bar_names_the_sensor_pass(plate, tmp_path, capsys):
    assert main(["sensor", plate, "--out", str(tmp_path / "o"), "--frames", "1001-1004"]) == 0
    err = capsys.readouterr().err
    assert "sensor 4/4 [" in err and "detect " not in err


def test_unconfirmed_candidates_say_why():
    """On a locked-off shot a hot photosite cannot be confirmed: it is listed, with the
    figures that failed both tests."""
    findings = _analyse(_shot("static"))
    hot = DEFECTS[2].pixels[0]
    (cand,) = [c for c in findings.candidates if (c["x"], c["y"]) == (hot[0] + 0.5, hot[1] + 0.5)]
    assert cand["direction"] == "brighter" and cand["evidence_frames"] == 0
    assert cand["reason"].startswith(
        "not confirmed by motion: moving content passed over it in 0 frame(s), 4 needed "
        "(--min-evidence); not invariant: it varies in time "
    )
    assert cand["variation"] > SensorParams().stuck_ratio
    assert f"{cand['variation']:.2f}x as much as its neighbours" in cand["reason"]


def test_errors_and_exit_codes(plate, tmp_path, capsys):
    assert main(["sensor", str(tmp_path / "none.####.exr"), "--out", str(tmp_path / "o")]) == 3
    assert "no frames match" in capsys.readouterr().err
    assert main(["sensor", plate, "--out", str(tmp_path / "o"), "--coverage", "2"]) == 2
    assert "--coverage must be between" in capsys.readouterr().err
    assert main(["sensor", plate, "--out", str(tmp_path / "o"), "--frames", "9-1"]) == 2
    bad = tmp_path / "bad"
    write_sequence(str(bad), _shot("moving")[:4])
    (bad / "shot.1003.exr").write_bytes(b"not an exr")
    assert main(["sensor", str(bad / "shot.####.exr"), "--out", str(tmp_path / "o")]) == 3
    assert "frame 1003" in capsys.readouterr().err
    write_image(str(bad / "shot.1003.exr"), np.zeros((10, 10, 3), np.float32))
    assert main(["sensor", str(bad / "shot.####.exr"), "--out", str(tmp_path / "o")]) == 3
    assert "frame 1003" in capsys.readouterr().err
    assert main(["sensor", plate, "--out", str(tmp_path / "o"), "--frames", "1001-1030"]) == 3


def test_load_sensor_result_absent_and_damaged(tmp_path):
    assert load_sensor_result(str(tmp_path)) is None
    (tmp_path / "sensor").mkdir()
    (tmp_path / "sensor" / "sensor.json").write_text("{")
    with pytest.raises(InputError, match=r"cannot read .*rerun hotpixel sensor"):
        load_sensor_result(str(tmp_path))
    (tmp_path / "sensor" / "sensor.json").write_text('{"schema": "hotpixel-report"}')
    with pytest.raises(InputError, match="not a hotpixel-sensor file"):
        load_sensor_result(str(tmp_path))


def test_persistent_injection_is_deterministic():
    from hotpixel.ml.synth.persistent import defect_shot

    still = load_plate("night")
    a, da = defect_shot(still, np.random.default_rng(5), (64, 48), 3, "moving", count=4)
    b, db = defect_shot(still, np.random.default_rng(5), (64, 48), 3, "moving", count=4)
    assert da == db and all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    assert {d.kind for d in da} <= {"dead", "stuck", "hot"}


def test_sensor_findings_are_folded_into_the_detect_report(tmp_path):
    """A sensor pass into a detect folder adds its positions and warnings to report.json."""
    from imagegen import dark_plate

    rng = np.random.default_rng(9)
    frames = [dark_plate(rng, 64, 48) for _ in range(6)]
    pattern = write_sequence(str(tmp_path / "p"), frames)
    out = tmp_path / "qc"
    assert main(["detect", "--detector", "classical", pattern, "--out", str(out), "--quiet"]) == 0
    assert json.loads((out / "report.json").read_text())["sensor"] is None
    assert main(["sensor", pattern, "--out", str(out), "--quiet"]) == 0
    sensor = json.loads((out / "report.json").read_text())["sensor"]
    assert sensor["file"] == "sensor/sensor.json"
    written = json.loads((out / "sensor" / "sensor.json").read_text())
    assert sensor["warnings"] == written["warnings"]
    assert [d["id"] for d in sensor["defects"]] == [d["id"] for d in written["defects"]]


def _forest_shot(defects: list[PersistentDefect]) -> list[np.ndarray]:
    """A moving shot over the forest plate's foliage, where the local noise is highest."""
    rng = np.random.default_rng(11)
    path = shot_path(rng, FRAMES, "moving", speed=2.0)
    plate = put_in_motion(load_plate("forest"), path - path.mean(axis=0), (W, H), rng)
    return inject(plate, defects, np.random.default_rng(1))


# weak persistent hot photosites (0.3-0.5 of the local level on top) on dense texture
WEAK_ON_TEXTURE = [
    PersistentDefect("hot", "single", ((51, 21),), (1.0, 1.0, 1.0), 0.5),
    PersistentDefect("hot", "single", ((23, 17),), (1.0, 1.0, 1.0), 0.5),
    PersistentDefect("hot", "single", ((61, 55),), (1.0, 1.0, 1.0), 0.3),
]


def test_weak_hot_pixels_on_moving_texture_are_found_by_persistence():
    """Regression: on texture the local threshold rises and a weak persistent hot
    photosite rarely crosses it; its same-signed departures over the evidence frames do."""
    frames = _forest_shot(WEAK_ON_TEXTURE)
    findings = _analyse(frames)
    for d in WEAK_ON_TEXTURE:
        hits = _match(findings.defects, d)
        assert len(hits) == 1, d
        assert hits[0]["kind"] == "hot" and hits[0]["evidence"] == "motion"
        assert hits[0]["members"] == [[d.pixels[0][0] + 0.5, d.pixels[0][1] + 0.5]]
    assert len(findings.defects) == len(WEAK_ON_TEXTURE)
    # the counting test alone (departures crossing --sigma) misses them all
    assert _analyse(frames, SensorParams(persistence=0.0)).defects == []


def test_moving_texture_without_defects_yields_nothing():
    findings = _analyse(_forest_shot([]))
    assert findings.defects == []
    assert findings.evidence_frames >= 8


def test_strong_defect_shadow_in_the_median_is_not_a_defect():
    """A photosite far above its neighbours shifts their 5x5 median up, so they read slightly
    dark in every frame: the persistence score confirms the photosite, not its shadow, while
    an equally weak dark photosite away from any strong one is confirmed, and one whose
    departure stays below the ~0.2 stop floor is not."""
    from hotpixel.sensor.classify import pixel_maps
    from hotpixel.sensor.stats import ShotStats

    stats = ShotStats(32, 32)
    stats.n[:] = stats.n_ev[:] = 30
    root = np.sqrt(30.0)
    for (y, x), score, mean in (
        ((10, 10), 10.0, 0.2),  # strong, brighter
        ((12, 11), -4.0, -0.04),  # its shadow: darker, within 2 px
        ((24, 24), -4.0, -0.04),  # a weak darker photosite on its own
        ((5, 25), -4.0, -0.01),  # consistent, 0.08 stop (5%) off: below the floor
    ):
        stats.sum_un[y, x] = score * root
        stats.sum_r[y, x] = mean * 30
    maps = pixel_maps(stats, SensorParams())
    assert sorted(zip(*np.nonzero(maps.motion), strict=True)) == [(10, 10), (24, 24)]
    assert maps.sign[10, 10] == 1 and maps.sign[24, 24] == -1
    off = pixel_maps(stats, SensorParams(persistence=0.0))
    assert not off.motion.any()
