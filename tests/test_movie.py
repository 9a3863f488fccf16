"""Movie files as plates: ProRes 4444 and DNxHR give the detections of the same frames as EXR;
timecode numbers the frames; 16-bit decode; variable frame rate and truncation are clear errors."""

from __future__ import annotations

import json
import os
from fractions import Fraction

import av
import numpy as np
import OpenImageIO as oiio
import pytest

from hotpixel.errors import FrameReadError, HotPixelError
from hotpixel.io.frames import read_frame
from hotpixel.io.movie import REC709_VIDEO, probe
from hotpixel.io.sequence import discover
from hotpixel.run.detect import run_detect
from imagegen import classical_job

W, H, N, RATE = 256, 120, 6, 25  # DNxHR's smallest picture is 256x120
HITS = {1: (30, 40), 4: (80, 200)}  # frame index -> (y, x)


def _codes(seed: int = 3) -> list[np.ndarray]:
    """Rec.709-encoded (0..1) dark grainy frames with one-frame hot pixels, ``(H, W, 3)``."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:H, 0:W]
    base = 0.12 + 0.03 * np.sin(xx / 9.0) * np.cos(yy / 7.0)
    frames = []
    for i in range(N):
        rgb = np.stack([base, base * 0.95, base * 1.05], axis=-1) + rng.normal(0, 0.002, (H, W, 3))
        if i in HITS:
            y, x = HITS[i]
            rgb[y, x] = (0.95, 0.9, 0.9)
        frames.append(np.clip(rgb, 0, 1).astype(np.float32))
    return frames


def write_movie(
    path: str,
    frames: list[np.ndarray],
    codec: str,
    pix_fmt: str,
    options: dict[str, str] | None = None,
    timecode: str = "",
    times: list[int] | None = None,
) -> str:
    """Encode ``(H, W, 3)`` 0..1 frames with PyAV, tagged BT.709, video range for YUV."""
    container = av.open(path, "w")
    stream = container.add_stream(codec, rate=RATE)
    stream.width, stream.height, stream.pix_fmt = W, H, pix_fmt
    stream.options = options or {}
    ctx = stream.codec_context
    ctx.color_primaries = ctx.color_trc = ctx.colorspace = 1
    if timecode:
        stream.metadata["timecode"] = timecode
    if times is not None:
        ctx.time_base = Fraction(1, 1000)  # frame times in ms, as a phone's VFR movie has
    yuv = pix_fmt.startswith("yuv")
    for i, rgb in enumerate(frames):
        frame = av.VideoFrame.from_ndarray(np.round(rgb * 65535).astype(np.uint16), "rgb48le")
        frame = frame.reformat(
            format=pix_fmt,
            dst_colorspace="ITU709" if yuv else None,
            dst_color_range="MPEG" if yuv else "JPEG",
        )
        if times is not None:
            frame.pts, frame.time_base = times[i], Fraction(1, 1000)
        for packet in stream.encode(frame):
            container.mux(packet)
    for packet in stream.encode():
        container.mux(packet)
    container.close()
    return path


PRORES = ("prores_ks", "yuv444p10le", {"profile": "4", "qscale": "1"})
DNXHR = ("dnxhd", "gbrp10le", {"profile": "dnxhr_444"})


@pytest.fixture(scope="module")
def exr_run(tmp_path_factory):
    """The same code values as an EXR sequence tagged with the movies' colour space."""
    folder = tmp_path_factory.mktemp("exr")
    for i, rgb in enumerate(_codes(), start=1):
        spec = oiio.ImageSpec(W, H, 3, "float")
        spec.attribute("oiio:ColorSpace", REC709_VIDEO)
        out = oiio.ImageOutput.create(str(folder / f"shot.{i:04d}.exr"))
        assert out.open(str(folder / f"shot.{i:04d}.exr"), spec)
        assert out.write_image(rgb)
        out.close()
    pattern = str(folder / "shot.####.exr")
    out = str(tmp_path_factory.mktemp("exr_out"))
    run_detect(classical_job(pattern, out))  # type: ignore[arg-type]
    return _report(out)


def _report(out: str) -> dict:
    with open(os.path.join(out, "report.json"), encoding="utf-8") as fh:
        return json.load(fh)


def _places(report: dict) -> list[tuple[int, float, float, str]]:
    return sorted((d["frame"], d["x"], d["y"], d["kind"]) for d in report["detections"])


@pytest.mark.parametrize("encoder", [PRORES, DNXHR], ids=["prores4444", "dnxhr444"])
def test_prores_and_dnxhr_give_the_detections_of_the_same_frames_as_exr(encoder, exr_run, tmp_path):
    codec, pix_fmt, options = encoder
    movie = write_movie(str(tmp_path / "shot.mov"), _codes(), codec, pix_fmt, options)
    out = str(tmp_path / "out")
    run_detect(classical_job(movie, out))  # type: ignore[arg-type]
    report = _report(out)
    assert _places(report) == _places(exr_run)
    assert {(d["frame"], d["y"] - 0.5, d["x"] - 0.5) for d in report["detections"]} == {
        (i + 1, y, x) for i, (y, x) in HITS.items()
    }
    scores = [d["score"] for d in sorted(report["detections"], key=lambda d: d["frame"])]
    expected = [d["score"] for d in sorted(exr_run["detections"], key=lambda d: d["frame"])]
    np.testing.assert_allclose(scores, expected, atol=0.05)
    assert report["source"]["rate"] == RATE and report["source"]["pattern"] == movie
    assert report["colour"]["chosen_by"] == "metadata"
    assert "transfer bt709" in report["colour"]["reason"]


def test_ten_bit_frames_decode_to_sixteen_bit_and_timecode_numbers_them(tmp_path):
    codes = _codes()
    movie = write_movie(str(tmp_path / "tc.mov"), codes, *DNXHR, timecode="01:00:00:00")
    seq = discover(movie)
    assert seq.frames == tuple(range(90000, 90000 + N))  # 1 h at 25 fps
    assert probe(movie).timecode == "01:00:00:00"
    frame = read_frame(movie, 90004)  # no decoder: the stored values scaled to 0..1
    assert frame.pixel_format == "uint16"
    np.testing.assert_allclose(frame.rgb, codes[4], atol=0.01)  # DNxHR is lossy on grain
    off_8bit = np.abs(frame.rgb * 255 - np.round(frame.rgb * 255)) > 0.1
    assert off_8bit.mean() > 0.5  # finer steps than 8 bits: the 10-bit codes kept
    assert abs(float(frame.rgb[HITS[4]][0]) - 0.95) < 0.01
    again = read_frame(movie, 90001)  # backwards: the reader seeks
    np.testing.assert_allclose(again.rgb, codes[1], atol=0.01)
    assert abs(float(again.rgb[HITS[1]][0]) - 0.95) < 0.01


def test_h264_reads_as_eight_bit(tmp_path):
    movie = write_movie(str(tmp_path / "review.mp4"), _codes(), "libx264", "yuv420p")
    assert discover(movie).frames == tuple(range(1, N + 1))
    frame = read_frame(movie, 3)
    assert frame.pixel_format == "uint8" and frame.rgb.shape == (H, W, 3)
    container = av.open(movie)
    assert container.streams.video[0].codec_context.name == "h264"
    container.close()


def test_untagged_movie_is_assumed_rec709_with_a_warning(tmp_path):
    path = str(tmp_path / "untagged.mov")
    container = av.open(path, "w")
    stream = container.add_stream("prores_ks", rate=RATE)
    stream.width, stream.height, stream.pix_fmt = W, H, "yuv422p10le"
    for rgb in _codes()[:3]:
        frame = av.VideoFrame.from_ndarray(np.round(rgb * 255).astype(np.uint8), "rgb24")
        for packet in stream.encode(frame):
            container.mux(packet)
    for packet in stream.encode():
        container.mux(packet)
    container.close()
    out = str(tmp_path / "out")
    run_detect(classical_job(path, out))  # type: ignore[arg-type]
    report = _report(out)
    assert report["colour"]["chosen_by"] == "assumed"
    assert any(w["code"] == "colour_assumed" for w in report["warnings"])


def test_variable_frame_rate_is_refused_with_the_fix(tmp_path):
    times = [0, 40, 80, 100, 160, 200]  # one frame lasts 20 ms, one 60 ms
    movie = write_movie(str(tmp_path / "vfr.mp4"), _codes(), "libx264", "yuv420p", times=times)
    with pytest.raises(FrameReadError, match="variable frame rate") as err:
        discover(movie)
    assert "vfr.mp4" in str(err.value) and "-fps_mode cfr" in str(err.value)


def test_a_truncated_movie_is_a_clear_error(tmp_path, capsys):
    from hotpixel.cli.main import main

    movie = write_movie(str(tmp_path / "full.mov"), _codes(), *PRORES)
    with open(movie, "rb") as fh:
        data = fh.read()
    cut = str(tmp_path / "cut.mov")
    with open(cut, "wb") as fh:
        fh.write(data[: len(data) // 2])
    with pytest.raises(HotPixelError, match=r"cut\.mov.*(damaged|truncated)"):
        discover(cut)
    assert main(["detect", cut, "--out", str(tmp_path / "out")]) == 3
    err = capsys.readouterr().err
    assert "cut.mov" in err and "Traceback" not in err


def test_fix_refuses_a_movie_before_writing_anything(tmp_path, capsys):
    from hotpixel.cli.main import main

    movie = write_movie(str(tmp_path / "shot.mov"), _codes(), *PRORES)
    qc = str(tmp_path / "qc")
    run_detect(classical_job(movie, qc))  # type: ignore[arg-type]
    out = tmp_path / "fixed"
    assert main(["fix", movie, "--qc", qc, "--out", str(out)]) == 3
    assert "image sequences only" in capsys.readouterr().err
    assert not out.exists()


def test_prores_4444_alpha_is_kept(tmp_path):
    codec, _, options = PRORES
    movie = write_movie(str(tmp_path / "alpha.mov"), _codes()[:3], codec, "yuva444p10le", options)
    frame = read_frame(movie, 2)
    assert frame.alpha is not None and frame.alpha.shape == (H, W)
    np.testing.assert_allclose(frame.alpha, 1.0, atol=1e-3)  # opaque, as encoded
    np.testing.assert_allclose(frame.rgb, _codes()[1], atol=0.01)


def test_resume_is_keyed_on_the_movie_file_and_frame(tmp_path):
    movie = write_movie(str(tmp_path / "shot.mov"), _codes(), *DNXHR)
    out = str(tmp_path / "out")
    first = run_detect(classical_job(movie, out))  # type: ignore[arg-type]
    again = run_detect(classical_job(movie, out))  # type: ignore[arg-type]
    assert (first.skipped, again.skipped) == (0, N)
    write_movie(movie, _codes(seed=4), *DNXHR)  # the file changes: every frame is redone
    os.utime(movie, ns=(1, 1))
    changed = run_detect(classical_job(movie, out))  # type: ignore[arg-type]
    assert changed.skipped == 0


def test_timecode_at_a_rate_smpte_lacks_counts_whole_seconds():
    from hotpixel.io.movie import _first_frame

    assert _first_frame("00:00:02:03", Fraction(25, 2), "a.mov") == 2 * 13 + 3  # 12.5 fps
    assert _first_frame("00:00:02:03", Fraction(25), "a.mov") == 53
    with pytest.raises(FrameReadError, match=r"a\.mov"):
        _first_frame("two seconds", Fraction(25), "a.mov")
