"""Fine-tuning from labels: the shipped weights load into PyTorch, labels become targets,
a few-step run exports a model the engine accepts, with its lineage."""

from __future__ import annotations

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("onnx")

from hotpixel.cli.main import main  # noqa: E402
from hotpixel.detect.model_file import default_model_path, load_session  # noqa: E402
from hotpixel.errors import InputError  # noqa: E402
from hotpixel.ml.training.finetune import (  # noqa: E402
    FinetuneConfig,
    finetune,
    labelled_set,
    model_from_onnx,
)
from hotpixel.outputs import labels  # noqa: E402
from imagegen import dark_plate, write_sequence  # noqa: E402

SMALL = FinetuneConfig(steps=2, batch=4, synthetic_pool=4, crops=2)


@pytest.fixture(scope="module")
def reviewed(tmp_path_factory):
    """A detected shot with one detection accepted and one rejected in labels.json."""
    root = tmp_path_factory.mktemp("ft")
    rng = np.random.default_rng(3)
    frames = [dark_plate(rng, 80, 64) for _ in range(6)]
    frames[2][20, 30] = (3.0, 3.0, 3.0)
    frames[3][40, 60] = (2.0, 2.0, 2.0)
    pattern = write_sequence(str(root / "plate"), frames)
    out = root / "qc"
    assert main(["detect", "--detector", "classical", pattern, "--out", str(out), "--quiet"]) == 0
    report = json.loads((out / "report.json").read_text())
    dets = report["detections"]
    assert [(d["frame"], d["x"], d["y"]) for d in dets] == [(1003, 30.5, 20.5), (1004, 60.5, 40.5)]
    found = labels.new_labels(report)
    ids = labels.detection_ids(dets)
    labels.set_label(found, ids[0], dets[0], "accept")
    labels.set_label(found, ids[1], dets[1], "reject")
    labels.save_labels(str(out), found)
    return out


def test_shipped_weights_load_into_pytorch_with_parity():
    path = default_model_path()
    model, config, meta = model_from_onnx(path)
    assert meta["model_version"] == "temporal-v2" and config.model.temporal
    x = torch.rand(1, 5, 3, 40, 48) * 2
    with torch.no_grad():
        ours = model(x).numpy()
    session, _ = load_session(path, "cpu")
    theirs = session.run(None, {"window": x.numpy()})[0]  # type: ignore[attr-defined]
    np.testing.assert_allclose(ours, theirs, atol=1e-4)


def test_labels_become_targets_and_hard_negatives(reviewed):
    data = labelled_set([str(reviewed / "labels.json")], SMALL, np.random.default_rng(0))
    assert (data.accepted, data.rejected) == (1, 1)
    assert data.frames.shape == (4, 5, 3, 64, 64)
    # patches 0-1 are around the accepted defect: a positive pixel holding the hot value
    for i in (0, 1):
        ys, xs = np.nonzero(data.target[i, 0].numpy())
        assert len(ys) == 1
        assert float(data.frames[i, 2, 0, ys[0], xs[0]]) == pytest.approx(3.0, rel=1e-3)
        assert float(data.hard[i].sum()) == 0
    # patches 2-3 are around the rejected one: no positive, a weighted-up box on the spot
    for i in (2, 3):
        assert float(data.target[i].sum()) == 0
        hard = data.hard[i, 0].numpy()
        ys, xs = np.nonzero(hard)
        assert len(ys) == 25  # the 1x1 box grown by 2 px
        cy, cx = int(ys.mean()), int(xs.mean())
        assert float(data.frames[i, 2, 0, cy, cx]) == pytest.approx(2.0, rel=1e-3)


def test_finetune_exports_a_model_the_engine_accepts(reviewed, tmp_path):
    out = str(tmp_path / "ft.onnx")
    finetune(
        [str(reviewed / "labels.json")],
        default_model_path(),
        out,
        "v1-ft-test",
        SMALL,
        log=lambda _: None,
    )
    _, info = load_session(out, "cpu")
    reviewed_at = json.loads((reviewed / "labels.json").read_text())["threshold"]
    assert reviewed_at == 0.5  # the shot was detected (and so reviewed) at 0.5, not at 0.8
    # the new model operates where its false positives were reviewed, not at the base's 0.8
    assert info.version == "v1-ft-test" and info.threshold == 0.5
    _, _, meta = model_from_onnx(out)
    assert "finetuned from temporal-v2 on 1 accepted / 1 rejected" in meta["lineage"]
    assert "operating threshold 0.5" in meta["lineage"]
    assert meta["lineage"].startswith("synthetic only")


def test_finetune_threshold_can_be_given(reviewed, tmp_path):
    out = str(tmp_path / "ft.onnx")
    cfg = FinetuneConfig(steps=1, batch=4, synthetic_pool=4, crops=2, threshold=0.7)
    finetune([str(reviewed / "labels.json")], default_model_path(), out, "t", cfg, log=print)
    assert load_session(out, "cpu")[1].threshold == 0.7


def test_finetune_command(reviewed, tmp_path, capsys):
    out = tmp_path / "cli.onnx"
    args = ["finetune", "--detector", "neural", "--labels", str(reviewed / "labels.json")]
    args += ["--out", str(out)]
    assert main([*args, "--steps", "1", "--synthetic-share", "0"]) == 0
    assert out.stat().st_size > 10_000
    assert main([*args, "--synthetic-share", "1.5"]) == 2
    assert main([*args, "--threshold", "1.5"]) == 2
    missing = ["finetune", "--labels", str(tmp_path / "none.json"), "--out", str(out)]
    assert main(missing) == 3
    assert "none.json" in capsys.readouterr().err


def test_labels_with_only_skips_are_refused(reviewed, tmp_path):
    data = json.loads((reviewed / "labels.json").read_text())
    for v in data["labels"].values():
        v["label"] = "skip"
    path = reviewed / "skips.json"
    path.write_text(json.dumps(data))
    with pytest.raises(InputError, match="no accepted or rejected"):
        labelled_set([str(path)], SMALL, np.random.default_rng(0))


def test_verdicts_on_sensor_positions_are_left_out(reviewed):
    """A sensor-only review (no threshold) does not train the one-frame model, nor crash it."""
    data = json.loads((reviewed / "labels.json").read_text())
    only_sensor = {**data, "threshold": None}
    only_sensor["labels"] = {
        "sensor_stuck_1": {**next(iter(data["labels"].values())), "label": "accept"}
    }
    path = reviewed / "sensor_only.json"
    path.write_text(json.dumps(only_sensor))
    with pytest.raises(InputError, match="sensor positions do not train"):
        labelled_set([str(path)], SMALL, np.random.default_rng(0))
    mixed = reviewed / "mixed.json"
    data["labels"]["sensor_dead_2"] = {**next(iter(data["labels"].values())), "label": "reject"}
    mixed.write_text(json.dumps(data))
    both = labelled_set([str(mixed), str(path)], SMALL, np.random.default_rng(0))
    assert (both.accepted, both.rejected) == (1, 1)  # the sensor verdicts counted nowhere
