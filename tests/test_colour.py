"""Colour-managed input: choosing the plate's encoding, decoding it to scene-linear."""

from __future__ import annotations

import numpy as np
import OpenImageIO as oiio
import pytest

from hotpixel.detect.detectors.neural import NeuralDetector
from hotpixel.detect.grouping import find_detections
from hotpixel.detect.model_file import default_model_path
from hotpixel.detect.windows import Window
from hotpixel.errors import UsageError
from hotpixel.io import colour
from hotpixel.io.canvas import choose_colour, load_frame, scan_geometry
from hotpixel.io.colour import BUILTIN_CONFIG, Decoder, InputColour, encode, run_processor
from hotpixel.io.frames import read_frame, read_header
from hotpixel.io.geometry import Geometry
from hotpixel.io.sequence import discover
from hotpixel.ml.evaluation.harness import encoded_set, evaluation_set
from hotpixel.ml.synth.windows import WindowConfig
from imagegen import dark_plate, write_image, write_sequence

LOGC3 = "ARRI LogC3 (EI800)"


def _colour(space: str) -> InputColour:
    return InputColour(space, "flag", "test", BUILTIN_CONFIG, "ACEScg")


def _write(path: str, pixels: np.ndarray, fmt: str = "half", **attrs: object) -> None:
    """Write with header attributes (``oiio:ColorSpace``, ``dpx:Transfer``, chromaticities)."""
    h, w, c = pixels.shape
    spec = oiio.ImageSpec(w, h, c, fmt)
    if path.endswith(".dpx"):
        spec.attribute("oiio:BitsPerSample", 10)
    for key, value in attrs.items():
        if key == "chromaticities":
            spec.attribute(key, oiio.TypeDesc("float[8]"), value)
        else:
            spec.attribute(key, value)
    out = oiio.ImageOutput.create(path)
    assert out is not None and out.open(path, spec), oiio.geterror()
    assert out.write_image(np.ascontiguousarray(pixels, np.float32))
    out.close()


def _choose(path: str, colorspace: str = "", ocio: str = "") -> InputColour:
    return colour.choose_input(read_header(path, 1), path, 1, colorspace, ocio)


RAMP = np.linspace(0.05, 0.8, 4 * 6 * 3, dtype=np.float32).reshape(4, 6, 3)
AP0 = (0.7347, 0.2653, 0.0, 1.0, 0.0001, -0.077, 0.32168, 0.33767)


# metadata detection


def test_exr_tagged_with_a_colour_space_is_read_as_that(tmp_path):
    path = str(tmp_path / "f.0001.exr")
    _write(path, RAMP, **{"oiio:ColorSpace": "ACEScct"})
    chosen = _choose(path)
    assert (chosen.colorspace, chosen.chosen_by, chosen.warning) == ("ACEScct", "metadata", None)
    assert chosen.linear == "ACEScg" and chosen.config == BUILTIN_CONFIG


def test_exr_chromaticities_name_the_linear_space(tmp_path):
    path = str(tmp_path / "f.0001.exr")
    _write(path, RAMP, chromaticities=AP0)
    chosen = _choose(path)
    assert (chosen.colorspace, chosen.chosen_by) == ("ACES2065-1", "metadata")
    assert "chromaticities" in chosen.reason


def test_untagged_exr_is_taken_as_scene_linear_without_warning(tmp_path):
    path = str(tmp_path / "f.0001.exr")
    _write(path, RAMP)
    chosen = _choose(path)
    assert (chosen.colorspace, chosen.chosen_by, chosen.warning) == ("ACEScg", "linear", None)
    assert Decoder(chosen).identity


def test_log_dpx_without_metadata_is_assumed_logc3_with_a_warning(tmp_path):
    path = str(tmp_path / "f.0001.dpx")
    _write(path, RAMP, fmt="uint16")
    chosen = _choose(path)
    assert (chosen.colorspace, chosen.chosen_by) == (LOGC3, "assumed")
    assert chosen.warning is not None
    assert LOGC3 in chosen.warning and "--colorspace" in chosen.warning
    assert "f.0001.dpx" in chosen.warning


def test_dpx_transfer_logarithmic_is_a_film_scan(tmp_path):
    path = str(tmp_path / "f.0001.dpx")
    _write(path, RAMP, fmt="uint16", **{"dpx:Transfer": "Logarithmic"})
    chosen = _choose(path)
    assert (chosen.colorspace, chosen.chosen_by) == ("ADX10", "metadata")
    assert "Logarithmic" in chosen.reason


def test_sequence_colour_is_chosen_from_its_first_frame(tmp_path):
    pattern = write_sequence(str(tmp_path), [RAMP, RAMP], ext="dpx", fmt="uint16", bits=10)
    seq = discover(pattern)
    chosen = choose_colour(seq, [1002])
    assert chosen.colorspace == LOGC3 and "frame 1002" in chosen.reason


# the colorspace and ocio parameters


def test_explicit_colorspace_wins_and_aliases_resolve(tmp_path):
    path = str(tmp_path / "f.0001.exr")
    _write(path, RAMP, **{"oiio:ColorSpace": "ACEScct"})
    chosen = _choose(path, colorspace="logc3ei800_alexawide")
    assert (chosen.colorspace, chosen.chosen_by) == (LOGC3, "flag")
    assert _choose(path, colorspace="compositing_log").colorspace == "ACEScct"  # a role


def test_unknown_colorspace_is_a_usage_error_listing_close_matches(tmp_path):
    path = str(tmp_path / "f.0001.exr")
    _write(path, RAMP)
    with pytest.raises(UsageError) as err:
        _choose(path, colorspace="LogC3")
    assert "'LogC3'" in str(err.value) and repr(LOGC3) in str(err.value)
    assert err.value.exit_code == 2
    with pytest.raises(UsageError, match="no close match"):
        _choose(path, colorspace="qqqqqqq")


def test_ocio_config_from_parameter_then_environment(tmp_path, monkeypatch):
    path = str(tmp_path / "f.0001.exr")
    _write(path, RAMP)
    monkeypatch.setenv("OCIO", "ocio://cg-config-latest")
    assert _choose(path).config == "ocio://cg-config-latest"
    assert _choose(path, ocio=BUILTIN_CONFIG).config == BUILTIN_CONFIG
    monkeypatch.delenv("OCIO")
    assert _choose(path).config == BUILTIN_CONFIG


def test_an_ocio_config_that_does_not_load_is_a_usage_error(tmp_path):
    path = str(tmp_path / "f.0001.exr")
    _write(path, RAMP)
    missing = str(tmp_path / "studio.ocio")
    with pytest.raises(UsageError, match="cannot load the OCIO config") as err:
        _choose(path, ocio=missing)
    assert missing in str(err.value) and "--ocio" in str(err.value)


# decoding


@pytest.mark.parametrize(
    "space",
    [LOGC3, "S-Log3 S-Gamut3", "ACEScct", "Log3G10 REDWideGamutRGB", "ARRI LogC4",
     "sRGB Encoded Rec.709 (sRGB)", "Linear Rec.709 (sRGB)", "ACES2065-1", "ADX10"],
)  # fmt: skip
@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float16, np.float32])
def test_decoder_matches_ocio_itself(space, dtype):
    """The baked tables (or the fallback) give what OCIO gives, on codes of every stored type."""
    rng = np.random.default_rng(1)
    if np.dtype(dtype).kind == "u":
        top = np.iinfo(dtype).max
        codes = rng.integers(0, top + 1, (16, 24, 3)).astype(dtype)
        values = codes.astype(np.float32) / top
    else:  # plate values: negative, above 1, denormal
        values = rng.uniform(-0.05, 1.2, (16, 24, 3)).astype(np.float32)
        values[0, :3] = [[-0.01, 1e-6, 3.0], [0.0, 6e-8, 1.0], [0.5, 0.5, 0.5]]
        codes = values.astype(dtype)
        values = codes.astype(np.float32)
    decoder = Decoder(_colour(space))
    got = decoder.decode(codes, (0, 1, 2))
    truth = run_processor(values, space, "ACEScg", BUILTIN_CONFIG)
    assert got.shape == (16, 24, 3) and got.dtype == np.float32
    finite = np.isfinite(truth) & (np.abs(truth) < 1e4)
    np.testing.assert_allclose(got[finite], truth[finite], rtol=2e-3, atol=1e-5)


def test_logc3_dpx_decodes_to_the_linear_plate(tmp_path):
    """linear -> LogC3 10-bit DPX -> read: the plate back, within the 10-bit steps."""
    rng = np.random.default_rng(2)
    linear = np.abs(dark_plate(rng)) * 4 + 0.02
    linear[10, 20] = 8.0  # a hot pixel far above 1.0
    path = str(tmp_path / "f.0001.dpx")
    _write(path, encode(linear, _colour(LOGC3)), fmt="uint16")
    frame = read_frame(path, 1, Decoder(_choose(path)))
    np.testing.assert_allclose(frame.rgb, linear, rtol=0.02, atol=1e-3)
    assert read_frame(path, 1).rgb.max() < 1.0  # without the decoder: log values as stored


def test_acescct_half_with_nan_inf_and_65504(tmp_path):
    """Non-finite values stay non-finite (reported as such); a finite huge code stays finite."""
    pixels = np.full((6, 8, 3), 0.4, np.float32)
    pixels[1, 1] = np.nan
    pixels[2, 2] = np.inf
    pixels[3, 3] = 65504.0
    path = str(tmp_path / "f.0001.exr")
    _write(path, pixels, **{"oiio:ColorSpace": "ACEScct"})
    seq = discover(path)
    canvas, _ = scan_geometry(seq, [1])
    loaded = load_frame(seq, 1, canvas, Decoder(choose_colour(seq, [1])))
    assert loaded.nonfinite is not None
    assert loaded.nonfinite[1, 1] and loaded.nonfinite[2, 2] and not loaded.nonfinite[3, 3]
    assert np.isfinite(loaded.rgb).all()
    assert loaded.rgb[3, 3, 0] == 65504.0
    as_half = np.full((1, 1, 3), 0.4, np.float16).astype(np.float32)
    acescct_04 = run_processor(as_half, "ACEScct", "ACEScg", BUILTIN_CONFIG)
    np.testing.assert_allclose(loaded.rgb[0, 0], acescct_04[0, 0], rtol=1e-3)


def test_alpha_and_gray_channels(tmp_path):
    """Alpha is not colour-converted; a gray DPX is decoded into three equal channels."""
    rgba = np.concatenate([RAMP, np.full((4, 6, 1), 0.25, np.float32)], -1)
    path = str(tmp_path / "a.0001.dpx")
    write_image(path, rgba, channels="RGBA", fmt="uint16", compression=None, bits=10)
    frame = read_frame(path, 1, Decoder(_colour(LOGC3)))
    assert frame.alpha is not None
    np.testing.assert_allclose(frame.alpha, 0.25, atol=1.0 / 1023)
    gray = str(tmp_path / "g.0001.exr")
    write_image(gray, RAMP[..., :1], channels=["Y"], fmt="half")
    frame = read_frame(gray, 1, Decoder(_colour("ACEScct")))
    assert np.array_equal(frame.rgb[..., 0], frame.rgb[..., 2])
    assert np.all(np.diff(frame.rgb[..., 0].ravel()) > 0)  # the ramp stays a ramp


def test_data_window_is_decoded_then_placed(tmp_path):
    path = str(tmp_path / "f.0001.exr")
    write_image(path, RAMP, data_window=(2, 1), display=(10, 8))
    seq = discover(path)
    canvas, _ = scan_geometry(seq, [1])
    loaded = load_frame(seq, 1, canvas, Decoder(_colour("ACEScct")))
    assert loaded.rgb.shape == (4, 6, 3)
    expected = run_processor(read_frame(path, 1).rgb, "ACEScct", "ACEScg", BUILTIN_CONFIG)
    np.testing.assert_allclose(loaded.rgb, expected, rtol=1e-3)


# regression: the same plate in another encoding gives the same answer


def _clip(rng: np.random.Generator) -> tuple[list[np.ndarray], tuple[int, int]]:
    base = dark_plate(rng, 96, 64) * 2
    frames = [base + rng.normal(0, 0.002, base.shape).astype(np.float32) for _ in range(5)]
    frames[2][30, 40] = [1.5, 1.4, 1.6]  # a hot pixel in the centre frame only
    return frames, (40, 30)


def _detections(pattern: str) -> list[tuple[int, int]]:
    seq = discover(pattern)
    canvas, _ = scan_geometry(seq, list(seq.frames))
    decoder = Decoder(choose_colour(seq, list(seq.frames)))
    frames = tuple(load_frame(seq, n, canvas, decoder).rgb for n in seq.frames)
    detector = NeuralDetector(default_model_path(), "cpu")
    prob = detector(Window(frames, tuple(seq.frames), 2))
    found = find_detections(
        prob, prob, frames[2], Geometry.simple(96, 64), 1003, detector.default_threshold, 64
    )
    return sorted((int(d.x), int(d.y)) for d in found.detections)


def test_linear_exr_and_logc3_dpx_give_the_same_detections(tmp_path):
    frames, hot = _clip(np.random.default_rng(3))
    exr = write_sequence(str(tmp_path / "exr"), frames)
    logc = [encode(f, _colour(LOGC3)) for f in frames]
    dpx = write_sequence(str(tmp_path / "dpx"), logc, ext="dpx", fmt="uint16", bits=10)
    from_exr = _detections(exr)
    assert hot in from_exr
    assert _detections(dpx) == from_exr


# evaluation in other encodings


@pytest.mark.parametrize("encoding", ["logc3-dpx10", "slog3-dpx10", "acescct-exr"])
def test_eval_windows_encoded_and_decoded_back(encoding):
    config = WindowConfig(size=(96, 64), defects=(2, 3), points=(1, 2), flash_rate=0, cut_rate=0)
    samples = evaluation_set(["night"], 2, seed=5, config=config)
    assert encoded_set(samples, "linear") is samples
    again = encoded_set(samples, encoding)
    for before, after in zip(samples, again, strict=True):
        assert after.frames.shape == before.frames.shape and after.frames.dtype == np.float32
        assert after.defects == before.defects and np.array_equal(after.target, before.target)
        bright = before.frames > 0.01  # the 10-bit toe is coarse below this
        np.testing.assert_allclose(after.frames[bright], before.frames[bright], rtol=0.03)
        assert not np.array_equal(after.frames, before.frames)  # quantised: not a no-op


def test_detect_decodes_a_logc3_dpx_sequence_like_its_linear_plate(tmp_path):
    """End to end: the same plate as linear EXR and as LogC3 10-bit DPX without colour
    metadata gives the same hot pixel; the report says which encoding and how it was chosen."""
    import json

    from hotpixel.cli.main import main

    rng = np.random.default_rng(7)
    frames = [np.abs(dark_plate(rng)) * 2 + 0.02 for _ in range(5)]
    frames[2][11, 20] = (3.0, 2.6, 2.2)
    write_sequence(str(tmp_path / "lin"), frames)
    logc = [encode(f, _colour(LOGC3)) for f in frames]
    write_sequence(str(tmp_path / "log"), logc, ext="dpx", fmt="uint16", compression=None, bits=10)
    found = {}
    for name, ext in (("lin", "exr"), ("log", "dpx")):
        out = tmp_path / f"qc_{name}"
        args = [
            "detect", str(tmp_path / name / f"shot.####.{ext}"), "--out", str(out),
            "--detector", "classical", "--quiet",
        ]  # fmt: skip
        assert main(args) == 0
        report = json.loads((out / "report.json").read_text())
        found[name] = [(d["frame"], int(d["x"]), int(d["y"])) for d in report["detections"]]
        found[name + "_colour"] = report["colour"]
        found[name + "_warnings"] = [w["code"] for w in report["warnings"]]
    assert found["lin"] == found["log"] == [(1003, 20, 11)]
    assert found["lin_colour"]["chosen_by"] == "linear" and found["lin_warnings"] == []
    assert found["log_colour"]["colorspace"] == LOGC3
    assert found["log_colour"]["chosen_by"] == "assumed"
    assert "colour_assumed" in found["log_warnings"]
