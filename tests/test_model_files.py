"""Model and checkpoint files from elsewhere: wrong-shaped, truncated, badly described or
carrying code are refused with exit 5 and a message naming the file, never run."""

from __future__ import annotations

import pathlib

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper  # noqa: E402

from hotpixel.cli.main import main  # noqa: E402
from hotpixel.detect.cascade.detector import default_classifier_path  # noqa: E402
from hotpixel.detect.cascade.encoding import CHANNELS, PATCH, SCALARS  # noqa: E402
from hotpixel.detect.model_file import FORMAT, load_classifier, load_session  # noqa: E402
from hotpixel.errors import ModelError  # noqa: E402
from imagegen import dark_plate, write_sequence  # noqa: E402

DENSE_META = {
    "format": FORMAT,
    "model_version": "made-in-test",
    "window": "5",
    "channels": "R,G,B",
    "normalisation": "none",
    "halo": "12",
}


def _save(graph: onnx.GraphProto, path: pathlib.Path, meta: dict[str, str]) -> str:
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    helper.set_model_props(model, meta)
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return str(path)


def _dense(path: pathlib.Path, frames: int = 5, channels: int = 3, **meta: str) -> str:
    """A stand-in dense model: the brightest value over frames and channels, any H x W."""
    graph = helper.make_graph(
        [
            helper.make_node("ReduceMax", ["window"], ["m"], axes=[2], keepdims=0),
            helper.make_node("ReduceMax", ["m"], ["probability"], axes=[1], keepdims=1),
        ],
        "dense",
        [
            helper.make_tensor_value_info(
                "window", TensorProto.FLOAT, [1, frames, channels, "h", "w"]
            )
        ],
        [helper.make_tensor_value_info("probability", TensorProto.FLOAT, [1, 1, "h", "w"])],
    )
    return _save(graph, path, {**DENSE_META, **meta})


def _classifier(path: pathlib.Path, channels: int, scalars: int) -> str:
    """A stand-in cascade classifier taking ``(n, channels, 9, 9)`` and ``(n, scalars)``."""
    graph = helper.make_graph(
        [
            helper.make_node("ReduceMax", ["patches"], ["p"], axes=[1, 2, 3], keepdims=0),
            helper.make_node("ReduceMax", ["scalars"], ["s"], axes=[1], keepdims=0),
            helper.make_node("Add", ["p", "s"], ["a"]),
            helper.make_node("Unsqueeze", ["a", "one"], ["probability"]),
        ],
        "classifier",
        [
            helper.make_tensor_value_info("patches", TensorProto.FLOAT, ["n", channels, 9, 9]),
            helper.make_tensor_value_info("scalars", TensorProto.FLOAT, ["n", scalars]),
        ],
        [helper.make_tensor_value_info("probability", TensorProto.FLOAT, ["n", 1])],
        [helper.make_tensor("one", TensorProto.INT64, [1], [1])],
    )
    meta = {
        "format": "hotpixel-cascade-1",
        "model_version": "made-in-test",
        "patch": str(PATCH),
        "scalars": ",".join(SCALARS[:scalars]) if scalars <= len(SCALARS) else "x",
        "threshold": "0.5",
        "candidates": "4.0",
    }
    return _save(graph, path, meta)


def _plate(folder: pathlib.Path) -> str:
    rng = np.random.default_rng(3)
    return write_sequence(str(folder), [dark_plate(rng, 48, 40) for _ in range(5)])


def test_right_shapes_load_and_wrong_channel_count_is_refused(tmp_path):
    assert load_session(_dense(tmp_path / "ok.onnx"), "cpu")[1].window == 5
    with pytest.raises(ModelError, match=r"window of shape \(1, 5, 4, h, w\).*\(N, 5, 3, any"):
        load_session(_dense(tmp_path / "four.onnx", channels=4), "cpu")


def test_model_whose_window_differs_from_its_metadata_is_refused(tmp_path):
    with pytest.raises(ModelError, match=r"'.*three.onnx' has window of shape \(1, 3, 3"):
        load_session(_dense(tmp_path / "three.onnx", frames=3), "cpu")


@pytest.mark.parametrize(
    ("key", "value", "match"),
    [
        ("window", "five", "not a whole number"),
        ("window", "4", "must be odd"),
        ("threshold", "high", "not a number in 0..1"),
        ("halo", "", "not a whole number"),
    ],
)
def test_bad_metadata_values_are_refused_not_a_traceback(tmp_path, key, value, match):
    with pytest.raises(ModelError, match=match):
        load_session(_dense(tmp_path / "m.onnx", **{key: value}), "cpu")


def test_classifier_of_the_right_shape_loads_and_a_wrong_one_is_refused(tmp_path):
    ok = _classifier(tmp_path / "ok.onnx", CHANNELS, len(SCALARS))
    assert load_classifier(ok, "cpu", CHANNELS, PATCH, SCALARS)[1].patch == PATCH
    wrong = _classifier(tmp_path / "wrong.onnx", CHANNELS - 6, len(SCALARS))
    with pytest.raises(ModelError, match=rf"patches of shape \(n, {CHANNELS - 6}, 9, 9\)"):
        load_classifier(wrong, "cpu", CHANNELS, PATCH, SCALARS)
    fewer = _classifier(tmp_path / "fewer.onnx", CHANNELS, len(SCALARS) - 2)
    with pytest.raises(ModelError, match="scalars"):
        load_classifier(fewer, "cpu", CHANNELS, PATCH, SCALARS)


@pytest.mark.parametrize("detector", ["cascade", "neural"])
def test_wrong_shaped_model_on_the_command_line_exits_5(tmp_path, capsys, detector):
    wrong = (
        _classifier(tmp_path / "w.onnx", CHANNELS - 6, len(SCALARS))
        if detector == "cascade"
        else _dense(tmp_path / "w.onnx", channels=4)
    )
    args = ["detect", _plate(tmp_path / "plate"), "--out", str(tmp_path / "qc")]
    assert main([*args, "--detector", detector, "--model", wrong, "--quiet"]) == 5
    err = capsys.readouterr().err
    assert err.startswith("hotpixel: error: ") and "w.onnx" in err and "shape" in err


@pytest.mark.parametrize("detector", ["cascade", "neural"])
def test_truncated_model_exits_5_naming_the_file(tmp_path, capsys, detector):
    source = default_classifier_path() if detector == "cascade" else _dense(tmp_path / "d.onnx")
    data = pathlib.Path(source).read_bytes()
    cut = tmp_path / "cut.onnx"
    cut.write_bytes(data[: len(data) // 2])
    args = ["detect", _plate(tmp_path / "plate"), "--out", str(tmp_path / "qc")]
    assert main([*args, "--detector", detector, "--model", str(cut), "--quiet"]) == 5
    err = capsys.readouterr().err
    assert "cut.onnx" in err and "cannot be loaded" in err and "Traceback" not in err


# --- training checkpoints (torch) -----------------------------------------------------------


class Payload:
    """What a hostile checkpoint carries: unpickling it would create ``marker``."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (pathlib.Path.touch, (pathlib.Path(self.marker),))


def _checkpoint(path: pathlib.Path, **extra: object) -> str:
    torch = pytest.importorskip("torch")
    from hotpixel.detect.detectors.network import TemporalDetector
    from hotpixel.ml.training.train import TrainConfig

    config = TrainConfig()
    blob = {"config": config.as_dict(), "state_dict": TemporalDetector(config.model).state_dict()}
    torch.save({**blob, **extra}, str(path))
    return str(path)


def test_checkpoint_round_trip_loads_with_weights_only(tmp_path):
    pytest.importorskip("torch")
    from hotpixel.ml.training.train import TrainConfig, load_checkpoint

    model, config = load_checkpoint(_checkpoint(tmp_path / "checkpoint.pt"))
    assert config == TrainConfig() and not model.training


def test_pickled_checkpoint_with_a_payload_is_refused_and_never_runs(tmp_path, capsys):
    pytest.importorskip("torch")
    from hotpixel.ml.training.train import load_checkpoint

    marker = tmp_path / "ran"
    evil = _checkpoint(tmp_path / "evil.pt", extra=Payload(str(marker)))
    with pytest.raises(ModelError, match=r"evil\.pt.*holds Python objects.*refused"):
        load_checkpoint(evil)
    out = ["--out", str(tmp_path / "m.onnx"), "--version", "v"]
    assert main(["export", evil, *out]) == 5
    assert "refused" in capsys.readouterr().err
    assert not marker.exists() and not (tmp_path / "m.onnx").exists()


@pytest.mark.parametrize("damage", ["truncated", "foreign"])
def test_damaged_or_foreign_checkpoint_is_refused(tmp_path, damage):
    torch = pytest.importorskip("torch")
    from hotpixel.ml.training.train import load_checkpoint

    path = tmp_path / "checkpoint.pt"
    if damage == "truncated":
        data = pathlib.Path(_checkpoint(path)).read_bytes()
        path.write_bytes(data[: len(data) // 2])
    else:
        torch.save({"weights": torch.zeros(3)}, str(path))
    with pytest.raises(ModelError, match=r"checkpoint\.pt.*(cannot be read|is not a hotpixel)"):
        load_checkpoint(str(path))
