"""The cascade's second opinion: clear, isolated, photosite-sized spots absent from the rest of
the window are flagged whatever the classifier says; lights, blobs and blur are not; where no
neighbour saw the place the spot test alone decides.
"""

from __future__ import annotations

import dataclasses

import cv2
import numpy as np
import pytest

from hotpixel.detect.cascade import candidates as cand
from hotpixel.detect.cascade.spot import FLAG, VETO, SpotRule, opinions, overrule, spots, unseen
from hotpixel.detect.cascade.stage import CandidateWindow, find_candidates
from hotpixel.detect.motion import MotionCache

H, W = 48, 64


def _window(rng: np.random.Generator, dtype=np.float32) -> list[np.ndarray]:
    """Five frames of blurred moving content (each frame another picture: flow says nothing)
    at a level near 0.05, grain."""
    out = []
    for _ in range(5):
        base = rng.random((H // 4, W // 4, 3)).astype(np.float32)
        frame = np.kron(base, np.ones((4, 4, 1), np.float32)) * 0.04 + 0.03
        frame = frame + rng.normal(0, 0.001, frame.shape).astype(np.float32)
        out.append(np.maximum(frame, 0.0).astype(dtype).astype(np.float32))
    return out


def _stage(frames: list[np.ndarray], numbers=(0, 1, 2, 3, 4)) -> CandidateWindow:
    cache = MotionCache(workers=1)
    return find_candidates(frames, list(numbers), cache, cand.CandidateParams(threshold=4.0), 1)


def _candidate_at(
    frames: list[np.ndarray], y: int, x: int, numbers=(0, 1, 2, 3, 4)
) -> CandidateWindow:
    done = _stage(frames, numbers)
    found = done.found
    near = np.flatnonzero((np.abs(found.y - y) <= 1) & (np.abs(found.x - x) <= 1))
    assert len(near) == 1, (found.y, found.x)
    return dataclasses.replace(done, found=found.select(near))


@pytest.mark.parametrize("dtype", [np.float32, np.float16])
def test_a_clear_photosite_on_moving_content_is_a_spot(dtype):
    rng = np.random.default_rng(1)
    frames = _window(rng, dtype)
    frames[2][20, 30, 1] += 1.0  # a green photosite, 20x its level
    frames[2][20, 29:32, 1] += 0.15  # its demosaiced spread into the row
    found = _candidate_at(frames, 20, 30)
    assert spots(found).tolist() == [True]


def test_a_light_moving_on_its_own_is_no_spot():
    rng = np.random.default_rng(2)
    frames = _window(rng)
    for t in range(5):  # in every frame, 3 px further on: there in the neighbours, near
        frames[t][20, 20 + 3 * t] += 1.0
    frames[2][20, 26] += 0.5  # brighter in the centre, so it is a candidate
    found = _candidate_at(frames, 20, 26)
    assert spots(found).tolist() == [False]


def test_a_bright_blob_or_a_blurred_light_is_no_spot():
    rng = np.random.default_rng(3)
    frames = _window(rng)
    frames[2][10:16, 10:16] += 1.0  # a hand crossing in one frame: far bigger than a photosite
    yy, xx = np.mgrid[0:H, 0:W]
    frames[2][..., 0] += 1.0 * np.exp(-((yy - 30) ** 2 + (xx - 45) ** 2) / (2 * 1.6**2))
    done = _stage(frames)
    assert len(done.found) > 0
    flagged = spots(done)
    assert not flagged.any(), (done.found.y[flagged], done.found.x[flagged])


def test_a_light_the_camera_pans_across_is_no_spot():
    """Panned 7 px a frame: as decoded, the light is out of reach in every neighbour, but the
    aligned neighbours hold it at the place."""
    rng = np.random.default_rng(9)
    scene = 0.05 + 0.08 * cv2.GaussianBlur(rng.random((72, 140, 3)).astype(np.float32), (0, 0), 3)
    scene[36, 70] += 1.0
    frames = [
        np.ascontiguousarray(scene[:, 7 * t : 7 * t + 96])
        + rng.normal(0, 0.001, (72, 96, 3)).astype(np.float32)
        for t in range(5)
    ]
    frames[2][36, 56] += 0.5  # brighter in the centre: a candidate
    found = _candidate_at(frames, 36, 56)
    assert spots(found).tolist() == [False]


def test_a_faint_defect_is_left_to_the_classifier():
    rng = np.random.default_rng(4)
    # a locked-off, even picture: the faint defect is a candidate there
    frames = [0.05 + rng.normal(0, 0.001, (H, W, 3)).astype(np.float32) for _ in range(5)]
    frames[2][20, 30, 0] += 0.03  # about 1.6x its level: not clear
    found = _candidate_at(frames, 20, 30)
    assert found.found.contrast[0] < 1.0
    assert spots(found).tolist() == [False]
    assert spots(found, SpotRule(contrast=0.5)).tolist() == [True]


def test_nothing_is_a_spot_beside_its_own_picture():
    """A short run repeats the centre's picture in a neighbour slot: the rule stands back."""
    rng = np.random.default_rng(5)
    frames = _window(rng)
    frames[2][20, 30] += 1.0
    found = _candidate_at(frames, 20, 30)
    assert spots(found).tolist() == [True]
    mirrored = dataclasses.replace(found, numbers=[0, 1, 2, 1, 0])  # other pictures
    assert spots(mirrored).tolist() == [True]
    assert spots(dataclasses.replace(found, numbers=[1, 0, 2, 2, 1])).tolist() == [False]


def test_no_candidates_no_spots():
    frames = _window(np.random.default_rng(6))
    done = _stage(frames)
    empty = dataclasses.replace(done, found=done.found.select(np.zeros(0, np.int64)))
    assert spots(empty).shape == (0,)


def _scene(rng: np.random.Generator, h: int = 72, w: int = 96) -> np.ndarray:
    """A smooth textured picture near 0.05-0.1, as a camera sees a wall or a street."""
    noise = rng.random((h, w, 3)).astype(np.float32)
    return 0.05 + 0.08 * cv2.GaussianBlur(noise, (0, 0), 3.0)


def test_a_defect_on_the_frame_before_a_cut_is_found():
    """The window holds a cut after its centre: the good side (the frames before) decides."""
    from hotpixel.detect.cascade.detector import CascadeDetector
    from hotpixel.detect.windows import Window

    rng = np.random.default_rng(7)
    a, b = _scene(rng), _scene(rng)
    frames = [a.copy(), a.copy(), a.copy(), b.copy(), b.copy()]
    frames = [f + rng.normal(0, 0.002, f.shape).astype(np.float32) for f in frames]
    frames[2][30, 40, 2] += 1.5  # a blue photosite, about 20x its level
    detector = CascadeDetector(device="cpu")
    prob = detector(Window(tuple(frames), (10, 11, 12, 13, 14), 2))
    assert prob[30, 40] >= detector.default_threshold
    assert (prob >= detector.default_threshold).sum() <= 9  # that defect alone


def test_a_clear_defect_where_the_flow_is_not_trusted_is_found():
    """Every neighbour shows another picture (fast motion, occlusion): no flow to trust, and
    the spot is still far beyond what the picture there holds."""
    from hotpixel.detect.cascade.detector import CascadeDetector
    from hotpixel.detect.windows import Window

    rng = np.random.default_rng(8)
    frames = [_scene(rng) + rng.normal(0, 0.002, (72, 96, 3)).astype(np.float32) for _ in range(5)]
    frames[2][40, 50] += 2.0  # a white spot, about 25x its level
    with_rule = CascadeDetector(device="cpu")
    prob = with_rule(Window(tuple(frames), (0, 1, 2, 3, 4), 2))
    assert prob[40, 50] >= with_rule.default_threshold
    assert (prob >= with_rule.default_threshold).sum() <= 9


def _turning_pan(rng: np.random.Generator) -> tuple[np.ndarray, list[np.ndarray]]:
    """A pan that turns back at the centre (crops 0, 7, 14, 7, 0 px into a wider scene): the
    centre's right-most 7 columns are in no neighbour. Returns the scene and the frames."""
    scene = _scene(rng, 72, 120)
    frames = [
        np.ascontiguousarray(scene[:, x0 : x0 + 96])
        + rng.normal(0, 0.001, (72, 96, 3)).astype(np.float32)
        for x0 in (0, 7, 14, 7, 0)
    ]
    return scene, frames


def test_a_light_the_camera_has_just_revealed_is_set_aside():
    """A lens-blurred light in the strip a turning pan brings in at the centre only: no
    neighbour saw the place, so the classifier's verdict there is set aside."""
    rng = np.random.default_rng(11)
    _, frames = _turning_pan(rng)
    yy, xx = np.mgrid[0:72, 0:96]
    frames[2][..., 0] += 1.2 * np.exp(-((yy - 36) ** 2 + (xx - 93) ** 2) / (2 * 1.3**2))
    found = _candidate_at(frames, 36, 93)
    assert unseen(found).tolist() == [True]
    said = opinions(found)
    assert said.tolist() == [VETO]
    assert overrule(np.array([0.99], np.float32), said).tolist() == [0.0]


def test_a_defect_the_camera_has_just_revealed_is_flagged():
    """A photosite in that strip: nothing can be absent from neighbours that never saw the
    place, and the spot test alone flags it; inside the picture the usual rule holds."""
    rng = np.random.default_rng(12)
    _, frames = _turning_pan(rng)
    frames[2][20, 92, 1] += 1.2  # a green photosite, about 15x its level, in the new strip
    frames[2][50, 40, 2] += 1.2  # a blue one where every neighbour saw the place
    done = _stage(frames)
    places = zip(done.found.y.tolist(), done.found.x.tolist(), strict=True)
    at = {place: k for k, place in enumerate(places)}
    edge, inside = at[(20, 92)], at[(50, 40)]
    blind = unseen(done)
    assert blind[edge] and not blind[inside]
    said = opinions(done)
    assert said[edge] == FLAG and said[inside] == FLAG


def test_a_locked_off_picture_has_no_unseen_place():
    rng = np.random.default_rng(13)
    scene = _scene(rng)
    frames = [scene + rng.normal(0, 0.001, scene.shape).astype(np.float32) for _ in range(5)]
    frames[2][36, 95, 0] += 1.0  # at the very edge: every neighbour still sees it
    found = _candidate_at(frames, 36, 95)
    assert unseen(found).tolist() == [False]
