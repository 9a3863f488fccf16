"""The cascade's fast paths give what the plain code gives.

The classifier is trained on the candidate stage's exact output, so the speed work (flows two
at a time, in-place float32 arithmetic, cutouts without padding the whole window, bands, a cap
with a warning) must not move a single candidate. The reference below is the code as it stood
before that work (commit bcc1e53), written out plainly; the fast path is what ships. Results
are exact but for flow confidence, whose vector lengths come from OpenCV (within 1 ulp of
np.hypot's): confidences within 1e-6, the detector's map within 1e-4 (the speed work's bar) and its
detections the same pixels.
"""

from __future__ import annotations

import dataclasses

import cv2
import numpy as np
import pytest

from hotpixel.detect import motion
from hotpixel.detect.cascade import candidates as cand
from hotpixel.detect.cascade.candidates import DEVIATION_TO_SIGMA, RANGE_TO_SIGMA_BY_COUNT

# ---- the reference: motion.py, candidates.py and the cascade's __call__ before the fast paths ----


def ref_warp(frame: np.ndarray, flow: np.ndarray) -> np.ndarray:
    h, w = flow.shape[:2]
    xx, yy = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    out = cv2.remap(
        frame,
        xx + flow[..., 0],
        yy + flow[..., 1],
        cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REPLICATE,
    )
    return np.asarray(out).reshape(frame.shape)


def ref_consistency(forward: np.ndarray, backward: np.ndarray) -> np.ndarray:
    h, w = forward.shape[:2]
    back = ref_warp(backward, forward)
    error = np.hypot(*(forward + back).transpose(2, 0, 1))
    tolerance = 0.7 + 0.05 * (
        np.hypot(*forward.transpose(2, 0, 1)) + np.hypot(*back.transpose(2, 0, 1))
    )
    confidence = np.exp(-0.5 * (error / tolerance) ** 2)
    xx, yy = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    tx, ty = xx + forward[..., 0], yy + forward[..., 1]
    inside = (tx >= 0) & (tx <= w - 1) & (ty >= 0) & (ty <= h - 1)
    return np.where(inside, confidence, 0.0).astype(np.float32)


def ref_photometric(image_a: np.ndarray, image_b: np.ndarray, flow: np.ndarray) -> np.ndarray:
    warped = ref_warp(image_b.astype(np.float32), flow)
    error = cv2.blur(np.abs(image_a.astype(np.float32) - warped), (7, 7))
    return np.exp(-0.5 * (error / 12.0) ** 2).astype(np.float32)


def ref_align(frames: np.ndarray, numbers: list[int], preset: str = "medium") -> motion.Aligned:
    """One DIS instance, every flow computed in turn, nothing cached across windows."""
    dis = cv2.DISOpticalFlow.create(motion.PRESETS[preset])
    images = {n: motion.flow_image(f) for n, f in zip(numbers, frames, strict=True)}
    centre = len(frames) // 2
    c = numbers[centre]
    out = np.empty_like(frames)
    confidence = np.empty(frames.shape[:3], np.float32)
    flows = np.zeros((*frames.shape[:3], 2), np.float32)
    for t, (n, frame) in enumerate(zip(numbers, frames, strict=True)):
        if n == c:
            out[t], confidence[t], flows[t] = frame, 1.0, 0.0
            continue
        forward = np.asarray(dis.calc(images[c], images[n], None))
        backward = np.asarray(dis.calc(images[n], images[c], None))
        conf = ref_consistency(forward, backward)
        conf *= ref_photometric(images[c], images[n], forward)
        out[t], confidence[t], flows[t] = ref_warp(frame, forward), conf, forward
    return motion.Aligned(out, confidence, flows)


def ref_box(image: np.ndarray, radius: int) -> np.ndarray:
    size = (2 * radius + 1, 2 * radius + 1)
    return np.asarray(cv2.blur(image, size, borderType=cv2.BORDER_REFLECT)).reshape(image.shape)


def ref_max_filter(image: np.ndarray, radius: int) -> np.ndarray:
    if radius <= 0:
        return image
    kernel = np.ones((2 * radius + 1, 2 * radius + 1), np.uint8)
    return np.asarray(cv2.dilate(image, kernel, borderType=cv2.BORDER_REPLICATE)).reshape(
        image.shape
    )


def ref_evidence(
    centre: np.ndarray,
    neighbours: np.ndarray,
    p: cand.CandidateParams,
    confidence: np.ndarray | None,
) -> cand.Evidence:
    if confidence is None:
        valid = np.ones((*neighbours.shape[:3], 1), bool)
    else:
        valid = confidence >= p.min_confidence
        valid |= ~valid.any(axis=0, keepdims=True)
        valid = valid[..., None]
    reference = np.full(centre.shape, -np.inf, np.float32)
    for n, ok in zip(neighbours, valid, strict=True):
        np.maximum(reference, np.where(ok, ref_max_filter(n, p.tolerance), -np.inf), out=reference)
    residual = centre - reference
    count = valid.sum(axis=0)
    high = np.where(valid, neighbours, -np.inf).max(axis=0)
    low = np.where(valid, neighbours, np.inf).min(axis=0)
    expected_range = RANGE_TO_SIGMA_BY_COUNT[np.minimum(count, len(RANGE_TO_SIGMA_BY_COUNT) - 1)]
    disagreement = ref_box((high - low) / expected_range, p.noise_radius)
    if p.centre_noise:
        mean = np.where(valid, neighbours, 0.0).sum(axis=0) / count
        deviation = np.abs(centre - mean).astype(np.float32)
        ring = (ref_box(deviation, 3) * 49.0 - ref_box(deviation, 1) * 9.0) / 40.0
        np.maximum(disagreement, ring / DEVIATION_TO_SIGMA, out=disagreement)
    level = (ref_box(centre, 2) * 25.0 - ref_box(centre, 1) * 9.0) / 16.0
    floor = p.floor + p.floor_relative * np.maximum(level, 0.0)
    sigma = np.sqrt(disagreement**2 + floor**2)
    above = centre - level > p.min_excess * np.maximum(level, 0.0) + sigma
    score = np.where(above, residual / sigma, 0.0).astype(np.float32)
    return cand.Evidence(residual, sigma, level, score)


def ref_find(
    frames: np.ndarray,
    confidence: np.ndarray | None,
    flow: np.ndarray | None,
    p: cand.CandidateParams,
) -> tuple[cand.Candidates, cand.Evidence]:
    t = len(frames) // 2
    centre = frames[t]
    conf = None if confidence is None else np.delete(confidence, t, axis=0)
    ev = ref_evidence(centre, np.delete(frames, t, axis=0), p, conf)
    best = ev.score.argmax(axis=2)
    score2d = np.take_along_axis(ev.score, best[..., None], axis=2)[..., 0]
    ys, xs = cand.peaks(score2d, p.threshold, p.spacing)
    ch = best[ys, xs]
    value, level = centre[ys, xs, ch], ev.level[ys, xs, ch]
    n = len(ys)
    if conf is not None:
        low, mean = conf[:, ys, xs].min(axis=0), conf[:, ys, xs].mean(axis=0)
    else:
        low = mean = np.ones(n, np.float32)
    if flow is not None:
        moved = np.hypot(flow[:, ys, xs, 0], flow[:, ys, xs, 1]).max(axis=0)
    else:
        moved = np.zeros(n, np.float32)
    found = cand.Candidates(
        ys,
        xs,
        ch,
        score2d[ys, xs],
        ev.residual[ys, xs, ch],
        ev.sigma[ys, xs, ch],
        level,
        value,
        value / np.maximum(level, 1e-6) - 1.0,
        low,
        mean,
        moved,
    )
    return found, ev


def ref_cutouts(stack: np.ndarray, ys: np.ndarray, xs: np.ndarray, size: int) -> np.ndarray:
    r = size // 2
    padded = np.pad(stack, ((0, 0), (r, r), (r, r), (0, 0)), mode="reflect")
    offs = np.arange(size)
    rows = (ys[:, None] + offs[None, :])[:, :, None]
    cols = (xs[:, None] + offs[None, :])[:, None, :]
    return np.ascontiguousarray(padded[:, rows, cols, :].transpose(1, 0, 2, 3, 4))


# ---- windows -------------------------------------------------------------------------------


def moving_window(rng: np.random.Generator, n: int = 7, h: int = 72, w: int = 96) -> np.ndarray:
    """``(n, h, w, 3)`` float32: a textured HDR scene panning 1.7 px and tilting 0.6 px a frame,
    grain, a few one-frame spikes (one in a single channel), values above 1 and near 0."""
    noise = rng.random((h + 40, w + 40, 3)).astype(np.float32)
    scene = cv2.GaussianBlur(noise, (0, 0), 2.0) + 0.5 * cv2.GaussianBlur(noise, (0, 0), 6.0)
    scene = 0.002 + 3.0 * ((scene - scene.min()) / (scene.max() - scene.min())) ** 3
    frames = []
    for t in range(n):
        m = np.array([[1, 0, -20 - 1.7 * t], [0, 1, -20 - 0.6 * t]], np.float32)
        frame = cv2.warpAffine(scene, m, (w, h), flags=cv2.INTER_LINEAR)
        frame = frame + rng.normal(0.0, 0.003, frame.shape).astype(np.float32)
        for _ in range(3):
            frame[rng.integers(h), rng.integers(w)] += np.float32(2.0)
        frame[rng.integers(h), rng.integers(w), 2] *= np.float32(8.0)
        frames.append(np.maximum(frame, 0.0))
    return np.stack(frames).astype(np.float32)


def assert_same_candidates(fast: cand.Candidates, ref: cand.Candidates) -> None:
    for f in dataclasses.fields(cand.Candidates):
        got, want = getattr(fast, f.name), getattr(ref, f.name)
        if f.name in ("y", "x", "channel"):
            np.testing.assert_array_equal(got, want, err_msg=f.name)
        else:
            np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7, err_msg=f.name)


# ---- tests ---------------------------------------------------------------------------------


@pytest.mark.parametrize("workers", [1, 2])
def test_align_matches_the_reference_across_windows_and_a_mirrored_start(workers):
    frames = moving_window(np.random.default_rng(20))
    cache = motion.MotionCache(workers=workers)
    plans = [[2, 1, 0, 1, 2], [3, 0, 1, 2, 3], [0, 1, 2, 3, 4], [1, 2, 3, 4, 5], [2, 3, 4, 5, 6]]
    for numbers in plans:  # frames 0..4 of a shot, as plan_windows gives them
        fast = motion.align(frames[numbers], numbers, cache)
        ref = ref_align(frames[numbers], numbers)
        # the same operations in the same order: exact, not merely close; but for vector
        # lengths in the confidence, OpenCV's within 1 ulp of np.hypot's
        np.testing.assert_array_equal(fast.flow, ref.flow)
        np.testing.assert_allclose(fast.confidence, ref.confidence, rtol=0, atol=1e-6)
        np.testing.assert_array_equal(fast.frames, ref.frames)
    # each ordered pair once, shared by the windows that need it: 0<->1, 0<->2; 1<->2, 1<->3;
    # 2<->3, 2<->4; 3<->4, 3<->5; 4<->5, 4<->6
    assert cache.computed == 5 * 4


def test_consistency_and_warp_match_the_reference_at_the_picture_edge():
    rng = np.random.default_rng(3)
    forward = rng.normal(0.0, 3.0, (40, 52, 2)).astype(np.float32)  # carries points outside
    backward = rng.normal(0.0, 3.0, (40, 52, 2)).astype(np.float32)
    np.testing.assert_allclose(
        motion.consistency(forward, backward), ref_consistency(forward, backward), atol=1e-6
    )
    image = rng.integers(0, 256, (40, 52), dtype=np.uint8)
    other = rng.integers(0, 256, (40, 52), dtype=np.uint8)
    np.testing.assert_array_equal(
        motion.photometric(image, other, forward), ref_photometric(image, other, forward)
    )


@pytest.mark.parametrize(
    "params",
    [
        cand.CandidateParams(),
        cand.CandidateParams(threshold=3.0),
        cand.CandidateParams(tolerance=0, centre_noise=False, min_confidence=0.6),
    ],
)
@pytest.mark.parametrize("trust", ["flow", "partly", "none"])
def test_find_matches_the_reference(params, trust):
    frames = moving_window(np.random.default_rng(21), n=5)
    aligned = ref_align(frames, [0, 1, 2, 3, 4])
    confidence: np.ndarray | None = aligned.confidence.copy()
    if trust == "partly":  # a neighbour untrusted over a band, another over a corner
        assert confidence is not None
        confidence[1, 20:40] = 0.1
        confidence[3, :30, :30] = 0.0
    elif trust == "none":
        confidence = None
    found, ev = cand.find(aligned.frames, confidence, aligned.flow, params)
    want, ref_ev = ref_find(aligned.frames, confidence, aligned.flow, params)
    assert len(want) > 0
    assert_same_candidates(found, want)
    for f in dataclasses.fields(cand.Evidence):
        np.testing.assert_array_equal(getattr(ev, f.name), getattr(ref_ev, f.name), f.name)


@pytest.mark.parametrize("dtype", [np.float32, np.float16])
def test_cutouts_match_padding_the_whole_stack(dtype):
    rng = np.random.default_rng(5)
    stack = rng.normal(size=(3, 11, 14, 2)).astype(dtype)
    ys, xs = np.array([0, 10, 5, 0, 10]), np.array([0, 13, 7, 13, 0])
    for size in (3, 9, 15, 23):  # 15 and 23 reach past the 11-row picture: reflected twice
        np.testing.assert_array_equal(
            cand.cutouts(stack, ys, xs, size), ref_cutouts(stack, ys, xs, size)
        )


@pytest.fixture(scope="module")
def classifier(tmp_path_factory: pytest.TempPathFactory) -> str:
    """An untrained cascade classifier of the shipped architecture (fixed seed)."""
    torch = pytest.importorskip("torch")
    pytest.importorskip("onnx")
    from hotpixel.ml.training.cascade_net import CascadeNet, export, metadata

    torch.manual_seed(20)
    path = str(tmp_path_factory.mktemp("classifier") / "c.onnx")
    export(CascadeNet(), path, metadata("test", 0.5))
    return path


def test_cascade_map_matches_the_reference_pipeline(classifier):
    from hotpixel.detect.cascade.detector import CascadeDetector, footprint_map
    from hotpixel.detect.cascade.encoding import encode
    from hotpixel.detect.cascade.spot import opinions, overrule
    from hotpixel.detect.cascade.stage import find_candidates
    from hotpixel.detect.windows import Window

    def stage_of(raw, numbers):
        return find_candidates(list(raw), numbers, motion.MotionCache(workers=1), detector.params)

    frames = moving_window(np.random.default_rng(22))
    detector = CascadeDetector(classifier, "cpu")
    for numbers in ([2, 1, 0, 1, 2], [3, 0, 1, 2, 3], [0, 1, 2, 3, 4], [2, 3, 4, 5, 6]):
        window = Window(tuple(frames[n] for n in numbers), tuple(numbers), 2)
        got = detector(window)
        raw = frames[numbers]
        aligned = ref_align(raw, numbers)
        found, ev = ref_find(aligned.frames, aligned.confidence, aligned.flow, detector.params)
        prob = detector.classify(encode(aligned.frames, raw, aligned.confidence, found))
        # the decision's second opinion, on the reference stage's candidates
        said = opinions(dataclasses.replace(stage_of(raw, numbers), found=found))
        prob = overrule(prob, said)
        want = footprint_map(raw.shape[1:3], found, prob, ev.score.max(axis=2))
        assert detector.last_candidates == len(found) > 0
        # the bar: the same detections, scores within 1e-4
        np.testing.assert_array_equal(got > 0, want > 0)
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-4)
    assert detector.take_warnings() == []


def test_a_frame_over_the_candidate_cap_keeps_the_best_and_warns(classifier):
    from hotpixel.detect.cascade.detector import CascadeDetector
    from hotpixel.detect.windows import Window

    frames = moving_window(np.random.default_rng(23), n=5)
    window = Window(tuple(frames), (10, 11, 12, 13, 14), 2)
    full = CascadeDetector(classifier, "cpu", params=cand.CandidateParams(threshold=2.0))
    full(window)
    assert full.last_candidates > 3
    capped = CascadeDetector(
        classifier, "cpu", params=cand.CandidateParams(threshold=2.0), max_candidates=3
    )
    capped(window)
    assert capped.last_candidates == 3
    warnings = capped.take_warnings()
    assert len(warnings) == 1 and warnings[0][0] == "candidates_capped"
    assert "frame 12:" in warnings[0][1] and "cap of 3" in warnings[0][1]
    assert capped.take_warnings() == []  # each warning is handed over once


def test_a_sequence_run_reuses_each_flow_and_reports_the_cap(classifier, tmp_path, monkeypatch):
    """Through run/detect.py with its read-ahead: four DIS runs a frame once under way (each
    ordered pair once), and the cap's warning reaches the run's progress."""
    import io

    from hotpixel.detect.cascade.detector import CascadeDetector
    from hotpixel.progress import Progress
    from hotpixel.run import detect as run_mod
    from hotpixel.run.job import DetectJob
    from imagegen import write_sequence

    frames = moving_window(np.random.default_rng(24), n=8, h=48, w=64)
    pattern = write_sequence(str(tmp_path / "plate"), list(frames), fmt="float")
    made: list[CascadeDetector] = []

    def create(params: object) -> CascadeDetector:
        made.append(CascadeDetector(classifier, "cpu", max_candidates=1))
        return made[-1]

    monkeypatch.setattr(run_mod, "create", create)
    stream = io.StringIO()
    progress = Progress("json", stream)
    run_mod.run_detect(DetectJob(pattern, str(tmp_path / "out")), progress)
    # 8 frames: every ordered pair at distance 1 or 2, once: 2 * (7 + 6)
    assert made[0].cache.computed == 26
    capped = [w for w in progress.warnings if "more than the cap of 1" in w]
    assert capped and '"code": "candidates_capped"' in stream.getvalue()


def test_align_by_blocks_of_rows_matches_the_reference(monkeypatch):
    """Flow images and the photometric check go a block of rows at a time (3 rows of halo for
    the 7x7 box); with 16-row blocks the results are still the reference's."""
    monkeypatch.setattr(motion, "BLOCK_PIXELS", 16 * 96)
    frames = moving_window(np.random.default_rng(24), n=5)
    fast = motion.align(frames, [0, 1, 2, 3, 4], motion.MotionCache(workers=1))
    ref = ref_align(frames, [0, 1, 2, 3, 4])
    np.testing.assert_array_equal(fast.flow, ref.flow)
    np.testing.assert_allclose(fast.confidence, ref.confidence, rtol=0, atol=1e-6)
