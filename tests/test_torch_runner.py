"""The PyTorch backend runs the shipped model's own weights and agrees with onnxruntime."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("onnx")

from hotpixel.detect.detectors import neural
from hotpixel.detect.detectors.neural import NeuralDetector, choose_backend
from hotpixel.detect.model_file import default_model_path
from hotpixel.detect.windows import Window
from hotpixel.errors import ModelError
from hotpixel.ml.synth.plates import load_plate
from hotpixel.ml.synth.windows import WindowConfig, make_window


@pytest.fixture(scope="module")
def sample():
    """A real plate in motion with defects and persistent lights, at a size that tiles."""
    rng = np.random.default_rng(7)
    config = WindowConfig(size=(150, 110), defects=(6, 6), points=(4, 4))
    return make_window([load_plate("night")], rng, config)


def _window(sample) -> Window:
    return Window(tuple(np.ascontiguousarray(f) for f in sample.frames), (1, 2, 3, 4, 5), 2)


def test_torch_backend_matches_onnxruntime_on_a_real_plate(sample):
    window = _window(sample)
    reference = NeuralDetector(default_model_path(), "cpu", tile=64)
    assert reference.runtime == "onnxruntime (CPU)"
    ort = reference(window)
    det = NeuralDetector(default_model_path(), "cpu", tile=64, backend="torch")
    assert det.backend == "torch" and det.runtime == "PyTorch (cpu, fp32)"
    got = det(window)
    np.testing.assert_allclose(got, ort, atol=2e-5)
    threshold = det.default_threshold
    assert ((got >= threshold) == (ort >= threshold)).all()
    assert (ort >= threshold).any(), "the sample should hold detections to compare"


def test_torch_tiles_equal_the_whole_frame(sample):
    window = _window(sample)
    det = NeuralDetector(default_model_path(), "cpu", backend="torch")
    whole = det(window)
    det.tile = 40
    np.testing.assert_allclose(det(window), whole, atol=1e-5)


def test_frames_are_uploaded_once_per_sequence(sample):
    det = NeuralDetector(default_model_path(), "cpu", backend="torch")
    frames = [np.ascontiguousarray(f) for f in sample.frames]
    runner = det._torch
    det(Window(tuple(frames), (1, 2, 3, 4, 5), 2))
    first = [id(t) for _, t in runner._cache]
    # the next window shares four frames: only the new one is uploaded
    shifted = (*frames[1:], frames[0].copy())
    det(Window(shifted, (2, 3, 4, 5, 6), 2))
    second = [id(t) for _, t in runner._cache]
    assert len(first) == len(second) == 5
    assert first[1:] == second[:4] and second[4] not in first


def test_reduced_precision_stays_close(sample):
    window = _window(sample)
    fp32 = NeuralDetector(default_model_path(), "cpu", backend="torch")(window)
    bf16 = NeuralDetector(default_model_path(), "cpu", backend="torch", precision="bf16")(window)
    assert not np.array_equal(bf16, fp32), "bf16 should actually run in reduced precision"
    assert np.abs(bf16 - fp32).max() < 0.1


def test_backend_choice_is_explained_when_no_gpu(monkeypatch):
    monkeypatch.setattr(neural, "_ort_has_cuda", lambda: False)
    monkeypatch.setattr(neural, "_torch_has_cuda", lambda: False)
    assert choose_backend("auto") == ("onnxruntime", "cpu")
    assert choose_backend("cpu", "torch") == ("torch", "cpu")
    with pytest.raises(ModelError, match=r"neither onnxruntime.*nor PyTorch.*--device cpu"):
        choose_backend("cuda")
    with pytest.raises(ModelError, match="PyTorch sees no CUDA GPU"):
        choose_backend("cuda", "torch")
    with pytest.raises(ModelError, match="choose one of"):
        choose_backend("auto", "tensorrt")
    with pytest.raises(ModelError, match="PyTorch backend only"):
        NeuralDetector(default_model_path(), "cpu", precision="fp16")


def test_gpu_goes_to_torch_only_when_onnxruntime_cannot_reach_it(monkeypatch):
    monkeypatch.setattr(neural, "_torch_has_cuda", lambda: True)
    monkeypatch.setattr(neural, "_ort_has_cuda", lambda: False)
    assert choose_backend("auto") == ("torch", "cuda")
    assert choose_backend("cuda") == ("torch", "cuda")
    assert choose_backend("cpu") == ("onnxruntime", "cpu")
    monkeypatch.setattr(neural, "_ort_has_cuda", lambda: True)
    assert choose_backend("auto") == ("onnxruntime", "auto")


def test_network_shape_comes_from_the_metadata(tmp_path, sample):
    """A model with the wide motion tolerance rebuilds from its training config and agrees."""
    import torch

    from hotpixel.detect.detectors.network import ModelConfig, TemporalDetector
    from hotpixel.ml.training.export import export_model
    from hotpixel.ml.training.train import TrainConfig

    torch.manual_seed(5)
    config = TrainConfig(model=ModelConfig(width=8, far_reach=12))
    path = str(tmp_path / "far.onnx")
    export_model(TemporalDetector(config.model).eval(), config, path, "far-test")
    window = _window(sample)
    ort = NeuralDetector(path, "cpu", tile=64)(window)
    det = NeuralDetector(path, "cpu", tile=64, backend="torch")
    assert det._torch is not None and det._torch.net.config == config.model
    np.testing.assert_allclose(det(window), ort, atol=2e-5)
