"""The cascade detector: classifier input encoding, the footprint map, export parity, and the
shipped classifier finding a defect in a moving plate while ignoring a moving light."""

from __future__ import annotations

import numpy as np
import pytest

from hotpixel.detect.cascade import candidates as cand
from hotpixel.detect.cascade.detector import CascadeDetector, footprint_map
from hotpixel.detect.cascade.encoding import CHANNELS, PATCH, SCALARS, encode
from hotpixel.detect.motion import MotionCache, align
from hotpixel.detect.windows import Window


def _moving_plate(rng: np.random.Generator, n: int = 5, h: int = 96, w: int = 128) -> np.ndarray:
    """``(n, h, w, 3)`` textured scene panning 2.5 px/frame, grain, scene-linear."""
    yy, xx = np.mgrid[0 : h + 40, 0 : w + 40].astype(np.float32)
    scene = 0.08 + 0.03 * np.sin(xx / 7.0) * np.cos(yy / 11.0) + 0.01 * np.sin((xx + yy) / 3.0)
    scene = np.repeat(scene[..., None], 3, axis=2) * np.array([1.0, 0.9, 0.8], np.float32)
    frames = []
    for t in range(n):
        dx = 2.5 * t
        x0 = int(dx)
        f = dx - x0
        crop = (1 - f) * scene[20 : 20 + h, x0 : x0 + w] + f * scene[
            20 : 20 + h, x0 + 1 : x0 + 1 + w
        ]
        frames.append(crop + rng.normal(0.0, 0.002, crop.shape).astype(np.float32))
    return np.stack(frames).astype(np.float32)


def test_encode_shapes_and_the_defect_stands_out():
    frames = _moving_plate(np.random.default_rng(1))
    frames[2, 40, 60] *= np.array([1.0, 1.0, 6.0], np.float32)  # a blue-only hot photosite
    aligned = align(frames, [0, 1, 2, 3, 4], MotionCache())
    found, _ = cand.find(aligned.frames, aligned.confidence, aligned.flow)
    i = int(np.flatnonzero((found.y == 40) & (found.x == 60))[0])
    assert found.channel[i] == 2
    e = encode(aligned.frames, frames, aligned.confidence, found)
    assert e.patches.shape == (len(found), CHANNELS, PATCH, PATCH)
    assert e.scalars.shape == (len(found), len(SCALARS))
    assert np.isfinite(e.patches).all() and np.isfinite(e.scalars).all()
    c = PATCH // 2
    blue_centre = e.patches[i, 2 * 3 + 2, c, c]  # frame t (index 2), channel B, in stops
    blue_before = e.patches[i, 1 * 3 + 2, c, c]
    assert blue_centre > 2.0 > abs(blue_before)


def test_footprint_map_is_zero_away_from_candidates():
    found = cand.Candidates(
        *(np.array([10, 30]), np.array([12, 40]), np.array([0, 1])),
        *(np.ones(2, np.float32) for _ in range(9)),
    )
    score = np.zeros((48, 64), np.float32)
    score[10, 13] = 9.0  # a second pixel of the first defect
    score[40, 5] = 9.0  # far from any candidate: never painted
    m = footprint_map((48, 64), found, np.array([0.9, 0.0], np.float32), score)
    assert m[10, 12] == pytest.approx(0.9) and m[10, 13] == pytest.approx(0.9)
    assert m[30, 40] == 0.0 and m[40, 5] == 0.0
    assert np.count_nonzero(m) == 2


def test_classifier_export_matches_pytorch(tmp_path):
    torch = pytest.importorskip("torch")
    pytest.importorskip("onnx")
    import onnxruntime as ort

    from hotpixel.detect.model_file import load_classifier
    from hotpixel.ml.training.cascade_net import CascadeNet, export, metadata

    torch.manual_seed(0)
    net = CascadeNet()
    path = str(tmp_path / "c.onnx")
    export(net, path, metadata("test", 0.5))
    rng = np.random.default_rng(2)
    patches = rng.normal(size=(7, CHANNELS, PATCH, PATCH)).astype(np.float32)
    scalars = rng.normal(size=(7, len(SCALARS))).astype(np.float32)
    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    got = session.run(["probability"], {"patches": patches, "scalars": scalars})[0]
    with torch.no_grad():
        want = torch.sigmoid(net(torch.from_numpy(patches), torch.from_numpy(scalars))).numpy()
    np.testing.assert_allclose(got, want, atol=1e-5)
    _, info = load_classifier(path, "cpu")
    assert (info.version, info.patch, info.threshold) == ("test", PATCH, 0.5)


def test_encode_with_no_candidates_is_empty_not_an_error():
    frames = _moving_plate(np.random.default_rng(4))
    aligned = align(frames, [0, 1, 2, 3, 4], MotionCache())
    none = cand.Candidates(
        *(np.zeros(0, np.int64) for _ in range(3)), *(np.zeros(0) for _ in range(9))
    )
    e = encode(aligned.frames, frames, aligned.confidence, none)
    assert e.patches.shape == (0, CHANNELS, PATCH, PATCH) and e.scalars.shape == (0, len(SCALARS))


def test_shipped_cascade_finds_a_defect_on_a_pan_and_not_a_moving_light():
    detector = CascadeDetector(device="cpu")
    frames = _moving_plate(np.random.default_rng(3))
    frames[2, 50, 70] *= 8.0  # a one-frame hot pixel, 7x above its surroundings
    for t in range(5):  # a small light moving with the scene, in every frame
        x = 100 - round(2.5 * t)
        frames[t, 30, x] = 2.0
    window = Window(tuple(frames), (0, 1, 2, 3, 4), 2)
    prob = detector(window)
    assert prob.shape == frames.shape[1:3]
    assert prob[50, 70] >= detector.default_threshold
    assert prob[28:33, 90:102].max() < detector.default_threshold
    assert (prob >= detector.default_threshold).sum() <= 4


def test_the_flow_cache_forgets_a_frame_number_that_shows_another_picture():
    """Windows numbered alike but showing other pictures (an evaluation, another shot) must not
    reuse each other's flows: the second result equals a fresh detector's."""
    detector = CascadeDetector(device="cpu")
    first = _moving_plate(np.random.default_rng(5))
    second = _moving_plate(np.random.default_rng(6))[:, ::-1].copy()  # another picture
    second[2, 40, 30] *= 8.0  # a hot pixel in the second picture
    numbers = (0, 1, 2, 3, 4)
    detector(Window(tuple(first), numbers, 2))
    again = detector(Window(tuple(second), numbers, 2))
    fresh = CascadeDetector(device="cpu")(Window(tuple(second), numbers, 2))
    np.testing.assert_array_equal(again, fresh)
    assert again[40, 30] >= detector.default_threshold


def test_cascade_is_the_default_and_finds_clear_defects(tmp_path):
    """The cascade is the default detector; through the whole pipeline it finds clear
    defects on a plate in motion where they were injected, and little else."""
    from hotpixel.params import DetectParams
    from hotpixel.run.detect import run_detect
    from hotpixel.run.job import DetectJob
    from imagegen import clear_defect_plate

    assert DetectParams().detector == "cascade"
    pattern, defects = clear_defect_plate(str(tmp_path / "p"), (128, 96), 0, (1.0, 2.0))
    report = run_detect(DetectJob(pattern, str(tmp_path / "o"))).report
    assert report["detector"]["name"] == "cascade"
    centre = [d for d in report["detections"] if d["frame"] == 1003]
    for t in defects:
        assert any(abs(d["x"] - t.x) < 1.0 and abs(d["y"] - t.y) < 1.0 for d in centre), t
    assert len(centre) <= len(defects) + 1


def test_flow_scale_auto_keeps_flow_near_a_thousand_pixels_wide():
    from hotpixel.detect.motion import FlowScale

    auto = FlowScale.parse("auto")
    widths = {720: 1.0, 1024: 1.0, 1025: 0.5, 1920: 0.5, 2048: 0.5, 3840: 0.25, 4096: 0.25}
    for width, scale in widths.items():
        assert auto.at(width) == scale, width
    assert auto.at(6144) == 0.125
    assert FlowScale.parse("1").at(3840) == 1.0 and FlowScale.parse("0.25").at(720) == 0.25
    assert str(auto) == "auto" and str(FlowScale.parse("0.5")) == "0.5"
    for bad in ("0", "1.5", "-0.25"):
        with pytest.raises(ValueError, match="flow scale"):
            FlowScale.parse(bad)


def test_a_wide_plate_runs_its_flow_at_half_size_and_still_finds_the_defect():
    from hotpixel.detect.motion import FlowScale

    """At 1152 px wide "auto" runs the flow at half size; the defect is found all the same and
    the light that moves with the scene is not flagged, as at full size."""
    rng = np.random.default_rng(7)
    frames = np.concatenate([_moving_plate(rng, w=576), _moving_plate(rng, w=576)], axis=2)
    frames[2, 50, 700] *= 8.0
    for t in range(5):
        frames[t, 30, 1000 - round(2.5 * t)] = 2.0
    window = Window(tuple(frames), (0, 1, 2, 3, 4), 2)
    results = {}
    for setting in ("auto", "1"):
        # the classifier alone: the second opinion reads no flow and would paint both alike
        detector = CascadeDetector(
            device="cpu", flow_scale=FlowScale.parse(setting), spot_rule=None
        )
        results[setting] = detector(window)
        assert detector.cache.scale == (0.5 if setting == "auto" else 1.0)
    for prob in results.values():
        assert prob[50, 700] >= 0.985
        assert prob[28:33, 985:1002].max() < 0.985
    assert not np.array_equal(results["auto"], results["1"])  # another flow, same finding
