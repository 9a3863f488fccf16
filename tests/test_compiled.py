"""The compiled candidate test gives the NumPy definition's numbers.

The classifier is trained on ``candidates.evidence_numpy``'s output; the compiled pass
(:mod:`hotpixel.detect.cascade.compiled`) must give the same residual, sigma, level and score,
value for value, on real-looking windows and at the edges: pictures smaller than the filters,
borders, HDR values, Inf, NaN, neighbours untrusted in places.
"""

from __future__ import annotations

import dataclasses
import sys
import warnings

import cv2
import numpy as np
import pytest

from hotpixel.detect.cascade import candidates as cand
from hotpixel.detect.cascade import compiled
from test_speed_paths import moving_window

pytest.importorskip("numba")


def assert_same(fast: cand.Evidence, ref: cand.Evidence) -> None:
    for f in dataclasses.fields(cand.Evidence):
        got, want = getattr(fast, f.name), getattr(ref, f.name)
        assert got.dtype == want.dtype == np.float32, f.name
        np.testing.assert_array_equal(got, want, err_msg=f.name)


def both(centre, neighbours, params=None, confidence=None) -> tuple[cand.Evidence, cand.Evidence]:
    assert compiled.kernel() is not None
    fast = cand.evidence(centre, neighbours, params, confidence)
    return fast, cand.evidence_numpy(centre, neighbours, params, confidence)


@pytest.mark.parametrize(
    "params",
    [
        cand.CandidateParams(),
        cand.CandidateParams(tolerance=0, centre_noise=False),
        cand.CandidateParams(tolerance=2, noise_radius=5),
        cand.CandidateParams(noise_radius=1),
    ],
)
@pytest.mark.parametrize("trust", ["all", "partly"])
def test_the_compiled_pass_gives_the_definitions_numbers(params, trust):
    frames = moving_window(np.random.default_rng(30), n=5, h=61, w=83)
    confidence = None
    if trust == "partly":  # untrusted over a band, over a corner, and all four in one patch
        confidence = np.ones((4, 61, 83), np.float32)
        confidence[1, 20:40] = 0.1
        confidence[3, :30, :30] = 0.0
        confidence[:, 50:, 70:] = 0.0
    fast, ref = both(frames[2], list(frames[[0, 1, 3, 4]]), params, confidence)
    assert (ref.score >= params.threshold).any()
    assert_same(fast, ref)


@pytest.mark.parametrize(
    "shape", [(1, 1), (1, 9), (2, 3), (5, 4), (7, 8), (8, 7), (15, 2), (16, 33)]
)
@pytest.mark.parametrize("neighbours", [1, 2, 4, 6])
def test_tiny_pictures_and_borders(shape, neighbours):
    rng = np.random.default_rng(sum(shape) * neighbours)
    stack = rng.gamma(0.5, 0.3, (neighbours + 1, *shape, 3)).astype(np.float32)
    stack[0, 0, 0] += 3.0  # a spike on the corner of the centre
    fast, ref = both(stack[0], list(stack[1:]))
    assert_same(fast, ref)


@pytest.mark.filterwarnings("ignore:invalid value encountered")
@pytest.mark.parametrize("channels", [1, 3, 4])
def test_hdr_values_infinities_and_denormals(channels):
    rng = np.random.default_rng(channels)
    stack = rng.normal(0.05, 0.02, (5, 23, 29, channels)).astype(np.float32)
    stack[:, 3, 4] = 65504.0
    stack[2, 10, 10] = np.inf
    stack[0, 11, 12] = -np.inf
    stack[1, 0, :] = np.float32(1e-40)  # denormal
    stack[3, 20:, 20:] = -0.5
    stack[4, 5, 20] = np.inf
    fast, ref = both(stack[2], list(stack[[0, 1, 3, 4]]))
    assert_same(fast, ref)


def test_a_nan_goes_the_definitions_own_way():
    frames = moving_window(np.random.default_rng(5), n=5, h=24, w=30)
    frames[1, 4, 4, 0] = np.nan
    fast, ref = both(frames[2], list(frames[[0, 1, 3, 4]]))
    for f in dataclasses.fields(cand.Evidence):
        np.testing.assert_array_equal(getattr(fast, f.name), getattr(ref, f.name), f.name)


@pytest.mark.parametrize("radius", [1, 2, 3, 5])
@pytest.mark.parametrize("shape", [(40, 57, 3), (5, 2, 3), (1, 9, 1), (3, 3, 4)])
def test_the_box_filter_is_opencvs(radius, shape):
    from hotpixel.detect.cascade import kernels

    rng = np.random.default_rng(radius)
    image = (rng.random(shape, dtype=np.float32) ** 6 * 70000).astype(np.float32)
    image[0, 0] = 65504.0  # a running sum that is not exact in float64 after it
    h = shape[0]
    out = np.empty((h, shape[1] * shape[2]), np.float32)
    rows = np.empty(out.shape, np.float64)
    kernels.box(image.reshape(h, -1), shape[2], radius, out, rows)
    want = cv2.blur(image, (2 * radius + 1,) * 2, borderType=cv2.BORDER_REFLECT)
    np.testing.assert_array_equal(out.reshape(shape), want.reshape(shape))


def test_without_numba_it_warns_once_and_gives_the_same(monkeypatch):
    frames = moving_window(np.random.default_rng(8), n=5, h=20, w=24)
    want = cand.evidence_numpy(frames[2], list(frames[[0, 1, 3, 4]]))
    monkeypatch.setattr(compiled, "_kernel", None)
    monkeypatch.setitem(sys.modules, "numba", None)  # import numba fails
    monkeypatch.delitem(sys.modules, "hotpixel.detect.cascade.kernels", raising=False)
    monkeypatch.delattr(sys.modules["hotpixel.detect.cascade"], "kernels", raising=False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        got = [cand.evidence(frames[2], list(frames[[0, 1, 3, 4]])) for _ in range(2)]
    messages = [str(w.message) for w in caught]
    assert len(messages) == 1 and "NumPy path" in messages[0], messages
    for ev in got:
        assert_same(ev, want)


def test_a_read_only_install_caches_in_the_users_folder(monkeypatch, tmp_path):
    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(compiled.os, "access", lambda path, mode: False)
    compiled._choose_cache()
    assert compiled.os.environ["NUMBA_CACHE_DIR"] == str(tmp_path / "hotpixel" / "numba")
    assert (tmp_path / "hotpixel" / "numba").is_dir()


def test_a_users_own_cache_folder_wins(monkeypatch, tmp_path):
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "mine"))
    monkeypatch.setattr(compiled.os, "access", lambda path, mode: False)
    compiled._choose_cache()
    assert compiled.os.environ["NUMBA_CACHE_DIR"] == str(tmp_path / "mine")


def test_small_work_goes_the_numpy_way_until_the_kernel_is_worth_compiling(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))  # no kernel compiled here yet
    monkeypatch.setattr(compiled, "_kernel", None)
    monkeypatch.setattr(compiled, "_seen", 0)
    monkeypatch.setattr(compiled, "COMPILE_AFTER", 1000)
    assert compiled.kernel(600) is None and compiled._kernel is None
    assert compiled.kernel(600) is not None  # past the budget: built, and remembered
    assert compiled._marker().exists()
    monkeypatch.setattr(compiled, "_kernel", None)
    monkeypatch.setattr(compiled, "_seen", 0)
    assert compiled.kernel(1) is not None  # on disk here: no reason to wait


def test_scratch_maps_are_reused_only_by_the_same_threads_next_call_of_that_shape():
    frames = moving_window(np.random.default_rng(9), n=5, h=20, w=24)
    others = list(frames[[0, 1, 3, 4]])
    first = cand.evidence(frames[2], others, scratch=True)
    want = cand.evidence_numpy(frames[2], others)
    assert_same(first, want)
    kept = cand.evidence(frames[2], others)  # not scratch: its own maps
    again = cand.evidence(frames[1], [frames[0], frames[2], frames[3], frames[4]], scratch=True)
    assert again.score is first.score  # the same memory, overwritten
    assert_same(kept, want)


@pytest.mark.parametrize("workers", [1, 2])
def test_the_stages_bands_through_the_compiled_pass_give_the_numpy_paths_candidates(
    workers, monkeypatch
):
    from hotpixel.detect import motion
    from hotpixel.detect.cascade import stage
    from test_speed_paths import assert_same_candidates

    frames = list(moving_window(np.random.default_rng(31), h=150, w=124))[:5]
    params = cand.CandidateParams(threshold=2.5)

    def run():
        cache = motion.MotionCache(workers=workers)
        return stage.find_candidates(frames, [0, 1, 2, 3, 4], cache, params, workers, 16 * 124)

    assert compiled.kernel() is not None
    fast = run()
    monkeypatch.setattr(compiled, "_kernel", False)  # the NumPy path
    slow = run()
    assert len(slow.found) > 0
    assert_same_candidates(fast.found, slow.found)
    for name in ("score", "index", "channel", "residual", "sigma", "level"):
        np.testing.assert_array_equal(getattr(fast.best, name), getattr(slow.best, name), name)
