"""The real-video loader and camera moves, on a tiny clip written here: no network."""

from __future__ import annotations

import pathlib

import numpy as np
import pytest

from hotpixel.errors import InputError
from hotpixel.ml import realvideo

av = pytest.importorskip("av")


def write_clip(path: pathlib.Path, frames: int = 12, w: int = 64, h: int = 48) -> None:
    """A lossless-ish clip: a grey ramp with a white square moving 2 px/frame to the right."""
    with av.open(str(path), "w") as container:
        stream = container.add_stream("mpeg4", rate=24)
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        stream.options = {"qscale": "1"}
        for t in range(frames):
            image = np.tile(np.linspace(40, 200, w, dtype=np.uint8), (h, 1))
            image = np.repeat(image[..., None], 3, axis=2)
            image[16:28, 8 + 2 * t : 20 + 2 * t] = 255
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


@pytest.fixture
def clip(tmp_path: pathlib.Path) -> pathlib.Path:
    path = tmp_path / "tiny.avi"
    write_clip(path)
    return path


def test_decode_gives_linear_float_frames(clip: pathlib.Path):
    frames = realvideo.decode(clip)
    assert frames.shape == (12, 48, 64, 3) and frames.dtype == np.float32
    assert realvideo.count_frames(clip) == 12
    white = frames[0, 20:24, 12:16].mean()
    assert white == pytest.approx(1.0, abs=0.05)
    # code 128 of the ramp is about 0.22 linear, not 0.5: the sRGB curve was undone
    mid = frames[0, 2:6, 30:34].mean()
    assert 0.15 < mid < 0.3


def test_decode_a_range_and_past_the_end(clip: pathlib.Path):
    part = realvideo.decode(clip, start=4, count=3)
    whole = realvideo.decode(clip)
    assert part.shape[0] == 3
    np.testing.assert_allclose(part, whole[4:7])
    assert realvideo.decode(clip, start=10, count=5).shape[0] == 2
    with pytest.raises(InputError, match="no frames"):
        realvideo.decode(clip, start=40)


def test_srgb_to_linear_end_points():
    lut = realvideo.srgb_to_linear(np.array([0, 10, 255], np.uint8))
    assert lut[0] == 0.0 and lut[2] == pytest.approx(1.0)
    assert lut[1] == pytest.approx(10 / 255 / 12.92)


def test_cached_clip_is_used_without_fetching(
    tmp_path: pathlib.Path, clip: pathlib.Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("HOTPIXEL_CLIPS", str(tmp_path / "cache"))
    cache = realvideo.cache_dir()
    assert cache == tmp_path / "cache" and cache.is_dir()
    (cache / "tree.avi").write_bytes(clip.read_bytes())

    def no_network(*args: object) -> None:
        raise AssertionError("fetched although the clip was cached")

    monkeypatch.setattr(realvideo, "_fetch", no_network)
    assert realvideo.clip_path("tree") == cache / "tree.avi"
    assert realvideo.load("tree", 0, 2).shape == (2, 48, 64, 3)
    with pytest.raises(InputError, match="unknown clip 'nope'"):
        realvideo.clip_path("nope")


def test_splits_keep_whole_clips_apart():
    named = [c for split in realvideo.SPLITS.values() for c in split]
    assert len(named) == len(set(named))
    assert set(named) <= set(realvideo.CLIPS)
    assert realvideo.SPLITS["test"] and realvideo.SPLITS["validation"]


@pytest.mark.parametrize("motion", ["pan", "handheld", "zoom"])
def test_camera_paths_stay_within_their_speeds(motion: str):
    for seed in range(5):
        path = realvideo.camera_path(motion, 80, np.random.Generator(np.random.PCG64(seed)))
        speed = path.speed
        assert speed.max() <= 8.0 + 1e-3
        if motion == "pan":
            assert np.median(speed) >= 3.0 - 1e-3
        else:
            assert speed.max() > 0.5
    locked = realvideo.camera_path("locked", 10, np.random.Generator(np.random.PCG64(0)))
    assert np.all(locked.shift == 0) and np.all(locked.scale == 1)
    with pytest.raises(ValueError, match="unknown motion"):
        realvideo.camera_path("dolly", 10, np.random.Generator(np.random.PCG64(0)))


def test_move_shifts_content_by_the_path_and_crops_the_margin():
    frame = np.zeros((40, 50, 3), np.float32)
    frame[20, 25] = 1.0
    path = realvideo.CameraPath(
        np.array([[0.0, 0.0], [3.5, -2.0]], np.float32), np.ones(2, np.float32)
    )
    crop = realvideo.margin(path, (40, 50))
    moved = realvideo.moved_clip(frame[None].repeat(2, 0), path)
    assert moved.shape == (2, 40 - 2 * crop, 50 - 2 * crop, 3)
    y0, x0 = np.unravel_index(moved[0, ..., 0].argmax(), moved.shape[1:3])
    assert (y0, x0) == (20 - crop, 25 - crop)
    # pose 1 looks 3.5 px right and 2 px up: the point moves 3.5 px left and 2 px down
    lum = moved[1, ..., 0]
    ys, xs = np.mgrid[0 : lum.shape[0], 0 : lum.shape[1]]
    cx, cy = (lum * xs).sum() / lum.sum(), (lum * ys).sum() / lum.sum()
    assert cx == pytest.approx(x0 - 3.5, abs=0.01) and cy == pytest.approx(y0 + 2.0, abs=0.01)


def test_windows_reflect_at_the_ends_never_repeating_the_centre():
    assert realvideo.window_indices(0, 10) == [2, 1, 0, 1, 2]
    assert realvideo.window_indices(1, 10) == [3, 0, 1, 2, 3]
    assert realvideo.window_indices(9, 10) == [7, 8, 9, 8, 7]
    assert realvideo.window_indices(5, 10) == [3, 4, 5, 6, 7]
    assert realvideo.window_indices(0, 2) == [1, 1, 0, 1, 1]
    assert realvideo.window_indices(0, 1) == [0, 0, 0, 0, 0]
    frames = np.arange(4, dtype=np.float32)[:, None, None, None] * np.ones((4, 2, 2, 3), np.float32)
    got = list(realvideo.windows(frames))
    assert len(got) == 4 and got[0][1].shape == (5, 2, 2, 3)
    assert [int(w[2, 0, 0, 0]) for _, w in got] == [0, 1, 2, 3]
