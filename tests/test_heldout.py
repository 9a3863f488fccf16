"""Held-out real clips, clip-level folds, the night-lights source and held-out scoring.

The shared clips are read from the shared data folder ($HOTPIXEL_SHARED_DATA); those tests
skip, saying so, where it is missing. Everything else runs on data made here.
"""

from __future__ import annotations

import pathlib

import numpy as np
import pytest

from hotpixel.detect.windows import Window
from hotpixel.errors import InputError
from hotpixel.ml import realvideo
from hotpixel.ml.evaluation import heldout
from hotpixel.ml.evaluation.harness import Scored, score_map
from hotpixel.ml.synth.defects import Defect
from hotpixel.ml.synth.night import NightClip, NightConfig

SHARED = [c.name for c in realvideo.CLIPS.values() if c.kind == "shared"]


def _shared_or_skip() -> None:
    root = realvideo.shared_data_dir()
    if not (root / "video").is_dir():
        pytest.skip(f"the shared data folder {root} is missing (set HOTPIXEL_SHARED_DATA)")


@pytest.mark.parametrize("name", SHARED)
def test_shared_clips_resolve_and_decode(name: str) -> None:
    _shared_or_skip()
    pytest.importorskip("av")
    path = realvideo.clip_path(name)
    assert path.is_file() and path.is_relative_to(realvideo.shared_data_dir())
    frames = realvideo.load(name, 3, 2)
    assert frames.shape[0] == 2 and frames.shape[3] == 3 and frames.dtype == np.float32
    assert realvideo.frame_count(name) >= 50


def test_a_missing_shared_folder_says_where_and_how(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(realvideo.SHARED_ENV, str(tmp_path / "nowhere"))
    with pytest.raises(InputError, match="HOTPIXEL_SHARED_DATA") as err:
        realvideo.clip_path("people_table")
    assert str(tmp_path / "nowhere") in str(err.value)
    (tmp_path / "empty").mkdir()
    monkeypatch.setenv(realvideo.SHARED_ENV, str(tmp_path / "empty"))
    with pytest.raises(InputError, match="missing from the shared data folder"):
        realvideo.clip_path("people_table")


def test_made_clips_have_no_file() -> None:
    with pytest.raises(InputError, match="made in code"):
        realvideo.clip_path("night_field")


@pytest.mark.parametrize("k", [2, 3, 4, 5])
def test_folds_hold_out_whole_clips_and_never_the_heldout_ones(k: int) -> None:
    folds = realvideo.folds(k)
    pool = {c for g in realvideo.GROUPS for c in g}
    assert not pool & set(realvideo.HELDOUT)
    assert pool | set(realvideo.HELDOUT) == set(realvideo.CLIPS)
    validated: list[str] = []
    for fold in folds:
        assert not set(fold.train) & set(fold.validation)
        assert set(fold.train) | set(fold.validation) == pool
        assert not (set(fold.train) | set(fold.validation)) & set(realvideo.HELDOUT)
        validated.extend(fold.validation)
    assert sorted(validated) == sorted(pool)  # each pooled clip validates exactly once
    for group in realvideo.GROUPS:  # related clips stay on one side
        assert len({f.index for f in folds for c in group if c in f.validation}) == 1
    with pytest.raises(ValueError, match="folds need"):
        realvideo.folds(1)


def test_splits_are_fold_zero_and_the_heldout_real_clips() -> None:
    assert realvideo.SPLITS["test"] == realvideo.HELDOUT_REAL
    assert len(realvideo.HELDOUT_REAL) >= 2
    assert realvideo.SPLITS["train"] == realvideo.folds()[0].train
    assert realvideo.SPLITS["validation"] == realvideo.folds()[0].validation
    for clip in realvideo.HELDOUT:
        assert clip not in realvideo.SPLITS["train"] + realvideo.SPLITS["validation"]


SMALL = NightConfig(size=(160, 96), length=30, lights=(40, 40), windows=(10, 10))


def test_night_clip_frames_have_the_stated_shape_and_lights() -> None:
    clip = NightClip("night", 3, SMALL)
    frames = clip.frames(5, 4)
    assert frames.shape == (4, 96, 160, 3) and frames.dtype == np.float32
    assert np.isfinite(frames).all()
    lights = clip.lights(5, 4)
    assert lights.shape == (4, 96, 160) and lights.any()
    # night levels, with lights far above them
    assert np.median(frames) < 0.05
    assert frames[0][lights[0]].max() > 20 * np.median(frames[0])
    # any stretch comes out the same, whichever order it is asked for in
    np.testing.assert_array_equal(clip.frames(6, 1)[0], frames[1])
    assert len(clip.cuts) == 1 and 0 < clip.cuts[0] < 30
    assert clip.frames(28).shape[0] == 2


def test_night_windows_switch_and_the_camera_moves() -> None:
    clip = NightClip("city", 5, NightConfig(size=(160, 96), length=60, cut_rate=0.0))
    shot = clip._shots[0]
    assert (shot.window_on[:, 1:] != shot.window_on[:, :-1]).any()  # switches between frames
    assert np.abs(np.diff(shot.shift, axis=0)).max() > 0.0
    assert clip.cuts == ()


def test_realvideo_serves_the_night_clips() -> None:
    assert realvideo.frame_count("night_field") == 240
    assert realvideo.lights("vtest") is None


def _spots(defects: list[tuple[float, float]], size: tuple[int, int] = (40, 60)) -> np.ndarray:
    prob = np.zeros(size, np.float32)
    for x, y in defects:
        prob[int(y), int(x)] = 0.99
    return prob


def test_scoring_a_handmade_case_gives_the_known_numbers() -> None:
    """Three defects (two clear, one faint), a detector that finds one clear and the faint one,
    one false alert on a light and one elsewhere: recall 2/3, clear 1/2, 2 false alerts."""
    h, w = 40, 60
    frames = np.full((5, h, w, 3), 0.1, np.float32)
    defects = [
        Defect(2, 10.5, 10.5, "single", "white", 3.0, 0.1),
        Defect(2, 30.5, 10.5, "single", "white", 2.0, 0.1),
        Defect(2, 50.5, 30.5, "single", "white", 0.6, 0.1),
    ]
    hard = np.zeros((h, w), bool)
    hard[30:33, 10:13] = True  # a light
    seg = realvideo.DefectedClip(
        np.concatenate([frames, frames]),  # 10 frames: centres 2..7
        [np.zeros((h, w), np.float32)] * 10,
        [defects] * 10,
        [hard] * 10,
    )
    prob = _spots([(11.5, 11.0), (50.0, 31.5), (11, 31), (40, 20)])  # 2nd is within 2 px

    def detector(window: Window) -> np.ndarray:
        return prob

    out = Scored()
    for sample, numbers in heldout.samples(seg):
        score_map(detector(Window(tuple(sample.frames), numbers, 2)), sample, out)
    r = heldout.row(out, 0.985)
    assert out.frames == 6
    assert r["recall_all"] == pytest.approx(2 / 3)
    assert r["recall_clear"] == pytest.approx(1 / 2)
    assert r["false_alerts_per_frame"] == pytest.approx(2.0)
    assert r["false_alerts_on_lights"] == 6 and r["false_alerts_on_lights_per_frame"] == 1.0
    assert r["false_alerts_per_1080p_frame"] == pytest.approx(2.0 * 1920 * 1080 / (h * w))
    s = heldout.summarise({("a", "locked"): out, ("b", "pan"): Scored()}, 0.985)
    assert s.clips["a"]["recall_all"] == pytest.approx(2 / 3)
    assert s.pooled["frames"] == 6 and s.motions["pan"]["frames"] == 0
    assert s.spread["recall_all"]["worst"] == "a" and s.spread["recall_all"]["max"] == 1.0
    assert "pooled" in heldout.format_summary(s, "t")


def test_light_screen_finds_a_persistent_small_light_not_a_one_frame_spot() -> None:
    frames = np.full((5, 30, 30, 3), 0.05, np.float32)
    frames[:, 10, 10] = 1.0  # a light in every frame
    frames[2, 20, 20] = 1.0  # a one-frame spot
    lights = realvideo.small_lights(frames)
    assert lights[2][10, 10] and not lights[2][20, 20]
