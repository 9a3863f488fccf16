"""The neural detector's life: train (smoke), export, parity, metadata checks, tiled inference."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
onnx = pytest.importorskip("onnx")

from hotpixel.detect.detectors.network import (  # noqa: E402
    ModelConfig,
    TemporalDetector,
    count_parameters,
    macs_per_pixel,
    normalise,
)
from hotpixel.detect.detectors.neural import NeuralDetector  # noqa: E402
from hotpixel.detect.model_file import default_model_path, load_session  # noqa: E402
from hotpixel.detect.windows import Window  # noqa: E402
from hotpixel.errors import ModelError  # noqa: E402
from hotpixel.ml.training.export import export, export_model  # noqa: E402
from hotpixel.ml.training.train import TrainConfig, load_checkpoint, loss_fn, train  # noqa: E402


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A few-step training run and its export: the whole path, small."""
    folder = tmp_path_factory.mktemp("train")
    config = TrainConfig(steps=3, pool=6, batch=2)
    checkpoint = train(config, str(folder), log=lambda _: None)
    onnx_path = export(checkpoint, str(folder / "m.onnx"), "test-1", lineage="smoke")
    return checkpoint, onnx_path


def test_training_smoke_writes_config_and_weights(trained):
    checkpoint, _ = trained
    model, config = load_checkpoint(checkpoint)
    assert config.steps == 3 and config.model == ModelConfig()
    assert count_parameters(model) > 1000


def test_export_parity_with_torch(trained):
    checkpoint, onnx_path = trained
    model, _ = load_checkpoint(checkpoint)
    rng = np.random.default_rng(0)
    x = (rng.uniform(0, 1, (1, 5, 3, 37, 53)) ** 3 * 8).astype(np.float32)  # odd size: dynamic
    with torch.no_grad():
        expected = model(torch.from_numpy(x)).numpy()
    session, info = load_session(onnx_path, "cpu")
    got = session.run(None, {"window": x})[0]
    np.testing.assert_allclose(got, expected, atol=1e-5)
    assert info.version == "test-1" and info.window == 5
    assert info.metadata["lineage"] == "smoke"
    assert "log2" in info.metadata["normalisation"]


def test_tiles_equal_the_whole_frame(trained):
    _, onnx_path = trained
    rng = np.random.default_rng(1)
    frames = tuple(rng.uniform(0, 2, (70, 90, 3)).astype(np.float32) for _ in range(5))
    window = Window(frames, (1, 2, 3, 4, 5), 2)
    whole = NeuralDetector(onnx_path, "cpu", tile=512)(window)
    tiled = NeuralDetector(onnx_path, "cpu", tile=24)(window)
    assert whole.shape == (70, 90)
    np.testing.assert_allclose(tiled, whole, atol=1e-5)


def test_metadata_is_checked(tmp_path, trained):
    checkpoint, _ = trained
    model, config = load_checkpoint(checkpoint)
    bare = str(tmp_path / "bare.onnx")
    torch.onnx.export(
        model,
        (torch.rand(1, 5, 3, 16, 16),),
        bare,
        dynamo=False,
        input_names=["window"],
        output_names=["probability"],
    )
    with pytest.raises(ModelError, match=r"lacks metadata.*hotpixel export"):
        load_session(bare, "cpu")
    with pytest.raises(ModelError, match="does not exist"):
        load_session(str(tmp_path / "none.onnx"), "cpu")
    path = export_model(model, config, str(tmp_path / "ok.onnx"), "v")
    proto = onnx.load(path)
    for p in proto.metadata_props:
        if p.key == "format":
            p.value = "other-format"
    onnx.save(proto, path)
    with pytest.raises(ModelError, match="has format 'other-format'"):
        load_session(path, "cpu")


def test_cuda_request_without_cuda_is_a_clear_error(trained):
    import onnxruntime as ort

    if "CUDAExecutionProvider" in ort.get_available_providers():
        pytest.skip("this machine has CUDA")
    with pytest.raises(ModelError, match="no CUDA provider"):
        load_session(trained[1], "cuda")


def test_normalisation_maps_plate_ranges():
    x = torch.tensor([-1.0, 0.0, 1.0, 65504.0, float(2**-8)])
    t = normalise(x)
    assert t[0] == t[1] == 0.0
    assert t[2] == pytest.approx(1.0, abs=0.01)
    assert 2.9 < float(t[3]) < 3.1


def test_size_figures():
    model = TemporalDetector(ModelConfig())
    assert count_parameters(model) < 50_000
    assert macs_per_pixel(model) < 50_000


def test_single_frame_variant_ignores_neighbours():
    model = TemporalDetector(ModelConfig(temporal=False)).eval()
    x = torch.rand(1, 5, 3, 16, 16)
    y = x.clone()
    y[:, [0, 1, 3, 4]] = torch.rand(1, 4, 3, 16, 16)
    with torch.no_grad():
        assert torch.allclose(model(x), model(y))


def test_shipped_model_loads_when_present():
    import os

    path = default_model_path()
    if not os.path.isfile(path):
        pytest.skip("no shipped model yet")
    _, info = load_session(path, "cpu")
    assert info.window == 5 and info.temporal


def test_neural_finds_clear_defects_through_the_pipeline(tmp_path):
    """Through the whole pipeline with the shipped model: clear defects found where injected."""
    from hotpixel.params import DetectParams
    from hotpixel.run.detect import run_detect
    from hotpixel.run.job import DetectJob
    from imagegen import clear_defect_plate

    pattern, defects = clear_defect_plate(str(tmp_path / "p"), (96, 64), 2, (0.0, 2.0))
    neural = DetectParams(detector="neural")
    report = run_detect(DetectJob(pattern, str(tmp_path / "o"), params=neural)).report
    assert report["detector"]["name"] == "neural"
    assert report["detector"]["model_version"].startswith("temporal-")
    centre = [d for d in report["detections"] if d["frame"] == 1003]
    for t in defects:
        assert any(abs(d["x"] - t.x) < 0.6 and abs(d["y"] - t.y) < 0.6 for d in centre), t
    assert len(centre) <= len(defects) + 1


def test_train_and_export_commands(tmp_path, capsys):
    """The CLI path an ML engineer takes: a config file in, a checked model file out."""
    import json

    from hotpixel.cli.main import main

    config = TrainConfig(steps=2, pool=4, batch=2).as_dict()
    (tmp_path / "c.json").write_text(json.dumps(config))
    assert (
        main(
            [
                "train",
                "--detector",
                "neural",
                "--out",
                str(tmp_path / "run"),
                "--config",
                str(tmp_path / "c.json"),
                "--seed",
                "3",
            ]
        )
        == 0
    )
    _, loaded = load_checkpoint(str(tmp_path / "run" / "checkpoint.pt"))
    assert loaded.seed == 3 and loaded.steps == 2
    model = str(tmp_path / "m.onnx")
    args = [
        "export",
        str(tmp_path / "run" / "checkpoint.pt"),
        "--out",
        model,
        "--version",
        "cli-1",
        "--threshold",
        "0.7",
    ]
    assert main(args) == 0
    _, info = load_session(model, "cpu")
    assert (info.version, info.threshold) == ("cli-1", 0.7)
    assert main(["export", str(tmp_path / "none.pt"), "--out", model, "--version", "x"]) == 5
    assert "does not exist" in capsys.readouterr().err


@pytest.fixture(scope="module")
def far_model(tmp_path_factory):
    """An untrained network with the wide motion tolerance, exported."""
    torch.manual_seed(3)
    config = TrainConfig(model=ModelConfig(far_reach=12))
    model = TemporalDetector(config.model).eval()
    path = str(tmp_path_factory.mktemp("far") / "far.onnx")
    export_model(model, config, path, "far-test")
    return model, path


def test_far_reach_sees_a_light_that_moved_beyond_reach():
    model = TemporalDetector(ModelConfig(far_reach=12)).eval()
    x = torch.full((1, 5, 3, 40, 40), 0.05)
    x[:, 2, :, 20, 20] = 4.0  # bright in the centre frame
    near = x.clone()
    near[:, 1, :, 20, 22] = 4.0  # the same light 2 px away in a neighbour
    far = x.clone()
    far[:, 1, :, 20, 30] = 4.0  # 10 px away: beyond reach 3, within far_reach 12
    with torch.no_grad():
        f_alone, f_near, f_far = (model.features(v)[0, :, 20, 20] for v in (x, near, far))
    # the last three features are centre minus the neighbours' brightest within far_reach
    assert (f_alone[-3:] > 0.5).all() and (f_far[-3:].abs() < 1e-6).all()
    assert (f_near[-6:-3].abs() < 1e-6).all()  # the near feature sees the 2 px move
    assert (f_far[-6:-3] > 0.5).all()  # but not the 10 px one


def test_far_reach_export_parity_and_halo(far_model):
    model, path = far_model
    rng = np.random.default_rng(2)
    x = (rng.uniform(0, 1, (1, 5, 3, 45, 61)) ** 3 * 8).astype(np.float32)
    with torch.no_grad():
        expected = model(torch.from_numpy(x)).numpy()
    session, info = load_session(path, "cpu")
    np.testing.assert_allclose(session.run(None, {"window": x})[0], expected, atol=1e-5)
    assert info.halo == 8 + 12 + 1
    frames = tuple(np.ascontiguousarray(x[0, t].transpose(1, 2, 0)) for t in range(5))
    window = Window(frames, (1, 2, 3, 4, 5), 2)
    whole = NeuralDetector(path, "cpu", tile=512)(window)
    tiled = NeuralDetector(path, "cpu", tile=20)(window)  # tiles narrower than the halo
    np.testing.assert_allclose(tiled, whole, atol=1e-5)


def test_faint_defects_are_left_out_of_the_loss():
    config = TrainConfig()
    logits = torch.full((1, 1, 8, 8), -3.0)
    target = torch.zeros(1, 1, 8, 8)
    target[..., 2, 2] = 1.0  # a missed defect
    hard = torch.zeros_like(target)
    keep = torch.ones_like(target)
    missed = loss_fn(logits, target, hard, config, keep)
    keep[..., 2, 2] = 0.0
    ignored = loss_fn(logits, target, hard, config, keep)
    clean = loss_fn(logits, torch.zeros_like(target), hard, config)
    assert missed > ignored
    # leaving the defect out costs what the other 63 pixels cost, as if it were not there
    assert float(ignored) == pytest.approx(float(clean) * 63 / 64, rel=1e-5)


def test_train_refuses_a_flag_of_the_other_detectors_trainer(capsys):
    """``hotpixel train`` trains the cascade by default; the dense network's flags say so."""
    from hotpixel.cli.main import main

    assert main(["train", "--out", "x", "--config", "c.json"]) == 2
    err = capsys.readouterr().err
    assert "--config applies to --detector neural" in err
    assert main(["train", "--detector", "neural", "--out", "x", "--epochs", "3"]) == 2
    assert "--epochs applies to --detector cascade" in capsys.readouterr().err
